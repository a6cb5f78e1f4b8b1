#!/usr/bin/env bash
# Prints cppworker's performance figures next to nginx's, measured in one run on this machine
# (issue 11): a program that prints figures, not a test. See the README's "Benchmark" section.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<'EOF'
Usage: launch/bench.sh [--duration S] [--rounds N] [--json PATH] [--quick] [--only streams]
                       [--stream-counts N,N,...] [--stream-events E] [--allocs] [--against BINARY]
                       [--help]

Installs wrk and nginx if missing, builds the default preset, then measures the model server
directly, nginx as a keep-alive reverse proxy, cppworker + tgi (unsigned and signed) and
cppworker + hello_world, interleaved over rounds; then streams at scale (N token streams opened at
once, 20 events/s each, direct, through nginx and through cppworker + tgi); prints Markdown tables
and the issues' targets. Everything runs on 127.0.0.1 with ephemeral ports.

  --duration S   seconds of each measured wrk run (default 5; each run has a 1 s warm-up first)
  --rounds N     rounds over all targets; tables show the median (default 3)
  --json PATH    raw and summary figures (default bench-results.json in the current directory)
  --quick        same as --rounds 1 --duration 2 --stream-events 20: a smoke run
  --only streams only the streams-at-scale figure
  --stream-counts N,N,...  streams opened at once in each streams-at-scale run (default 100,1000,5000)
  --stream-events E        events per stream, 50 ms apart (default 50)
  --allocs       instead of the figures above, heaptrack's count of allocations per forwarded
                 request and per relayed SSE event in the tgi worker, with their top call sites
                 (installs heaptrack; --rounds repetitions; JSON default bench-allocs.json)
  --against BINARY  instead of the figures above, this build's tgi worker and BINARY's (another
                 build of cppworker, e.g. of the commit before a change) in turns on the same model
                 server: req/s and CPU per request on POST /generate (16 and 64 connections) and SSE,
                 each round's new / old ratio (JSON default bench-against.json)
  --help         this text
EOF
}

positive_integer() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench: $1 needs a positive integer, not '$2'" >&2; exit 2; }
}

duration=5 rounds=3 json= allocs= against= only=all stream_counts=100,1000,5000 stream_events=50
while [ $# -gt 0 ]; do
  case $1 in
    --duration) positive_integer "$1" "${2-}"; duration=$2; shift 2 ;;
    --rounds) positive_integer "$1" "${2-}"; rounds=$2; shift 2 ;;
    --json) [ -n "${2-}" ] || { echo "bench: --json needs a path" >&2; exit 2; }; json=$2; shift 2 ;;
    --quick) duration=2 rounds=1 stream_events=20; shift ;;
    --only)
      [ "${2-}" = streams ] || { echo "bench: --only takes 'streams', not '${2-}'" >&2; exit 2; }
      only=$2; shift 2 ;;
    --stream-counts)
      [[ ${2-} =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench: --stream-counts needs N,N,..., not '${2-}'" >&2; exit 2; }
      stream_counts=$2; shift 2 ;;
    --stream-events) positive_integer "$1" "${2-}"; stream_events=$2; shift 2 ;;
    --allocs) allocs=--allocs; shift ;;
    --against)
      [ -x "${2-}" ] || { echo "bench: --against needs an executable cppworker, not '${2-}'" >&2; exit 2; }
      against=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "$allocs" ] && [ -n "$against" ]; then
  echo "bench: --allocs and --against are separate runs; give one of them" >&2
  exit 2
fi
json=${json:-$([ -n "$allocs" ] && echo bench-allocs.json || { [ -n "$against" ] && echo bench-against.json; } || echo bench-results.json)}

tmp= driver=
cleanup() {
  # The driver stops its own children (nginx, servers, workers, wrk) when it ends.
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
    kill -TERM "$driver" 2>/dev/null || true
    wait "$driver" 2>/dev/null || true
  fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
# Set before the build, so that a signal during it waits for the build instead of orphaning it.
trap 'exit 130' INT
trap 'exit 143' TERM

# wrk drives the load; nginx is both the model server and the reference proxy. Debian's nginx
# package may start its own service on port 80: it is never measured, since every nginx here is
# our own child with its own prefix, ports, pid file and logs.
# --allocs: heaptrack counts the worker's allocations (see launch/bench/allocs.py).
"$root/launch/install_deps.sh" wrk nginx ${allocs:+heaptrack}

configure_and_build default cppworker cppworker_bundled_plugins cppworker-bench-stream-server cppworker-bench-streams

# 10,000 idle client connections take that many descriptors in the client and in the worker; 5,000
# streams take 10,000 in the worker and in nginx (client and model-server connections).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d -t cppworker-bench.XXXXXX)

# In the background so that a signal to this script is acted on at once, not after the run.
/usr/bin/python3 "$root/launch/bench/bench.py" --root "$root" --tmp "$tmp" \
  --duration "$duration" --rounds "$rounds" --json "$json" --only "$only" \
  --stream-counts "$stream_counts" --stream-events "$stream_events" $allocs ${against:+--against "$against"} &
driver=$!
status=0
wait "$driver" || status=$?
driver=
exit "$status"
