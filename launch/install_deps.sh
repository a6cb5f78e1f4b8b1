#!/usr/bin/env bash
# Installs the Debian 12 packages cppworker builds and tests with, and any packages named as
# arguments (launch/bench.sh adds its load generator and reference proxy). Idempotent: it asks
# apt only for what is missing, so the README's commands stay fast on a machine that has them.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libfmt-dev libspdlog-dev libcli11-dev catch2 libssl-dev libmimalloc-dev libxml2-dev
  curl openssl procps python3 python3-pycryptodome
  chromium  # the dashboard's browser test (tests/dashboard), headless
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The deploy tests (tests/deploy) install their npm packages themselves. Asked for by command, not
# by package: a Node.js installed otherwise (NodeSource's nodejs carries npm) serves as well, and
# Debian's npm package would conflict with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install_deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
