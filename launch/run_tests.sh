#!/usr/bin/env bash
# Builds and runs the whole test suite through ctest.
#   launch/run_tests.sh               the plain build (preset "default")
#   launch/run_tests.sh --sanitize    the AddressSanitizer + UBSan build (preset "sanitize")
#   launch/run_tests.sh --tsan        the ThreadSanitizer build (preset "tsan")
#   launch/run_tests.sh --all         the plain, the ASan + UBSan and the TSan build, one after the other
# Further arguments go to ctest, e.g. `launch/run_tests.sh -R hello`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

presets=(default)
case "${1:-}" in
  --sanitize) presets=(sanitize); shift ;;
  --tsan) presets=(tsan); shift ;;
  --all) presets=(default sanitize tsan); shift ;;
esac

# A race's report goes to a file, so that a race in a process whose end no test looks at still
# fails the run; they are printed below.
sanitizer_environment

for preset in "${presets[@]}"; do
  echo "== $preset: build" >&2
  configure_and_build "$preset"
  if [ "$preset" = default ] && [ -z "${CPPWORKER_BUNDLE_TARBALL:-}" ]; then
    # The relocatable bundle is a build of its own (preset "bundle"); made here rather than inside
    # ctest, so that the test run stays a test run and the bundle test checks what this made.
    echo "== bundle: build (launch/package.sh)" >&2
    CPPWORKER_BUNDLE_TARBALL=$("$root/launch/package.sh")
    export CPPWORKER_BUNDLE_TARBALL
  fi
  echo "== $preset: test" >&2
  reports=
  if [ "$preset" = tsan ]; then
    reports="$root/build/tsan/race-reports"
    rm -rf "$reports" && mkdir -p "$reports"
  fi
  status=0
  (
    if [ -n "$reports" ]; then export TSAN_OPTIONS="$TSAN_OPTIONS:log_path=$reports/report"; fi
    cd "$root" && ctest --preset "$preset" --parallel "$(nproc)" --timeout 300 "$@"
  ) || status=$?
  if [ -n "$reports" ] && [ -n "$(ls -A "$reports")" ]; then
    for report in "$reports"/*; do
      echo "== ThreadSanitizer report $report:" >&2
      cat "$report" >&2
    done
    echo "== tsan: $(ls "$reports" | wc -l) process(es) reported a race" >&2
    status=1
  fi
  if [ "$status" -ne 0 ]; then exit "$status"; fi
done
