# Shared by the launch scripts: where the tree is, and how to get an up-to-date build of a preset.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# configure_and_build PRESET [TARGET...]: configures once, then builds incrementally.
configure_and_build() {
  local preset=$1; shift
  "$root/launch/install_deps.sh"
  if [ ! -f "$root/build/$preset/build.ninja" ]; then
    (cd "$root" && cmake --preset "$preset" >&2)
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  (cd "$root" && cmake --build --preset "$preset" "${targets[@]}" >&2)
}

# sanitizer_environment: what the sanitizer builds' processes run with, unless already set. A race
# stops the process that has it (the worker, a fake, a test binary); suppressions, each proven
# benign, live in tests/tsan.supp. Where TSan writes its reports (log_path) is the caller's choice.
sanitizer_environment() {
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp}
}
