#!/usr/bin/env bash
# Reloads the supervised worker on WORKER_PORT (default 3000), e.g. after its plugin .so was
# replaced on disk (install it under a temporary name and rename it into place, as `install` does,
# so that no worker ever loads half a file). A new worker loads the plugin afresh and takes the
# traffic once loaded; the old one finishes what it has in flight, then exits. No request fails.
# The master's pid is read from $CPPWORKER_RUN_DIR/cppworker-<port>.pid (default /tmp), which
# the master of launch/start_server.sh (or the bundle's bin/start_server.sh) writes; this script
# sends it SIGHUP, so `kill -HUP <pid of start_server.sh>` does the same. It first checks that the
# pid names a master, one whose children are titled "<name>: worker (generation N)" (a pid file
# left behind may name another process by now), and lists the workers it saw. Once the reload is
# complete, `pgrep -a -f ': worker \(generation'` (or `ps -o pid,args --ppid <pid>`) shows a
# worker of the next generation in their place.
set -euo pipefail

port=${WORKER_PORT:-3000}
pid_file=${CPPWORKER_RUN_DIR:-/tmp}/cppworker-$port.pid
if [ ! -r "$pid_file" ]; then
  echo "reload: no $pid_file: no supervised worker serves port $port (started with start_server.sh or --supervise?)" >&2
  exit 1
fi
pid=$(cat "$pid_file")
if ! kill -0 "$pid" 2>/dev/null; then
  echo "reload: $pid_file names pid $pid, which is not running" >&2
  exit 1
fi
# The master's workers, "<pid> <command line>" a line, read from /proc rather than with pgrep,
# which a slim container image may lack.
workers=
for dir in /proc/[0-9]*; do
  { read -r stat <"$dir/stat"; } 2>/dev/null || continue
  read -r _ ppid _ <<<"${stat##*) }"
  [ "$ppid" = "$pid" ] || continue
  title=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
  if [[ $title =~ ^[^:]+:\ worker\ \(generation\ [0-9]+\) ]]; then workers+="${dir#/proc/} $title"$'\n'; fi
done
if [ -z "$workers" ]; then
  echo "reload: pid $pid (from $pid_file) has no worker process: it is no cppworker master, or its worker is" \
    "being restarted after a crash (and loads the plugin afresh then anyway); nothing sent" >&2
  exit 1
fi
kill -HUP "$pid"
echo "reload: asked the master of port $port (pid $pid) to reload; its log says when the new worker serves. Workers until then:"
printf '%s' "$workers"
