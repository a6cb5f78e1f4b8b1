"""Checks that ctest's entries and the Catch2 test cases are the same set, one to one.

usage: check_ctest_entries.py CTEST BUILD_DIR CATCH_EXECUTABLE...

For each Catch2 executable: every test case it lists has exactly one ctest entry; every entry's
test spec selects exactly its own test case (asked of the executable itself, so Catch's own parsing
of the spec decides); every entry passes `-w NoTests`, so a spec that selects nothing fails. Prints
each discrepancy and exits 1 if there is any.
"""

import json
import os
import subprocess
import sys


def listed(executable, *spec):
    out = subprocess.run([executable, *spec, "--list-test-names-only"], capture_output=True, text=True,
                         check=False).stdout
    return [line for line in out.splitlines() if line.strip()]


def main():
    ctest, build_dir, executables = sys.argv[1], sys.argv[2], sys.argv[3:]
    shown = subprocess.run([ctest, "--test-dir", build_dir, "--show-only=json-v1"], capture_output=True,
                           text=True, check=True).stdout
    entries = {}
    for test in json.loads(shown)["tests"]:
        command = test.get("command") or []
        if command and os.path.realpath(command[0]) in map(os.path.realpath, executables):
            entries.setdefault(os.path.realpath(command[0]), []).append((test["name"], command[1:]))

    problems = []
    total = 0
    for executable in executables:
        name = os.path.basename(executable)
        cases = listed(executable)
        mine = entries.get(os.path.realpath(executable), [])
        if not cases:
            problems.append(f"{name}: lists no test case")
        seen = {}
        for entry, args in mine:
            total += 1
            seen[entry] = seen.get(entry, 0) + 1
            if not args:
                problems.append(f"{name}: entry '{entry}' passes no test spec")
                continue
            if "-w" not in args or "NoTests" not in args:
                problems.append(f"{name}: entry '{entry}' does not fail on matching nothing (-w NoTests)")
            selected = listed(executable, args[0])
            if selected != [entry]:
                problems.append(f"{name}: entry '{entry}' selects {selected}")
        for case in cases:
            if seen.get(case, 0) != 1:
                problems.append(f"{name}: test case '{case}' has {seen.get(case, 0)} ctest entries")
        for entry, count in seen.items():
            if entry not in cases:
                problems.append(f"{name}: entry '{entry}' names no test case")

    for p in problems:
        print(p)
    print(f"{total} ctest entries over {len(executables)} Catch2 executables, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
