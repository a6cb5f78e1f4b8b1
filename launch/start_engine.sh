#!/usr/bin/env bash
# The whole loop on one machine: installs what is missing, builds the engine, the worker and the
# bundled plugins if needed, and runs cppworker-engine in the foreground on ENGINE_PORT (default
# 8080, where Vast's client looks for a local engine) with launch/engine.json: one template per
# bundled plugin and one endpoint, "hello_world", of 1 to 3 hello_world workers. The endpoint's API
# key and the account key are printed at start. Every cppworker-engine flag may follow, e.g.
# `launch/start_engine.sh --log-level debug`; ENGINE_CONFIG names another config file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

preset=${CPPWORKER_PRESET:-default}
configure_and_build "$preset" cppworker-engine cppworker cppworker_bundled_plugins
export ENGINE_CONFIG=${ENGINE_CONFIG:-$root/launch/engine.json}
export ENGINE_RUN_DIR=${ENGINE_RUN_DIR:-$root/build/engine-run}
exec "$root/build/$preset/bin/cppworker-engine" "$@"
