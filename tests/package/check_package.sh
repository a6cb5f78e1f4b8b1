#!/usr/bin/env bash
# Installs the build into a scratch prefix and checks what a third party gets from it:
# find_package(cppworker 0.3) takes the package and refuses other minor versions; an out-of-tree
# plugin (tests/package/echo, no C++ standard of its own) builds against that install only and is
# served by the installed worker; the installed worker runs its default plugin with no arguments;
# the installed examples build on their own and are served; every example of README.md builds and
# answers as the README says (readme_examples.py). Every plugin is built with Boost out of reach
# (-DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON), as on a machine without it: the SDK reads JSON through
# the host.
# Usage: check_package.sh BUILD_DIR SOURCE_DIR
#        check_package.sh --prefix PREFIX SOURCE_DIR   (a tree installed already, e.g. the unpacked bundle)
set -euo pipefail
if [ "$1" = --prefix ]; then
  build='' prefix=$2 src=$3
else
  build=$1 prefix='' src=$2
fi
scratch=$(mktemp -d)
worker_pid=
stop_worker() {
  if [ -n "$worker_pid" ]; then kill "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true; fi
  worker_pid=
}
cleanup() { stop_worker; rm -rf "$scratch"; }
trap cleanup EXIT

if [ -n "$build" ]; then
  prefix=$scratch/prefix
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi

for plugin in hello_world hello_c tgi openai comfyui sdauto; do
  [ -f "$prefix/lib/cppworker/plugins/$plugin.so" ] || { echo "not installed: $plugin.so" >&2; exit 1; }
done

# Another minor version is refused: before 1.0 a minor release may break the package.
for wanted in 0.2 0.4; do
  mkdir -p "$scratch/wants-$wanted"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(wants LANGUAGES CXX)\nfind_package(cppworker %s REQUIRED)\n' \
    "$wanted" >"$scratch/wants-$wanted/CMakeLists.txt"
  if cmake -S "$scratch/wants-$wanted" -B "$scratch/wants-$wanted/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >/dev/null 2>&1; then
    echo "find_package(cppworker $wanted) accepted the installed package" >&2
    exit 1
  fi
done

# build_without_boost SOURCE BUILD: as a third party on a machine without Boost would, with
# find_package(Boost) failing; and, since this machine has Boost's headers in /usr/include, proof
# from the compiler's own dependency lists that no Boost header was read.
build_without_boost() {
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON \
    --no-warn-unused-cli >/dev/null
  cmake --build "$2" >/dev/null
  if ninja -C "$2" -t deps | grep -q '/boost/'; then
    echo "$1 reads Boost headers: $(ninja -C "$2" -t deps | grep -m 3 '/boost/' | tr -s ' ')" >&2
    exit 1
  fi
}

build_without_boost "$src/tests/package/echo" "$scratch/echo"
plugin="$scratch/echo/echo.so"

exports=$(nm -D --defined-only "$plugin" | awk '{print $3}' | grep -v '^$' | sort | tr '\n' ' ')
if [ "$exports" != "cppworker_plugin " ]; then
  echo "echo.so must export only cppworker_plugin, exports: $exports" >&2
  exit 1
fi

# start_worker PORT_FILE ARGS...: the installed worker in the background, once it listens.
start_worker() {
  local port_file=$1; shift
  rm -f "$port_file"  # a worker before this one may have used it: wait for this one's port
  env -u BACKEND -u PLUGIN_PATH -u CPPWORKER_PLUGIN_DIR "$prefix/bin/cppworker" --listen 127.0.0.1 --port 0 \
    --port-file "$port_file" "$@" 2>"$port_file.log" &
  worker_pid=$!
  for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
  [ -s "$port_file" ] || { echo "worker did not start:" >&2; cat "$port_file.log" >&2; exit 1; }
}

# expect NAME PORT_FILE PATH BODY ANSWER [STATUS]
expect() {
  local answer
  answer=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$(cat "$2")$3" -d "$4")
  if [ "$answer" != "$5 ${6:-200}" ]; then
    echo "$1: unexpected answer: $answer (want: $5 ${6:-200})" >&2
    cat "$2.log" >&2
    exit 1
  fi
  echo "$1: $answer"
}

start_worker "$scratch/echo-port" --plugin "$plugin"
expect "out-of-tree echo plugin" "$scratch/echo-port" /echo '{"payload": {"said": "hi"}}' '{"said":"hi"}'
expect "out-of-tree plugin reading its payload" "$scratch/echo-port" /greet '{"payload": {"name": "Zoë"}}' \
  '{"greeting": "hello, Zoë"}'
expect "out-of-tree plugin refusing a payload" "$scratch/echo-port" /greet '{"payload": {"name": 7}}' \
  '{"error": "payload needs \"name\" as a string, not 7"}' 422
stop_worker

start_worker "$scratch/default-port"
expect "installed worker with its defaults" "$scratch/default-port" /increment '{"payload": {"amount": 2}}' \
  '{"value":2}'
stop_worker

# The installed examples build as they are, against the installed package only.
for example in hello_world hello_c; do
  build_without_boost "$prefix/share/cppworker/examples/$example" "$scratch/example-$example"
done
start_worker "$scratch/example-port" --plugin "$scratch/example-hello_c/hello_c.so"
expect "installed hello_c example, built on its own" "$scratch/example-port" /increment \
  '{"payload": {"amount": 3}}' '{"value": 3}'
stop_worker
start_worker "$scratch/example-port" --plugin "$scratch/example-hello_world/hello_world.so"
expect "installed hello_world example, built on its own" "$scratch/example-port" /increment \
  '{"payload": {"amount": 4}}' '{"value":4}'
expect "installed hello_world example refusing a payload" "$scratch/example-port" /increment \
  '{"payload": {"amount": 1.5}}' '{"error": "payload needs \"amount\" as an integer, not 1.5"}' 422
stop_worker

# Every example plugin in the README builds against the installed package.
python3 "$src/tests/package/readme_examples.py" "$src/README.md" "$prefix" "$scratch/readme"
