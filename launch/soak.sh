#!/usr/bin/env bash
# Soak run (issue 14): a worker with the tgi plugin in front of the fake TGI and beside the fake
# autoscaler, signatures on, under mixed traffic at 80 % of its measured capacity for a while.
# Exits 1 when a request had an unexpected outcome, something was left held, or RSS grew by more
# than 4 MiB after the warm-up. See the README's "Soak" section.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<'EOF2'
Usage: launch/soak.sh [--duration SECONDS] [--capacity-seconds S] [--seed TEXT] [--no-build] [--keep-logs] [--help]

Builds the default preset (unless --no-build), starts the fake TGI, the fake autoscaler (which
serves the signing key at /pubkey/) and a cppworker with the tgi plugin, all on 127.0.0.1 with
ephemeral ports; measures the capacity of the traffic mix for a few seconds, then runs it at 80 %
of that. Prints a progress line every 10 s and, at the end, one line:
  soak: requests=N errors=E rss_start_kib=A rss_end_kib=B p50_ms=X p99_ms=Y

  --duration S          seconds of traffic at 80 % of capacity (default 600)
  --capacity-seconds S  seconds of the capacity measurement before it (default 5)
  --seed TEXT           seed of the traffic mix (default soak)
  --no-build            use build/default as it is (for ctest)
  --keep-logs           keep the temporary folder (worker, fakes and model logs) and name it
  --help                this text
EOF2
}

positive_integer() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "soak: $1 needs a positive integer, not '$2'" >&2; exit 2; }
}

duration=600 capacity=5 seed=soak build=1 keep=
while [ $# -gt 0 ]; do
  case $1 in
    --duration) positive_integer "$1" "${2-}"; duration=$2; shift 2 ;;
    --capacity-seconds) positive_integer "$1" "${2-}"; capacity=$2; shift 2 ;;
    --seed) [ -n "${2-}" ] || { echo "soak: --seed needs a value" >&2; exit 2; }; seed=$2; shift 2 ;;
    --no-build) build=; shift ;;
    --keep-logs) keep=--keep-logs; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "soak: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

tmp= driver=
cleanup() {
  # The driver stops its own children (the fakes and the worker) when it ends.
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
    kill -TERM "$driver" 2>/dev/null || true
    wait "$driver" 2>/dev/null || true
  fi
  if [ -n "$tmp" ] && [ -z "$keep" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$build" ]; then
  configure_and_build default cppworker cppworker_bundled_plugins
fi
[ -x "$root/build/default/bin/cppworker" ] || { echo "soak: build/default/bin/cppworker is missing" >&2; exit 1; }

tmp=$(mktemp -d -t cppworker-soak.XXXXXX)
/usr/bin/python3 "$root/launch/soak/soak.py" --root "$root" --tmp "$tmp" --duration "$duration" \
  --capacity-seconds "$capacity" --seed "$seed" $keep &
driver=$!
status=0
wait "$driver" || status=$?
driver=
exit "$status"
