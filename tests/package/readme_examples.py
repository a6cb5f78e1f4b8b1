#!/usr/bin/env python3
"""Builds every example plugin of README.md against an installed cppworker package.

An example is a fenced ```cpp or ```c block whose first line is `// example: NAME` or
`/* example: NAME */`: a whole plugin. Each is written to SCRATCH/NAME, and one CMake project
builds them all as a third party would (find_package(cppworker 0.3), cppworker_add_plugin), with
warnings as errors. Exits non-zero when there is no example or one fails to build.

Usage: readme_examples.py README PREFIX SCRATCH
"""
import pathlib
import re
import subprocess
import sys

BLOCK = re.compile(r"^```(cpp|c)\n(.*?)^```$", re.M | re.S)
NAME = re.compile(r"^(?://|/\*) example: ([A-Za-z0-9_]+\.(?:cpp|c))(?: \*/)?$")


def examples(readme):
    for _, body in BLOCK.findall(readme):
        first = body.split("\n", 1)[0]
        m = NAME.match(first)
        if m:
            yield m.group(1), body


def main():
    readme, prefix, scratch = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
    found = list(examples(readme.read_text()))
    names = [n for n, _ in found]
    if not found or len(set(names)) != len(names):
        sys.exit(f"README examples missing or named twice: {names}")
    scratch.mkdir(parents=True, exist_ok=True)
    cmake = ["cmake_minimum_required(VERSION 3.25)", "project(readme_examples LANGUAGES C CXX)",
             "find_package(cppworker 0.3 REQUIRED)", "find_package(Boost 1.74 REQUIRED COMPONENTS json)",
             "find_package(Threads REQUIRED)"]
    for name, body in found:
        (scratch / name).write_text(body)
        target = name.rsplit(".", 1)[0]
        links = ["Threads::Threads"] + (["Boost::json"] if "boost/json" in body else [])
        cmake.append(f"cppworker_add_plugin({target} SOURCES {name} LINK {' '.join(links)})")
        flags = "-Wall -Wextra -Wpedantic -Werror"
        cmake.append(f"target_compile_options({target} PRIVATE {flags})")
        if name.endswith(".c"):
            cmake.append(f"set_target_properties({target} PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF)")
    (scratch / "CMakeLists.txt").write_text("\n".join(cmake) + "\n")
    build = scratch / "build"
    for cmd in (["cmake", "-S", str(scratch), "-B", str(build), "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}"],
                ["cmake", "--build", str(build)]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    for name in names:
        plugin = build / (name.rsplit(".", 1)[0] + ".so")
        if not plugin.is_file():
            sys.exit(f"{name}: no {plugin} built")
        print(f"README example {name}: built {plugin.name}")


if __name__ == "__main__":
    main()
