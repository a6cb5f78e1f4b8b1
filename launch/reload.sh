#!/usr/bin/env bash
# Reloads the supervised worker on WORKER_PORT (default 3000), e.g. after its plugin .so was
# replaced on disk (install it under a temporary name and rename it into place, as `install` does,
# so that no worker ever loads half a file). A new worker loads the plugin afresh and takes the
# traffic once loaded; the old one finishes what it has in flight, then exits. No request fails.
# The master's pid is read from $CPPWORKER_RUN_DIR/cppworker-<port>.pid (default /tmp), which
# launch/start_server.sh's worker writes; this script only sends it SIGHUP, so
# `kill -HUP <pid of start_server.sh>` does the same.
set -euo pipefail

port=${WORKER_PORT:-3000}
pid_file=${CPPWORKER_RUN_DIR:-/tmp}/cppworker-$port.pid
if [ ! -r "$pid_file" ]; then
  echo "reload: no $pid_file: no supervised worker serves port $port (started with launch/start_server.sh or --supervise?)" >&2
  exit 1
fi
pid=$(cat "$pid_file")
if ! kill -0 "$pid" 2>/dev/null; then
  echo "reload: $pid_file names pid $pid, which is not running" >&2
  exit 1
fi
kill -HUP "$pid"
echo "reload: asked the worker on port $port (supervisor pid $pid) to reload; its log says when the new worker serves"
