#!/usr/bin/env bash
# The bundle's bin/start_server.sh (launch/bundle/start_server.sh) checks the C library before it
# starts the worker: glibc 2.34 or later runs, an older glibc or musl is refused with exit 1 and a
# message that names the version found, the one needed and the distributions that qualify. No old
# distribution is at hand, so fake ones are: a getconf and an ldd on PATH that print what those
# systems' print, and a stand-in for bin/cppworker that says how it was started.
# Usage: check_libc_gate.sh SOURCE_DIR
set -euo pipefail
src=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$scratch/bin" "$scratch/fake"
cp "$src/launch/bundle/start_server.sh" "$scratch/bin/start_server.sh"
cat >"$scratch/bin/cppworker" <<'WORKER'
#!/usr/bin/env bash
echo "worker started: WORKER_SUPERVISE=$WORKER_SUPERVISE args=$*"
WORKER
chmod +x "$scratch/bin/cppworker"

# fake_tools GETCONF_OUTPUT LDD_OUTPUT: each prints its text and exits 0, or fails when it is empty.
fake_tools() {
  rm -f "$scratch/fake/getconf" "$scratch/fake/ldd"
  local tool text
  for tool in getconf ldd; do
    if [ "$tool" = getconf ]; then text=$1; else text=$2; fi
    if [ -n "$text" ]; then
      printf '#!/bin/sh\nprintf "%%s\\n" "%s"\n' "$text" >"$scratch/fake/$tool"
    else
      printf '#!/bin/sh\necho "%s: unavailable" >&2\nexit 1\n' "$tool" >"$scratch/fake/$tool"
    fi
    chmod +x "$scratch/fake/$tool"
  done
}

# run EXPECTED_STATUS [VAR=value...]: runs the script with the fakes first on PATH; sets $out.
run() {
  local want=$1 status=0
  shift
  out=$(env "$@" PATH="$scratch/fake:$PATH" "$scratch/bin/start_server.sh" --port 0 2>&1) || status=$?
  [ "$status" = "$want" ] || fail "exit $status, want $want; output: $out"
}
expect() { [[ $out == *"$1"* ]] || fail "output lacks '$1': $out"; }
expect_not() { [[ $out != *"$1"* ]] || fail "output has '$1': $out"; }

fake_tools "glibc 2.31" ""
run 1
expect "this bundle needs glibc 2.34 or later, and this system has glibc 2.31"
expect "Debian 12, Ubuntu 22.04, RHEL 9"
expect "Ubuntu 20.04"
expect_not "worker started"
echo "glibc 2.31 (getconf): refused"

fake_tools "" "ldd (Ubuntu GLIBC 2.31-0ubuntu9.16) 2.31
Copyright (C) 2020 Free Software Foundation, Inc."
run 1
expect "this system has glibc 2.31"
echo "glibc 2.31 (ldd, no getconf): refused"

fake_tools "glibc 2.28" ""
run 1
expect "this system has glibc 2.28"
echo "glibc 2.28: refused"

fake_tools "" "musl libc (x86_64)
Version 1.2.4
Dynamic Program Loader"
run 1
expect "this system's C library is musl 1.2.4"
expect_not "worker started"
echo "musl: refused"

for version in 2.34 2.35 2.100; do
  fake_tools "glibc $version" ""
  run 0
  expect "worker started: WORKER_SUPERVISE=true args=--port 0"
  expect_not "cannot"
  echo "glibc $version: started, supervised"
done

fake_tools "glibc 2.36" ""
run 0 WORKER_SUPERVISE=false
expect "worker started: WORKER_SUPERVISE=false"
echo "WORKER_SUPERVISE=false: passed on"

fake_tools "" ""
run 0
expect "cannot tell which C library this system has"
expect "worker started"
echo "no getconf, no ldd: warned, started"

# This machine, as it is.
status=0
out=$(env -i "$scratch/bin/start_server.sh" 2>&1) || status=$?
[ "$status" = 0 ] || fail "on this machine ($(getconf GNU_LIBC_VERSION)): exit $status: $out"
expect "worker started"
echo "this machine ($(getconf GNU_LIBC_VERSION)): started"
echo "libc gate: ok"
