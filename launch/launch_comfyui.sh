#!/usr/bin/env bash
# Runs ComfyUI behind Vast's API wrapper and, in front of them, the worker with the comfyui plugin.
# ComfyUI's output goes to MODEL_LOG (rotated to .1 first, so an old "To see the GUI go to" line is
# not read again), the wrapper's to COMFYUI_WRAPPER_LOG. Both stop when the worker exits. Worker
# flags may follow: launch/launch_comfyui.sh --log-level debug
#
#   COMFYUI_DIR, COMFYUI_PORT  ComfyUI's checkout and port (/workspace/ComfyUI, 18188)
#   COMFYUI_COMMAND            ComfyUI's command line; "" when something else (the template's
#                              supervisor) already runs it and writes MODEL_LOG
#   COMFYUI_WRAPPER_DIR        the API wrapper's checkout (/opt/comfyui-api-wrapper)
#   COMFYUI_WRAPPER_COMMAND    its command line; "" to serve plain ComfyUI (POST /prompt) only: then
#                              MODEL_SERVER_URL defaults to ComfyUI itself and its health path to
#                              /system_stats
#   COMFYUI_WRAPPER_LOG        default /var/log/portal/api-wrapper.log
#   MODEL_LOG                  default /var/log/portal/comfyui.log
#   MODEL_SERVER_URL           default http://127.0.0.1:18288 (the wrapper)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/model_server.sh"

COMFYUI_DIR=${COMFYUI_DIR:-/workspace/ComfyUI}
COMFYUI_PORT=${COMFYUI_PORT:-18188}
COMFYUI_COMMAND=${COMFYUI_COMMAND-"cd '$COMFYUI_DIR' && exec python3 main.py --listen 127.0.0.1 --port $COMFYUI_PORT"}
COMFYUI_WRAPPER_DIR=${COMFYUI_WRAPPER_DIR:-/opt/comfyui-api-wrapper}
COMFYUI_WRAPPER_COMMAND=${COMFYUI_WRAPPER_COMMAND-"cd '$COMFYUI_WRAPPER_DIR' && COMFYUI_API_BASE=http://127.0.0.1:$COMFYUI_PORT COMFYUI_INSTALL_PATH='$COMFYUI_DIR' exec python3 -m uvicorn main:app --host 127.0.0.1 --port 18288"}
COMFYUI_WRAPPER_LOG=${COMFYUI_WRAPPER_LOG:-/var/log/portal/api-wrapper.log}
export MODEL_LOG=${MODEL_LOG:-/var/log/portal/comfyui.log}
if [ -n "$COMFYUI_WRAPPER_COMMAND" ]; then
  export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:18288}
else
  # ComfyUI itself has no /health.
  export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:$COMFYUI_PORT}
  export MODEL_HEALTH_ENDPOINT=${MODEL_HEALTH_ENDPOINT:-/system_stats}
fi

if [ -n "$COMFYUI_COMMAND" ]; then
  rotate_log "$MODEL_LOG"
  start_model_server "$MODEL_LOG" "$COMFYUI_COMMAND"
fi
if [ -n "$COMFYUI_WRAPPER_COMMAND" ]; then
  rotate_log "$COMFYUI_WRAPPER_LOG"
  start_model_server "$COMFYUI_WRAPPER_LOG" "$COMFYUI_WRAPPER_COMMAND"
fi
BACKEND=comfyui exec "$here/start_server.sh" "$@"
