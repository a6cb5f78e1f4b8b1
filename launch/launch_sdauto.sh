#!/usr/bin/env bash
# The Stable Diffusion web UI (AUTOMATIC1111) in API mode, then the worker with the sdauto plugin in
# the foreground. The web UI's output goes to MODEL_LOG (rotated to .1 first, so an old
# "Model loaded in" line is not read again); it stops when the worker exits.
#
#   SDAUTO_COMMAND    the web UI's command line; "" when something else already runs it and writes
#                     MODEL_LOG. Default: launch.py in SDAUTO_DIR with --api --nowebui on SDAUTO_PORT
#   SDAUTO_ARGS       extra web UI flags (e.g. "--xformers --ckpt /models/x.safetensors")
#   MODEL_LOG         default /workspace/infer.log
#   MODEL_SERVER_URL  default http://127.0.0.1:$SDAUTO_PORT (17860)
#
# Arguments go to the worker: launch/launch_sdauto.sh --log-level debug
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SDAUTO_DIR=${SDAUTO_DIR:-/workspace/stable-diffusion-webui}
SDAUTO_PORT=${SDAUTO_PORT:-17860}
SDAUTO_ARGS=${SDAUTO_ARGS:-}
SDAUTO_COMMAND=${SDAUTO_COMMAND-"cd '$SDAUTO_DIR' && exec python3 launch.py --api --nowebui --listen --port $SDAUTO_PORT $SDAUTO_ARGS"}
export MODEL_LOG=${MODEL_LOG:-/workspace/infer.log}
export MODEL_SERVER_URL=${MODEL_SERVER_URL:-http://127.0.0.1:$SDAUTO_PORT}

children=()
stop_children() {
  for pid in "${children[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap stop_children EXIT

if [ -n "$SDAUTO_COMMAND" ]; then
  mkdir -p "$(dirname "$MODEL_LOG")"
  [ -f "$MODEL_LOG" ] && mv -f "$MODEL_LOG" "$MODEL_LOG.1"
  # Its own process group, so the web UI's children stop with it.
  setsid bash -c "$SDAUTO_COMMAND" >>"$MODEL_LOG" 2>&1 &
  children+=($!)
  echo "launch_sdauto: started the web UI (pid $!), log $MODEL_LOG" >&2
fi

# Not exec: this shell outlives the worker to stop the web UI after it. A TERM is passed on, and
# the worker gets to drain before the web UI goes.
BACKEND=sdauto "$here/start_server.sh" "$@" &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null || true' TERM INT
status=0
while :; do
  wait "$worker" && status=0 || status=$?
  kill -0 "$worker" 2>/dev/null || break
done
exit "$status"
