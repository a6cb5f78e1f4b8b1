#!/usr/bin/env bash
# Installs the dashboard test's npm packages (puppeteer-core) into DEST, in the build tree, from the
# committed package.json and package-lock.json with `npm ci`; again only when the lock changed.
# The browser is Debian's chromium (launch/install_deps.sh): puppeteer-core downloads none.
#   install_tools.sh SOURCE_DIR DEST
set -euo pipefail
src=$1 dest=$2

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "install_tools: $tool is missing; launch/install_deps.sh installs it" >&2; exit 1; }
done
[ -x /usr/bin/chromium ] || { echo "install_tools: /usr/bin/chromium is missing; launch/install_deps.sh installs it" >&2; exit 1; }
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
stamp=$dest/node_modules/.installed-from-lock
if ! cmp -s "$dest/package-lock.json" "$stamp"; then
  (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$dest/package-lock.json" "$stamp"
fi
