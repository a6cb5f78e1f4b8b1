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
