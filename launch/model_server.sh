# shellcheck shell=bash
# Shared by the model-server launchers (launch_<server>.sh): starts a model server in the
# background with its output in a log, and stops it when the worker is gone.

# rotate_log FILE: the old log becomes FILE.1, so the worker does not read last run's "loaded" line.
rotate_log() {
  mkdir -p "$(dirname "$1")"
  if [ -e "$1" ]; then mv -f "$1" "$1.1"; fi
}

# start_model_server LOG COMMAND: runs the shell command COMMAND, stdout and stderr appended to LOG,
# in a session of its own (so Ctrl-C meant for the worker does not reach it, and stopping its
# process group stops every process it started: TGI's shards, vLLM's engine). Then a watchdog,
# deaf to Ctrl-C and SIGTERM, waits for this shell's process, which the caller then replaces by the
# worker with exec, and stops the model server once the worker has exited: SIGTERM, SIGKILL 30 s later.
start_model_server() {
  local log=$1 command=$2
  echo "$(basename "$0"): starting the model server: $command (log $log)" >&2
  mkdir -p "$(dirname "$log")"
  setsid bash -c "$command" </dev/null >>"$log" 2>&1 &
  local server=$! worker=$$
  (
    trap '' INT TERM HUP
    while kill -0 "$worker" 2>/dev/null; do sleep 1; done
    kill -TERM -- "-$server" 2>/dev/null || exit 0
    for _ in $(seq 30); do
      kill -0 -- "-$server" 2>/dev/null || exit 0
      sleep 1
    done
    kill -KILL -- "-$server" 2>/dev/null
  ) </dev/null >/dev/null 2>&1 &
}
