#!/usr/bin/env bash
# Runs text-generation-inference and, in front of it, the worker with the tgi plugin. TGI runs in
# the background with its JSON log appended to MODEL_LOG, which the worker reads to tell when the
# model is loaded (or failed); it is stopped when the worker exits. Worker flags may follow, e.g.
# `MODEL_ID=mistralai/Mistral-7B-Instruct-v0.3 launch/launch_tgi.sh --log-level debug`.
#
#   MODEL_ID          the model TGI serves (TGI reads it itself too)
#   TGI_PORT          TGI's port (default 5001); MODEL_SERVER_URL follows it unless set
#   TGI_ARGS          more text-generation-launcher flags, e.g. "--max-total-tokens 8192 --quantize awq"
#   TGI_COMMAND       the whole command instead (shell syntax); keep --json-output and the port
#   MODEL_LOG         TGI's log (default /workspace/infer.log, as PyWorker's TGI template)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/model_server.sh"

export TGI_PORT=${TGI_PORT:-5001}
export MODEL_LOG=${MODEL_LOG:-/workspace/infer.log}
export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:$TGI_PORT}

if [ -z "${TGI_COMMAND:-}" ]; then
  if [ -z "${MODEL_ID:-}" ]; then
    echo "launch_tgi.sh: set MODEL_ID (the model TGI serves), or TGI_COMMAND" >&2
    exit 2
  fi
  # --json-output: the worker's readiness patterns match TGI's JSON log lines.
  TGI_COMMAND="text-generation-launcher --model-id $(printf '%q' "$MODEL_ID") --port $TGI_PORT --json-output ${TGI_ARGS:-}"
fi

rotate_log "$MODEL_LOG"
start_model_server "$MODEL_LOG" "$TGI_COMMAND"
BACKEND=tgi exec "$here/start_server.sh" "$@"
