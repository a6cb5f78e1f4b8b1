#!/usr/bin/env bash
# The main job: installs what is missing, builds if needed, and runs the worker in the foreground
# with the plugin named by BACKEND (default hello_world) on WORKER_PORT (default 3000). Every
# cppworker flag may follow, e.g. `launch/start_server.sh --log-level debug`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

preset=${CPPWORKER_PRESET:-default}
configure_and_build "$preset" cppworker cppworker_bundled_plugins
exec "$root/build/$preset/bin/cppworker" "$@"
