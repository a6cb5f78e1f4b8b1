#!/usr/bin/env bash
# The relocatable bundle (launch/package.sh): one top folder cppworker-<version>-linux-x86_64 with
# the layout the README gives; no ELF file in it needs a glibc symbol version above GLIBC_2.34, nor
# libstdc++ or libgcc_s, nor any library outside the bundle but glibc's base libraries; unpacked in
# a temporary folder and moved, it serves hello_world under `env -i` (bin/start_server.sh) and
# catches exceptions, its tgi launcher starts; it runs supervised: a crash of its worker is
# recovered, and bin/reload.sh swaps a plugin under load with no failed request (plugins from the
# tree's build, named by PLUGIN_PATH outside the bundle); its CMake package builds an out-of-tree
# C++20 plugin and the installed examples with Boost out of reach (check_package.sh --prefix), and
# its start_server.sh serves such a plugin through PLUGIN_PATH; and glibc_compat.c's fallback for
# glibc 2.34 finds what glibc finds.
# Usage: check_bundle.sh SOURCE_DIR VERSION ZOO_SEGFAULTS_SO RELOADABLE_V1_SO RELOADABLE_V2_SO
# Runs launch/package.sh into a scratch folder: a full build of the preset "bundle" the first time,
# an incremental one (seconds when nothing changed) after. CPPWORKER_BUNDLE_TARBALL=<path> checks
# that tarball instead, without building.
set -euo pipefail
src=$1 version=$2 zoo_segfaults=$3 reloadable_v1=$4 reloadable_v2=$5
name=cppworker-$version-linux-x86_64
scratch=$(mktemp -d)
worker_pid=
load_pid=
stop_worker() {
  if [ -n "$worker_pid" ]; then kill "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true; fi
  worker_pid=
}
cleanup() {
  if [ -n "$load_pid" ]; then touch "$scratch/stop-load"; wait "$load_pid" 2>/dev/null || true; fi
  stop_worker
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ -n "${CPPWORKER_BUNDLE_TARBALL:-}" ]; then
  tarball=$CPPWORKER_BUNDLE_TARBALL
  echo "checking $tarball (CPPWORKER_BUNDLE_TARBALL)"
else
  started=$SECONDS
  tarball=$("$src/launch/package.sh" --output "$scratch/dist" 2>"$scratch/package.log") ||
    { tail -n 40 "$scratch/package.log" >&2; fail "launch/package.sh failed"; }
  echo "launch/package.sh: $((SECONDS - started)) s, $(du -h "$tarball" | cut -f1)"
fi
[ "$(basename "$tarball")" = "$name.tar.gz" ] || fail "tarball named $(basename "$tarball"), not $name.tar.gz"
tops=$(tar -tzf "$tarball" | cut -d/ -f1 | sort -u | tr '\n' ' ')
[ "$tops" = "$name " ] || fail "top folders of the tarball: $tops(want $name only)"

# Unpacked in one place, then moved: nothing may depend on where it was built or unpacked.
mkdir "$scratch/unpacked" "$scratch/moved"
tar -xzf "$tarball" -C "$scratch/unpacked"
mv "$scratch/unpacked/$name" "$scratch/moved/$name"
bundle=$scratch/moved/$name

for f in bin/cppworker bin/start_server.sh bin/reload.sh bin/launch_tgi.sh bin/launch_vllm.sh bin/launch_comfyui.sh \
  bin/launch_sdauto.sh; do
  if [ ! -f "$bundle/$f" ] || [ ! -x "$bundle/$f" ]; then fail "missing or not executable: $f"; fi
done
for f in bin/model_server.sh include/cppworker/plugin.h include/cppworker/plugin.hpp \
  lib/cmake/cppworker/cppworkerConfig.cmake lib/cmake/cppworker/cppworkerConfigVersion.cmake \
  lib/cmake/cppworker/CppworkerPlugin.cmake share/cppworker/examples/hello_world/CMakeLists.txt \
  share/cppworker/examples/hello_c/CMakeLists.txt lib/cppworker/plugins/{hello_world,hello_c,tgi,openai,comfyui,sdauto}.so; do
  [ -f "$bundle/$f" ] || fail "missing: $f"
done
echo "layout: ok"

# Every ELF file: glibc symbol versions, what it needs, where the loader finds it (with an empty
# environment, as an instance's on-start script may have).
base='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-x86-64\.so\.2|linux-vdso\.so\.1)$'
elves=0
while IFS= read -r -d '' f; do
  [ "$(od -An -tx1 -N4 "$f" | tr -d ' \n')" = 7f454c46 ] || continue
  elves=$((elves + 1))
  rel=${f#"$bundle/"}
  symbols=$(objdump -T "$f") || fail "objdump -T $rel failed"
  newest=$(grep -o 'GLIBC_[0-9][0-9.]*' <<<"$symbols" | sed 's/GLIBC_//' | sort -uV | tail -n 1)
  if [ -n "$newest" ] && [ "$(printf '%s\n2.34\n' "$newest" | sort -V | tail -n 1)" != 2.34 ]; then
    fail "$rel needs GLIBC_$newest: $(grep -E "GLIBC_$newest\b" <<<"$symbols" | awk '{print $NF}' | tr '\n' ' ')"
  fi
  others=$(grep -oE '\b(GLIBCXX|CXXABI|GCC)_[0-9][0-9.]*' <<<"$symbols" | sort -u | tr '\n' ' ' || true)
  [ -z "$others" ] || fail "$rel needs libstdc++ or libgcc_s: $others"
  while read -r needed; do
    if ! [[ $needed =~ $base ]] && [ ! -f "$bundle/lib/$needed" ]; then fail "$rel needs $needed, not in the bundle"; fi
  done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  resolved=$(env -i /usr/bin/ldd "$f" 2>&1) || fail "ldd $rel: $resolved"
  while read -r lib arrow path _; do
    [ -n "$lib" ] || continue
    if [ "$arrow" = "=>" ]; then
      [ "$path" != not ] || fail "ldd $rel: $lib not found"
      case $path in
        "$bundle"/*) ;;
        *) [[ $(basename "$lib") =~ $base ]] || fail "ldd $rel: $lib from $path, outside the bundle" ;;
      esac
    else
      [[ $(basename "$lib") =~ $base ]] || [ "$lib" = statically ] || fail "ldd $rel: unexpected line: $lib $arrow $path"
    fi
  done <<<"$resolved"
  echo "$rel: newest glibc symbol version GLIBC_$newest; needs $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd ' ')"
done < <(find "$bundle" -type f -print0 | sort -z)
[ "$elves" -ge 8 ] || fail "only $elves ELF files (the worker, 6 plugins and libmimalloc at least)"
# The worker's libmimalloc is the bundle's, although this machine has one in /usr/lib too.
mimalloc=$(env -i /usr/bin/ldd "$bundle/bin/cppworker" | awk '$1 == "libmimalloc.so.2" {print $3}')
if [ -z "$mimalloc" ] || [ "$(realpath "$mimalloc")" != "$(realpath "$bundle/lib/libmimalloc.so.2")" ]; then
  fail "bin/cppworker does not load the bundle's libmimalloc: $(env -i /usr/bin/ldd "$bundle/bin/cppworker")"
fi
echo "bin/cppworker loads libmimalloc.so.2 from ${mimalloc#"$bundle/"}"

# start_worker LOG PORT_FILE COMMAND...: in the background with an empty environment, once it listens.
start_worker() {
  local log=$1 port_file=$2; shift 2
  env -i "$@" 2>"$log" &
  worker_pid=$!
  for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
  [ -s "$port_file" ] || { cat "$log" >&2; fail "worker did not start: $*"; }
}
# expect WHAT PORT_FILE PATH BODY STATUS ANSWER
expect() {
  local answer
  answer=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$(cat "$2")$3" -d "$4")
  [ "$answer" = "$6 $5" ] || fail "$1: answer '$answer', want '$6 $5'"
  echo "$1: $answer"
}

start_worker "$scratch/worker.log" "$scratch/port" \
  "$bundle/bin/start_server.sh" --listen 127.0.0.1 --port 0 --port-file "$scratch/port"
expect "env -i bin/start_server.sh, hello_world" "$scratch/port" /increment '{"payload":{"amount":2}}' 200 '{"value":2}'
expect "hello_world again" "$scratch/port" /increment '{"payload":{"amount":3}}' 200 '{"value":5}'
# The SDK's JSON reader throws cppworker::JsonError here (the plugin's workload hook); the SDK
# catches it and the worker answers 422 with the message: the unwinder of the plugin's own static
# libgcc at work.
expect "exception in the plugin" "$scratch/port" /increment '{"payload":{"amount":"x"}}' 422 \
  '{"error": "payload needs \"amount\" as an integer, not a string"}'
# Supervised by default: the master is the process started, its worker titled as one.
worker_title=$(ps -o args= --ppid "$worker_pid")
[[ $worker_title == "cppworker: worker (generation 0) "* ]] || fail "the master's child is titled '$worker_title'"
stop_worker
grep -q 'hello_world' "$scratch/worker.log" || fail "the worker's log does not name hello_world"
grep -q 'supervisor: worker pid [0-9]* serves on port' "$scratch/worker.log" || fail "bin/start_server.sh did not supervise"
echo "bin/start_server.sh: supervised, the worker titled '${worker_title%% --*}'"

# wait_log LOG TEXT: until the log holds TEXT, within 60 s.
wait_log() {
  for _ in $(seq 600); do grep -qF "$2" "$1" && return 0; sleep 0.1; done
  cat "$1" >&2
  fail "no '$2' in $1 within 60 s"
}

# A plugin that segfaults, outside the bundle: the master restarts the worker, and the connection
# made meanwhile waits in the backlog for the new one.
start_worker "$scratch/crash.log" "$scratch/crash-port" PLUGIN_PATH="$zoo_segfaults" \
  "$bundle/bin/start_server.sh" --listen 127.0.0.1 --port 0 --port-file "$scratch/crash-port"
expect "zoo_segfaults before the crash" "$scratch/crash-port" /ok '{}' 200 '{"ok": true}'
curl -s -X POST "http://127.0.0.1:$(cat "$scratch/crash-port")/crash" -d '{}' >/dev/null && fail "/crash was answered"
expect "zoo_segfaults after the crash" "$scratch/crash-port" /ok '{}' 200 '{"ok": true}'
wait_log "$scratch/crash.log" "killed by signal 11 (SIGSEGV)"
wait_log "$scratch/crash.log" "serves again"
stop_worker
echo "bin/start_server.sh: a worker killed by its plugin was replaced"

# bin/reload.sh swaps the plugin under load: installed under a temporary name and renamed into
# place, as the README says, while 16 clients send requests without pause; none may fail.
install -m 755 "$reloadable_v1" "$scratch/reloadable.so"
start_worker "$scratch/reload.log" "$scratch/reload-port" PLUGIN_PATH="$scratch/reloadable.so" \
  CPPWORKER_RUN_DIR="$scratch" "$bundle/bin/start_server.sh" --listen 127.0.0.1 --port 0 \
  --port-file "$scratch/reload-port"
port=$(cat "$scratch/reload-port")
python3 "$src/tests/package/reload_load.py" "$port" "$scratch/stop-load" "$scratch/progress" >"$scratch/load.out" &
load_pid=$!
# load_reaches N: until N requests were answered 200, within 60 s.
load_reaches() {
  local ok
  for _ in $(seq 600); do
    ok=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' "$scratch/progress" 2>/dev/null || true)  # no file until the load has started
    [ -n "$ok" ] && [ "$ok" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "the load did not reach $1 answers: $(cat "$scratch/progress" 2>/dev/null)"
}
load_reaches 300
install -m 755 "$reloadable_v2" "$scratch/reloadable.so.new"
mv -f "$scratch/reloadable.so.new" "$scratch/reloadable.so"
WORKER_PORT=$port CPPWORKER_RUN_DIR=$scratch "$bundle/bin/reload.sh" | sed 's/^/bin\/reload.sh: /'
wait_log "$scratch/reload.log" "reload 1 complete"
after=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' "$scratch/progress")
load_reaches $((after + 300))
touch "$scratch/stop-load"
load_status=0
wait "$load_pid" || load_status=$?
load_pid=
cat "$scratch/load.out"
[ "$load_status" = 0 ] || fail "requests failed during the reload"
grep -q 'versions seen: 1,2$' "$scratch/load.out" || fail "the load did not see both plugins answer"
expect "after bin/reload.sh" "$scratch/reload-port" /work '{"payload": {"ms": 0}}' 200 '{"version": "2"}'
stop_worker
echo "bin/reload.sh: the plugin swapped under load, no request failed"

# CLI11 reports a bad flag by throwing: the worker's own unwinder.
status=0
env -i "$bundle/bin/cppworker" --no-such-flag >"$scratch/flag.log" 2>&1 || status=$?
[ "$status" = 2 ] || { cat "$scratch/flag.log" >&2; fail "cppworker --no-such-flag exited $status, not 2"; }
echo "env -i bin/cppworker --no-such-flag: exit 2"

# A model-server launcher finds start_server.sh and model_server.sh beside it; the "model server" is
# a sleep, stopped by the launcher's watchdog once the worker is gone.
start_worker "$scratch/tgi.log" "$scratch/tgi-port" TGI_COMMAND='exec sleep 60' MODEL_LOG="$scratch/tgi-model.log" \
  "$bundle/bin/launch_tgi.sh" --listen 127.0.0.1 --port 0 --port-file "$scratch/tgi-port" --model-health-path none
stop_worker
grep -q '"tgi"\|tgi ' "$scratch/tgi.log" || { cat "$scratch/tgi.log" >&2; fail "launch_tgi.sh did not run the tgi plugin"; }
echo "env -i bin/launch_tgi.sh: the worker started with tgi"

# The bundle's CMake package, as check_package.sh checks an installed tree.
if ! "$src/tests/package/check_package.sh" --prefix "$bundle" "$src" | sed 's/^/check_package.sh: /'; then
  fail "check_package.sh --prefix failed"
fi

# A plugin of one's own, built against the bundle without Boost, served by bin/start_server.sh
# through PLUGIN_PATH, as its header and the README's "Running it" say.
cmake -S "$src/tests/package/echo" -B "$scratch/own" -G Ninja -DCMAKE_PREFIX_PATH="$bundle" \
  -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON --no-warn-unused-cli >/dev/null || fail "configuring an own plugin against the bundle"
cmake --build "$scratch/own" >/dev/null || fail "building an own plugin against the bundle"
start_worker "$scratch/own.log" "$scratch/own-port" PLUGIN_PATH="$scratch/own/echo.so" \
  "$bundle/bin/start_server.sh" --listen 127.0.0.1 --port 0 --port-file "$scratch/own-port"
expect "env -i PLUGIN_PATH=<own plugin> bin/start_server.sh" "$scratch/own-port" /greet '{"payload":{"name":"bundle"}}' \
  200 '{"greeting": "hello, bundle"}'
stop_worker

# glibc_compat.c's fallback for glibc 2.34, built as the bundle is linked.
cc -c -O2 -fPIC -Wall -Wextra -Wpedantic -Werror -DCPPWORKER_GLIBC_COMPAT_FALLBACK_ONLY \
  "$src/cmake/bundle/glibc_compat.c" -o "$scratch/compat.o"
c++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror -static-libstdc++ -static-libgcc \
  "$src/tests/package/glibc_compat_fallback.cpp" "$scratch/compat.o" -o "$scratch/compat_fallback"
if objdump -T "$scratch/compat_fallback" | grep -q _dl_find_object; then fail "the fallback test imports _dl_find_object"; fi
if ! "$scratch/compat_fallback" | sed 's/^/glibc_compat fallback: /'; then fail "glibc_compat fallback"; fi
echo "bundle: ok"
