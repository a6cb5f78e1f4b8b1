#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, ASan + UBSan) and runs each for a time budget.
#   launch/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default 60 s, every target
# Prints one line per target: its name, the inputs run, the corpus size and the result. Seeds come
# from tests/fuzz/corpus/<target>/ (read only); what the fuzzer adds goes to build/fuzz/corpus/<target>/.
# A crash, leak, timeout or sanitizer report leaves the input in build/fuzz/artifacts/<target>/ and
# a copy in tests/fuzz/regressions/<target>/, which the plain test suite replays from then on
# (ctest -R fuzz); the full report is in build/fuzz/logs/<target>.log. Exits 1 if any target failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

seconds=${1:-60}
shift || true
case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS_PER_TARGET must be a whole number, not '$seconds'" >&2; exit 2 ;; esac

# clang and its runtime libraries (libFuzzer, the sanitizers) on top of the usual build packages.
"$root/launch/install_deps.sh" clang libclang-rt-14-dev
configure_and_build fuzz cppworker_fuzzers

build=$root/build/fuzz
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for exe in "$build"/bin/fuzz_*; do targets+=("${exe##*/fuzz_}"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
printf '%-18s %12s %18s  %s\n' target runs corpus result
for t in "${targets[@]}"; do
  exe=$build/bin/fuzz_$t
  seeds=$root/tests/fuzz/corpus/$t
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  log=$build/logs/$t.log
  if [ ! -x "$exe" ]; then
    printf '%-18s %12s %18s  %s\n' "$t" - - "FAILED: no such target"
    failed=1
    continue
  fi
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  rm -f "$artifacts"/*
  status=0
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1 || status=$?

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  size=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | sed 's/corp: //')
  found=$(find "$artifacts" -type f | head -1)
  if [ "$status" -eq 0 ] && [ -z "$found" ] &&
     ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz check failed' "$log"; then
    result=ok
  else
    failed=1
    result="FAILED (exit $status)"
    if [ -n "$found" ]; then
      mkdir -p "$root/tests/fuzz/regressions/$t"
      cp "$found" "$root/tests/fuzz/regressions/$t/"
      result+=": input $found, copied to tests/fuzz/regressions/$t/; report in $log"
    else
      result+=": report in $log"
    fi
  fi
  printf '%-18s %12s %18s  %s\n' "$t" "${runs:-?}" "${size:-?}" "$result"
done
exit $failed
