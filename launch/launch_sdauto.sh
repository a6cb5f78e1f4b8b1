#!/usr/bin/env bash
# Runs the Stable Diffusion web UI (AUTOMATIC1111) in API mode and, in front of it, the worker with
# the sdauto plugin. The web UI's output goes to MODEL_LOG (rotated to .1 first, so an old
# "Model loaded in" line is not read again); it is stopped when the worker exits. Worker flags may
# follow: launch/launch_sdauto.sh --log-level debug
#
#   SDAUTO_DIR        the web UI's checkout (default /workspace/stable-diffusion-webui)
#   SDAUTO_PORT       its port (default 17860); MODEL_SERVER_URL follows it unless set
#   SDAUTO_ARGS       extra web UI flags (e.g. "--xformers --ckpt /models/x.safetensors")
#   SDAUTO_COMMAND    the whole command instead (shell syntax); "" when something else already runs
#                     the web UI and writes MODEL_LOG
#   MODEL_LOG         default /workspace/infer.log
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/model_server.sh"

SDAUTO_DIR=${SDAUTO_DIR:-/workspace/stable-diffusion-webui}
SDAUTO_PORT=${SDAUTO_PORT:-17860}
SDAUTO_COMMAND=${SDAUTO_COMMAND-"cd '$SDAUTO_DIR' && exec python3 launch.py --api --nowebui --listen --port $SDAUTO_PORT ${SDAUTO_ARGS:-}"}
export MODEL_LOG=${MODEL_LOG:-/workspace/infer.log}
export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:$SDAUTO_PORT}

if [ -n "$SDAUTO_COMMAND" ]; then
  rotate_log "$MODEL_LOG"
  start_model_server "$MODEL_LOG" "$SDAUTO_COMMAND"
fi
BACKEND=sdauto exec "$here/start_server.sh" "$@"
