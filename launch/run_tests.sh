#!/usr/bin/env bash
# Builds and runs the whole test suite through ctest.
#   launch/run_tests.sh               the plain build (preset "default")
#   launch/run_tests.sh --sanitize    the AddressSanitizer + UBSan build (preset "sanitize")
#   launch/run_tests.sh --all         both, one after the other
# Further arguments go to ctest, e.g. `launch/run_tests.sh -R hello`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

presets=(default)
case "${1:-}" in
  --sanitize) presets=(sanitize); shift ;;
  --all) presets=(default sanitize); shift ;;
esac

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for preset in "${presets[@]}"; do
  echo "== $preset: build" >&2
  configure_and_build "$preset"
  echo "== $preset: test" >&2
  (cd "$root" && ctest --preset "$preset" --parallel "$(nproc)" --timeout 300 "$@")
done
