#!/usr/bin/env bash
# Builds the relocatable bundle dist/cppworker-<version>-linux-x86_64.tar.gz: the worker, its
# bundled plugins, the scripts an instance runs (bin/start_server.sh runs the bundle's worker,
# supervised, without building; bin/reload.sh reloads it; bin/launch_<server>.sh start a model
# server first) and the CMake package for out-of-tree plugins, under one top folder. It runs
# unpacked anywhere, with nothing from the system but glibc 2.34 or later and its base libraries
# (see the README's "Relocatable bundle").
#   launch/package.sh                 build (preset "bundle", build/bundle) and pack into dist/
#   launch/package.sh --output DIR    pack into DIR instead
# Prints the tarball's path on stdout; incremental: seconds when nothing changed since the last.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

output=$root/dist
while [ $# -gt 0 ]; do
  case $1 in
    --output) [ -n "${2-}" ] || { echo "package: --output needs a directory" >&2; exit 2; }; output=$2; shift 2 ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$output"
output=$(cd "$output" && pwd)

build=$root/build/bundle
mkdir -p "$build"
# One packer at a time per tree (ctest may run the bundle test of two presets at once).
exec 9>"$build/.package.lock"
flock 9

configure_and_build bundle cppworker cppworker_bundled_plugins

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || { echo "package: no project version in $build/CMakeCache.txt" >&2; exit 1; }
name=cppworker-$version-linux-x86_64
stage=$build/stage
rm -rf "$stage"
mkdir -p "$stage"

# The install tree is the bundle's layout: bin/cppworker, lib/cppworker/plugins/*.so,
# lib/libmimalloc.so.2, include/cppworker/, lib/cmake/cppworker/, share/cppworker/examples/.
cmake --install "$build" --prefix "$stage/$name" --strip >/dev/null

# The scripts an instance needs, beside the worker: the model-server launchers run
# "$here/start_server.sh" and source "$here/model_server.sh"; reload.sh needs nothing of the tree.
install -m 755 "$root/launch/bundle/start_server.sh" "$stage/$name/bin/start_server.sh"
install -m 755 "$root/launch/reload.sh" "$stage/$name/bin/reload.sh"
for script in launch_tgi.sh launch_vllm.sh launch_comfyui.sh launch_sdauto.sh; do
  install -m 755 "$root/launch/$script" "$stage/$name/bin/$script"
done
install -m 644 "$root/launch/model_server.sh" "$stage/$name/bin/model_server.sh"

tarball=$output/$name.tar.gz
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -czf "$tarball.tmp" "$name"
mv -f "$tarball.tmp" "$tarball"
echo "package: $tarball ($(du -h "$tarball" | cut -f1))" >&2
echo "$tarball"
