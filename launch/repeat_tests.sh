#!/usr/bin/env bash
# Runs the whole test suite several times in a row per build while launch/soak.sh loads the
# machine, and prints how many runs of each build had failures, and which tests failed how often:
# the check that the suite holds on a loaded machine (issue 24).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<'EOF2'
Usage: launch/repeat_tests.sh [--runs N] [--presets "default sanitize tsan"] [--soak-duration S]
                              [--no-soak] [--no-bundle] [--logs DIR] [-- CTEST_ARGS...]

Builds each preset (and, for "default", the relocatable bundle, as launch/run_tests.sh does), then
starts launch/soak.sh in the background, one soak after the other for as long as the tests run,
and runs `ctest --preset P --parallel $(nproc) --timeout 300 --output-on-failure` N times for each
preset in turn. Each run's output, a failed test's own included, goes to DIR/<preset>-<n>.log, the
soaks' to DIR/soak.log. At the end, one line a preset:
  repeat: default: 10 runs, 0 failed (0 failed tests)
and a line for each test that failed, with how often. Exits 1 when a run failed, 2 for a bad
argument. A loop of 10 runs of the three builds takes hours on 2 cores; run it under `nice`.

  --runs N            runs per preset (default 10)
  --presets LIST      the presets, in order (default "default sanitize tsan")
  --soak-duration S   seconds of each soak (default 600); the soaks run until the tests end
  --no-soak           no load beside the tests
  --no-bundle         leave out the bundle test (label "bundle") and do not build the bundle
  --logs DIR          where the logs go (default build/repeat/<date-time>)
  -- CTEST_ARGS       further ctest arguments for every run, e.g. -- -R autoscaler
EOF2
}

positive_integer() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "repeat: $1 needs a positive integer, not '$2'" >&2; exit 2; }
}

runs=10 presets="default sanitize tsan" soak_duration=600 soak=1 bundle=1 logs='' ctest_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) positive_integer "$1" "${2-}"; runs=$2; shift 2 ;;
    --presets) [ -n "${2-}" ] || { echo "repeat: --presets needs a list" >&2; exit 2; }; presets=$2; shift 2 ;;
    --soak-duration) positive_integer "$1" "${2-}"; soak_duration=$2; shift 2 ;;
    --no-soak) soak=; shift ;;
    --no-bundle) bundle=; shift ;;
    --logs) [ -n "${2-}" ] || { echo "repeat: --logs needs a directory" >&2; exit 2; }; logs=$2; shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) echo "repeat: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for preset in $presets; do
  case $preset in
    default | sanitize | tsan) ;;
    *) echo "repeat: unknown preset '$preset' (default, sanitize, tsan)" >&2; exit 2 ;;
  esac
done
logs=${logs:-$root/build/repeat/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)

sanitizer_environment
for preset in $presets; do
  echo "repeat: building $preset" >&2
  configure_and_build "$preset"
done
if [ -n "$bundle" ] && [[ " $presets " == *" default "* ]] && [ -z "${CPPWORKER_BUNDLE_TARBALL:-}" ]; then
  echo "repeat: building the bundle (launch/package.sh)" >&2
  CPPWORKER_BUNDLE_TARBALL=$("$root/launch/package.sh")
  export CPPWORKER_BUNDLE_TARBALL
fi
[ -n "$bundle" ] || ctest_args+=(-LE bundle)

# One soak after another in the background until the tests are done; each soak's last line says
# whether it went well, which is its own finding, not a test's.
soak_pid=
soak_loop() {
  local child=
  trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi; exit 0' TERM
  while :; do
    "$root/launch/soak.sh" --no-build --duration "$soak_duration" >>"$logs/soak.log" 2>&1 &
    child=$!
    wait "$child" || true
    child=
  done
}
stop_soak() {
  if [ -n "$soak_pid" ]; then
    kill -TERM "$soak_pid" 2>/dev/null || true
    wait "$soak_pid" 2>/dev/null || true
    soak_pid=
  fi
}
trap stop_soak EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -n "$soak" ]; then
  if [[ " $presets " != *" default "* ]]; then configure_and_build default cppworker cppworker_bundled_plugins; fi
  soak_loop &
  soak_pid=$!
  echo "repeat: soak running beside the tests (pid $soak_pid, log $logs/soak.log)" >&2
fi

# run_once PRESET N: one run of the suite; prints the names of the tests that failed, a line each.
run_once() {
  local preset=$1 n=$2 log="$logs/$1-$2.log" reports='' status=0
  if [ "$preset" = tsan ]; then
    reports="$logs/$preset-$n-race-reports"
    mkdir -p "$reports"
  fi
  (
    if [ -n "$reports" ]; then export TSAN_OPTIONS="$TSAN_OPTIONS:log_path=$reports/report"; fi
    cd "$root" && ctest --preset "$preset" --parallel "$(nproc)" --timeout 300 --output-on-failure "${ctest_args[@]}"
  ) >"$log" 2>&1 || status=$?
  # ctest lists them under "The following tests FAILED:", as "  12 - <name> (Failed)".
  awk '/^The following tests FAILED:/ { listed = 1; next }
       listed && /^[[:space:]]+[0-9]+ - / { sub(/^[[:space:]]+[0-9]+ - /, ""); sub(/ \([^()]*\)$/, ""); print; next }
       { listed = 0 }' "$log"
  if [ -n "$reports" ] && [ -n "$(ls -A "$reports")" ]; then
    echo "ThreadSanitizer reports: $(find "$reports" -type f | wc -l) in $reports"
  elif [ -n "$reports" ]; then
    rmdir "$reports"
  fi
  if [ "$status" -ne 0 ] && ! grep -q 'tests failed out of' "$log"; then echo "ctest itself (exit $status)"; fi
}

# summary_line LOG: ctest's count of passed and failed tests in a run's log.
summary_line() { grep -o '[0-9]*% tests passed, [0-9]* tests failed out of [0-9]*' "$1" | tail -n 1 || echo "no count"; }

declare -A failed_runs failed_tests
started=$SECONDS
for preset in $presets; do
  failed_runs[$preset]=0
  failed_tests[$preset]=0
  : >"$logs/$preset-failures.txt"
  for n in $(seq "$runs"); do
    failures=$(run_once "$preset" "$n")
    count=0
    [ -z "$failures" ] || count=$(wc -l <<<"$failures")
    if [ "$count" -gt 0 ]; then
      failed_runs[$preset]=$((failed_runs[$preset] + 1))
      failed_tests[$preset]=$((failed_tests[$preset] + count))
      printf '%s\n' "$failures" >>"$logs/$preset-failures.txt"
    fi
    echo "repeat: $preset run $n/$runs: $count failed ($(summary_line "$logs/$preset-$n.log")) [$((SECONDS - started)) s]" >&2
  done
done
stop_soak

status=0
for preset in $presets; do
  echo "repeat: $preset: $runs runs, ${failed_runs[$preset]} failed (${failed_tests[$preset]} failed tests)"
  if [ -s "$logs/$preset-failures.txt" ]; then
    sort "$logs/$preset-failures.txt" | uniq -c | sort -rn | sed 's/^ *\([0-9]*\) /repeat:   \1x /'
    status=1
  fi
done
if [ -n "$soak" ]; then
  soaks=$(grep -c '^soak: requests=' "$logs/soak.log" || true)
  bad=$(grep '^soak: requests=' "$logs/soak.log" | grep -vc ' errors=0 ' || true)
  echo "repeat: soak: $soaks soak(s) ended beside the tests, $bad with errors (log $logs/soak.log)"
fi
echo "repeat: logs in $logs ($((SECONDS - started)) s)"
exit "$status"
