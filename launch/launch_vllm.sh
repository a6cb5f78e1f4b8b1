#!/usr/bin/env bash
# Runs vLLM's OpenAI-compatible server and, in front of it, the worker with the openai plugin. vLLM
# runs in the background with its output appended to MODEL_LOG, which the worker reads to tell when
# the model is loaded (or failed); it is stopped when the worker exits. Worker flags may follow, e.g.
# `VLLM_MODEL=Qwen/Qwen2.5-7B-Instruct launch/launch_vllm.sh --log-level debug`.
#
#   VLLM_MODEL        the model vLLM serves (MODEL_NAME is read too, as PyWorker's template names it)
#   VLLM_PORT         vLLM's port (default 18000); MODEL_SERVER_URL follows it unless set
#   VLLM_ARGS         more `vllm serve` flags, e.g. "--max-model-len 8192 --gpu-memory-utilization 0.9"
#   VLLM_COMMAND      the whole command instead (shell syntax): also for SGLang, llama.cpp, ... whose
#                     start-up lines the openai plugin may not know (see plugins/openai/README.md)
#   MODEL_LOG         the server's log (default /var/log/portal/vllm.log, as PyWorker's vLLM template)
#   OPENAI_MODEL      the model name added to requests without one (default: asked from /v1/models)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/model_server.sh"

export VLLM_PORT=${VLLM_PORT:-18000}
export MODEL_LOG=${MODEL_LOG:-/var/log/portal/vllm.log}
export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:$VLLM_PORT}
VLLM_MODEL=${VLLM_MODEL:-${MODEL_NAME:-}}

if [ -z "${VLLM_COMMAND:-}" ]; then
  if [ -z "$VLLM_MODEL" ]; then
    echo "launch_vllm.sh: set VLLM_MODEL (the model vLLM serves), or VLLM_COMMAND" >&2
    exit 2
  fi
  VLLM_COMMAND="vllm serve $(printf '%q' "$VLLM_MODEL") --host 127.0.0.1 --port $VLLM_PORT ${VLLM_ARGS:-}"
fi

rotate_log "$MODEL_LOG"
start_model_server "$MODEL_LOG" "$VLLM_COMMAND"
BACKEND=openai exec "$here/start_server.sh" "$@"
