#!/usr/bin/env bash
# Installs the build into a scratch prefix, builds tests/package/echo against that install only,
# and serves one request with the installed worker and the out-of-tree plugin.
# Usage: check_package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
scratch=$(mktemp -d)
worker_pid=
cleanup() { [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null; rm -rf "$scratch"; }
trap cleanup EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$src/tests/package/echo" -B "$scratch/echo" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/echo" >/dev/null
plugin="$scratch/echo/echo.so"

exports=$(nm -D --defined-only "$plugin" | awk '{print $3}' | grep -v '^$' | sort | tr '\n' ' ')
if [ "$exports" != "cppworker_plugin " ]; then
  echo "echo.so must export only cppworker_plugin, exports: $exports" >&2
  exit 1
fi

"$scratch/prefix/bin/cppworker" --plugin "$plugin" --listen 127.0.0.1 --port 0 \
  --port-file "$scratch/port" 2>"$scratch/log" &
worker_pid=$!
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done
[ -s "$scratch/port" ] || { echo "worker did not start:" >&2; cat "$scratch/log" >&2; exit 1; }

answer=$(curl -s -X POST "http://127.0.0.1:$(cat "$scratch/port")/echo" -d '{"payload": {"said": "hi"}}')
if [ "$answer" != '{"said":"hi"}' ]; then
  echo "unexpected answer: $answer" >&2
  cat "$scratch/log" >&2
  exit 1
fi
echo "out-of-tree echo plugin served: $answer"
