#!/usr/bin/env bash
# ComfyUI behind Vast's API wrapper, then the worker with the comfyui plugin in the foreground.
# ComfyUI's output goes to MODEL_LOG (rotated to .1 first, so an old "To see the GUI go to" line is
# not read again), the wrapper's to COMFYUI_WRAPPER_LOG. Both stop when the worker exits.
#
#   COMFYUI_COMMAND          ComfyUI's command line; "" when something else (the template's
#                            supervisor) already runs it and writes MODEL_LOG
#   COMFYUI_WRAPPER_COMMAND  the API wrapper's; "" to serve plain ComfyUI (POST /prompt) only, and
#                            then MODEL_SERVER_URL defaults to ComfyUI itself
#   MODEL_LOG                default /var/log/portal/comfyui.log
#   MODEL_SERVER_URL         default http://127.0.0.1:18288 (the wrapper), or ComfyUI's URL
#
# Arguments go to the worker: launch/launch_comfyui.sh --log-level debug
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

COMFYUI_DIR=${COMFYUI_DIR:-/workspace/ComfyUI}
COMFYUI_PORT=${COMFYUI_PORT:-18188}
COMFYUI_COMMAND=${COMFYUI_COMMAND-"cd '$COMFYUI_DIR' && exec python3 main.py --listen 127.0.0.1 --port $COMFYUI_PORT"}
COMFYUI_WRAPPER_DIR=${COMFYUI_WRAPPER_DIR:-/opt/comfyui-api-wrapper}
COMFYUI_WRAPPER_COMMAND=${COMFYUI_WRAPPER_COMMAND-"cd '$COMFYUI_WRAPPER_DIR' && exec python3 -m uvicorn main:app --host 127.0.0.1 --port 18288"}
COMFYUI_WRAPPER_LOG=${COMFYUI_WRAPPER_LOG:-/var/log/portal/api-wrapper.log}
export MODEL_LOG=${MODEL_LOG:-/var/log/portal/comfyui.log}
if [ -n "$COMFYUI_WRAPPER_COMMAND" ]; then
  export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:18288}
else
  export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:$COMFYUI_PORT}
fi

# start NAME LOG COMMAND: runs COMMAND in its own process group, output appended to LOG.
children=()
start() {
  mkdir -p "$(dirname "$2")"
  setsid bash -c "$3" >>"$2" 2>&1 &
  children+=($!)
  echo "launch_comfyui: started $1 (pid $!), log $2" >&2
}
stop_children() {
  for pid in "${children[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap stop_children EXIT

if [ -n "$COMFYUI_COMMAND" ]; then
  [ -f "$MODEL_LOG" ] && mv -f "$MODEL_LOG" "$MODEL_LOG.1"
  start ComfyUI "$MODEL_LOG" "$COMFYUI_COMMAND"
fi
if [ -n "$COMFYUI_WRAPPER_COMMAND" ]; then
  [ -f "$COMFYUI_WRAPPER_LOG" ] && mv -f "$COMFYUI_WRAPPER_LOG" "$COMFYUI_WRAPPER_LOG.1"
  COMFYUI_API_BASE=${COMFYUI_API_BASE:-http://127.0.0.1:$COMFYUI_PORT} COMFYUI_INSTALL_PATH=${COMFYUI_INSTALL_PATH:-$COMFYUI_DIR} \
    start "the API wrapper" "$COMFYUI_WRAPPER_LOG" "$COMFYUI_WRAPPER_COMMAND"
fi

# Not exec: this shell outlives the worker to stop the model server after it. A TERM is passed
# on, and the worker gets to drain before the model server goes.
BACKEND=comfyui "$here/start_server.sh" "$@" &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null || true' TERM INT
status=0
while :; do
  wait "$worker" && status=0 || status=$?
  kill -0 "$worker" 2>/dev/null || break
done
exit "$status"
