#!/usr/bin/env bash
# Mutation check: applies each deliberate bug of launch/mutations.txt, one at a time, to a scratch
# copy of the tree, rebuilds it and runs the test suite. A mutation is caught when the build fails
# or a test fails twice (a failing test is run once more, so a flaky one is not taken for a catch).
# Too slow for ctest (a full build first, then a rebuild and a suite run per mutation), so it is
# run by hand after changing tests or the code the list covers.
#   launch/mutate.sh           every mutation of the list
#   launch/mutate.sh REGEX     only those whose name matches REGEX (Python re.search)
# Prints one line per mutation and a summary line. Exit status: 0 when every mutation was caught;
# 1 when one was missed or no longer applies (its old text is not in its file exactly once);
# 2 when the list is malformed, nothing matches, or the unmutated tree does not build or pass.
# Works in build/mutate/ (src: the copy, build: its build, logs: one build and test log per
# mutation); no source file outside it is ever written.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

list=$root/launch/mutations.txt
work=$root/build/mutate
src=$work/src
bdir=$work/build
logs=$work/logs
backup=$work/backup

die() { echo "mutate: $*" >&2; exit 2; }

case "${1:-}" in
  -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ $# -le 1 ] || die "usage: launch/mutate.sh [REGEX]"
pattern=${1:-}

# Exact bytes in and out: the list's text, the copy and the restore all go through this helper, so
# no shell quoting or sed escaping can bend a mutation.
read -r -d '' helper_py <<'PY' || true
import os, re, sys

def fail(message):
    print(f"mutate: {message}", file=sys.stderr)
    sys.exit(2)

def parse(path):
    entries, current = {}, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        where = f"{path}:{number}"
        if line.startswith("== "):
            name = line[3:].strip()
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
                fail(f"{where}: bad mutation name {name!r}")
            if name in entries:
                fail(f"{where}: mutation {name} listed twice")
            current = entries[name] = {"file": "", "why": "", "tests": "", "old": [], "new": [], "at": where}
        elif not line.strip() or line.startswith("#"):
            continue
        elif current is None:
            fail(f"{where}: text before the first '== name'")
        elif line.startswith("-"):
            current["old"].append(line[1:])
        elif line.startswith("+"):
            current["new"].append(line[1:])
        elif m := re.fullmatch(r"(file|why|tests):\s*(.*)", line):
            current[m[1]] = m[2].strip()
        else:
            fail(f"{where}: not understood: {line!r}")
    for name, e in entries.items():
        if not e["file"] or not e["old"]:
            fail(f"{e['at']}: mutation {name} needs a file and old text")
        e["old"] = "\n".join(e["old"]).encode()
        e["new"] = "\n".join(e["new"]).encode()
        if e["old"] == e["new"]:
            fail(f"{e['at']}: mutation {name} changes nothing")
    return entries

def read(path):
    with open(path, "rb") as f:
        return f.read()

def write(path, data):
    # A fresh write, never a copy that keeps the old mtime: ninja must see every change.
    with open(path, "wb") as f:
        f.write(data)

def cmd_names(list_path, pattern):
    for name in parse(list_path):
        if re.search(pattern, name):
            print(name)

def cmd_field(list_path, name, key):
    print(parse(list_path)[name][key])

def cmd_check(list_path, src, *names):
    entries, stale = parse(list_path), False
    for name in names:
        e = entries[name]
        path = os.path.join(src, e["file"])
        count = read(path).count(e["old"]) if os.path.isfile(path) else -1
        if count != 1:
            found = "file missing" if count < 0 else f"old text found {count} times"
            print(f"STALE   {name}: {e['file']}: {found} ({e['at']})")
            stale = True
    sys.exit(1 if stale else 0)

def cmd_apply(list_path, src, name, backup):
    e = parse(list_path)[name]
    path = os.path.join(src, e["file"])
    text = read(path)
    if text.count(e["old"]) != 1:
        fail(f"{name}: old text not found exactly once in {e['file']}")
    os.makedirs(backup, exist_ok=True)
    write(os.path.join(backup, "content"), text)
    write(os.path.join(backup, "path"), e["file"].encode())
    write(path, text.replace(e["old"], e["new"], 1))

def cmd_restore(src, backup):
    marker = os.path.join(backup, "path")
    if not os.path.exists(marker):
        return
    write(os.path.join(src, read(marker).decode()), read(os.path.join(backup, "content")))
    os.remove(marker)

def cmd_sync(origin, copy):
    # Copies only what differs, so an unchanged file keeps its mtime and ninja rebuilds nothing.
    wanted = set()
    for rel in sys.stdin.buffer.read().decode().split("\0"):
        if not rel or rel.split("/")[0] == "build":
            continue
        source = os.path.join(origin, rel)
        if os.path.islink(source) or not os.path.isfile(source):
            continue
        wanted.add(rel)
        target = os.path.join(copy, rel)
        data = read(source)
        if not os.path.isfile(target) or read(target) != data:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            write(target, data)
        mode = os.stat(source).st_mode & 0o777
        if os.stat(target).st_mode & 0o777 != mode:
            os.chmod(target, mode)
    for directory, _, files in os.walk(copy):
        for f in files:
            path = os.path.join(directory, f)
            if os.path.relpath(path, copy) not in wanted:
                os.remove(path)

commands = {"names": cmd_names, "field": cmd_field, "check": cmd_check, "apply": cmd_apply,
            "restore": cmd_restore, "sync": cmd_sync}
commands[sys.argv[1]](*sys.argv[2:])
PY
helper() { python3 -c "$helper_py" "$@"; }

# Up to three names, then how many more. Catch test names may hold commas, hence the semicolons.
show() {
  local shown="" i
  for ((i = 1; i <= $# && i <= 3; i++)); do shown+="${shown:+; }${!i}"; done
  [ $# -le 3 ] || shown+="; +$(($# - 3)) more"
  echo "$shown"
}

# The names of the tests the last ctest run saw fail.
last_failed() { sed 's/^[0-9]*://' "$bdir/Testing/Temporary/LastTestsFailed.log" 2>/dev/null || true; }

# run_suite LOG [REGEX]: the suite as run_tests.sh runs it, output in LOG. A test that fails is
# run once more: only a test failing twice counts (in `failed`), since a test that fails now and
# then under load (in `flaky`) would otherwise pass for a catch. Fails when `failed` is not empty.
run_suite() {
  local log=$1 regex=${2:-} first=()
  local args=(--test-dir "$bdir" --parallel "$(nproc)" --timeout 300 --no-tests=error --output-on-failure)
  [ -z "$regex" ] || args+=(-R "$regex")
  failed=() flaky=()
  rm -f "$bdir/Testing/Temporary/LastTestsFailed.log"
  ctest "${args[@]}" >"$log" 2>&1 && return 0
  mapfile -t first < <(last_failed)
  if [ ${#first[@]} -eq 0 ]; then
    failed=("ctest itself, see $log")
    return 1
  fi
  echo "== once more, the tests that failed" >>"$log"
  if ! ctest "${args[@]}" --rerun-failed >>"$log" 2>&1; then mapfile -t failed < <(last_failed); fi
  local t
  for t in "${first[@]}"; do
    printf '%s\n' "${failed[@]}" | grep -qxF -- "$t" || flaky+=("$t")
  done
  [ ${#failed[@]} -eq 0 ]
}

"$root/launch/install_deps.sh"
mkdir -p "$work" "$logs"
exec 9>"$work/lock"
flock -n 9 || die "another run holds $work/lock"

names_text=$(helper names "$list" "$pattern")
[ -n "$names_text" ] || die "no mutation in $list matches '$pattern'"
mapfile -t names <<<"$names_text"

started=$SECONDS
# A run killed outright leaves its mutation in the copy; the sync below would fix the content, but
# the stale backup would otherwise be written over a later mutation's restore.
helper restore "$src" "$backup"
trap 'helper restore "$src" "$backup"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== copying the working tree to $src" >&2
git -C "$root" ls-files -z --cached --others --exclude-standard | helper sync "$root" "$src"

if ! helper check "$list" "$src" "${names[@]}"; then
  echo "mutate: update $list to the code as it is now" >&2
  exit 1
fi

# The default preset's settings, with the copy's own directories.
if [ ! -f "$bdir/build.ninja" ]; then
  echo "== configuring $bdir" >&2
  cmake -S "$src" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$logs/configure.log" 2>&1 ||
    { tail -n 30 "$logs/configure.log" >&2; die "configure failed, see $logs/configure.log"; }
fi
echo "== building the unmutated tree" >&2
cmake --build "$bdir" >"$logs/unmutated.build.log" 2>&1 ||
  { tail -n 30 "$logs/unmutated.build.log" >&2; die "the unmutated tree does not build, see $logs/unmutated.build.log"; }
# A mutation check against a red suite would count every failure as a catch.
echo "== running the unmutated suite" >&2
run_suite "$logs/unmutated.test.log" ||
  die "the unmutated suite fails (${#failed[@]} failed twice: $(show "${failed[@]}")); see $logs/unmutated.test.log"
[ ${#flaky[@]} -eq 0 ] || echo "mutate: warning: flaky on the unmutated tree: $(show "${flaky[@]}")" >&2
echo "== unmutated: builds and passes ($((SECONDS - started)) s so far)" >&2

caught=0 missed=0
for name in "${names[@]}"; do
  failed=() flaky=()
  file=$(helper field "$list" "$name" file)
  tests=$(helper field "$list" "$name" tests)
  t0=$SECONDS
  echo "== $name ($file)" >&2
  helper apply "$list" "$src" "$name" "$backup"
  if ! cmake --build "$bdir" >"$logs/$name.build.log" 2>&1; then
    result=caught detail="build failed, see $logs/$name.build.log"
  elif ! run_suite "$logs/$name.test.log" "$tests"; then
    result=caught detail="${#failed[@]} failed: $(show "${failed[@]}")"
  else
    result=MISSED detail="no test failed"
    [ -z "$tests" ] || detail+=" (of -R $tests)"
  fi
  [ ${#flaky[@]} -eq 0 ] || detail+=" (flaky, passed when run again: $(show "${flaky[@]}"))"
  helper restore "$src" "$backup"
  if [ "$result" = caught ]; then caught=$((caught + 1)); else missed=$((missed + 1)); fi
  printf '%-7s %-24s %s [%d s]\n' "$result" "$name" "$detail" $((SECONDS - t0))
done

echo "mutate: $caught caught, $missed missed ($((SECONDS - started)) s)"
[ "$missed" -eq 0 ]
