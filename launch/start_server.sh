#!/usr/bin/env bash
# The main job: installs what is missing, builds if needed, and runs the worker in the foreground
# with the plugin named by BACKEND (default hello_world) on WORKER_PORT (default 3000). Every
# cppworker flag may follow, e.g. `launch/start_server.sh --log-level debug`.
#
# The worker runs supervised (WORKER_SUPERVISE=false runs it as one plain process): this script's
# pid becomes the master's, which restarts a crashed worker, and on SIGHUP (launch/reload.sh)
# replaces it with one that loads the plugin .so afresh, without failing a request.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

preset=${CPPWORKER_PRESET:-default}
configure_and_build "$preset" cppworker cppworker_bundled_plugins
export WORKER_SUPERVISE=${WORKER_SUPERVISE:-true}
exec "$root/build/$preset/bin/cppworker" "$@"
