#!/usr/bin/env python3
"""Builds every example plugin of README.md against an installed cppworker package, serves each with
the installed worker and runs the transcript the README shows for it.

An example is a fenced ```cpp or ```c block whose first line is `// example: NAME` or
`/* example: NAME */`: a whole plugin. Each is written to SCRATCH/NAME, and one CMake project
builds them all as a third party would (find_package(cppworker 0.3), cppworker_add_plugin), with
warnings as errors and Boost out of reach (-DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON; the compiler's
dependency lists must name no Boost header either).

A transcript is a fenced ```console block whose first line is `# example: NAME ...`: `$ ` lines are
shell commands, the lines after each are what it prints. The example is served by PREFIX/bin/cppworker
(standalone, so unsigned bare payloads are accepted); `localhost:3000` in a command is that worker.
A first line that names `tests/fakes/fake_X.py` also starts that fake model server, which
`localhost:PORT` with the port of the example's model_server_url then means, and the worker forwards
to. Each command must print exactly the lines shown (trailing blank lines aside) within 60 s, and the
worker must then stop cleanly on SIGTERM. Every example needs a transcript.

Exits non-zero when there is no example, one fails to build, lacks a transcript, or answers otherwise.
Usage: readme_examples.py README PREFIX SCRATCH
"""
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time

BLOCK = re.compile(r"^```(cpp|c|console)\n(.*?)^```$", re.M | re.S)
NAME = re.compile(r"^(?://|/\*) example: ([A-Za-z0-9_]+\.(?:cpp|c))(?: \*/)?$")
TRANSCRIPT = re.compile(r"^# example: ([A-Za-z0-9_]+\.(?:cpp|c))\b(.*)$")
FAKE = re.compile(r"tests/fakes/(fake_[a-z]+\.py)")
MODEL_SERVER_URL = re.compile(r'model_server_url = "http://127\.0\.0\.1:([0-9]+)"')
COMMAND_SECONDS = 60


def blocks(readme):
    """(examples by name, transcripts by name) in README order."""
    examples, transcripts = {}, {}
    for kind, body in BLOCK.findall(readme):
        first = body.split("\n", 1)[0]
        if kind == "console":
            m = TRANSCRIPT.match(first)
            if m:
                if m.group(1) in transcripts:
                    sys.exit(f"README: two transcripts for {m.group(1)}")
                transcripts[m.group(1)] = (m.group(2), body.split("\n")[1:])
            continue
        m = NAME.match(first)
        if m:
            if m.group(1) in examples:
                sys.exit(f"README: two examples named {m.group(1)}")
            examples[m.group(1)] = body
    return examples, transcripts


def steps(lines):
    """[(command, expected output lines)] of a transcript."""
    out = []
    for line in lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            sys.exit(f"README transcript: output before any command: {line!r}")
    return [(cmd, "\n".join(expected).rstrip()) for cmd, expected in out]


def build(examples, prefix, scratch):
    scratch.mkdir(parents=True, exist_ok=True)
    cmake = ["cmake_minimum_required(VERSION 3.25)", "project(readme_examples LANGUAGES C CXX)",
             "find_package(cppworker 0.3 REQUIRED)", "find_package(Threads REQUIRED)"]
    for name, body in examples.items():
        (scratch / name).write_text(body)
        target = name.rsplit(".", 1)[0]
        cmake.append(f"cppworker_add_plugin({target} SOURCES {name} LINK Threads::Threads)")
        cmake.append(f"target_compile_options({target} PRIVATE -Wall -Wextra -Wpedantic -Werror)")
        if name.endswith(".c"):
            cmake.append(f"set_target_properties({target} PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF)")
    (scratch / "CMakeLists.txt").write_text("\n".join(cmake) + "\n")
    out = scratch / "build"
    for cmd in (["cmake", "-S", str(scratch), "-B", str(out), "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}",
                 "-DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON"],
                ["cmake", "--build", str(out)],
                ["ninja", "-C", str(out), "-t", "deps"]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    boost = [line.strip() for line in done.stdout.splitlines() if "/boost/" in line]
    if boost:
        sys.exit(f"README examples read Boost headers: {boost[:3]}")
    return out


def wait_for_file(path, process, what, log):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit(f"{what} did not start:\n{log.read_text() if log.exists() else ''}")


def stop(process, what, log, must_exit_cleanly):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            sys.exit(f"{what} did not stop within 60 s of SIGTERM:\n{log.read_text()}")
    if must_exit_cleanly and process.returncode != 0:
        sys.exit(f"{what} exited {process.returncode} after SIGTERM:\n{log.read_text()}")


def run(name, example, header, lines, plugin, prefix, src, work):
    env = {k: v for k, v in os.environ.items() if k not in ("BACKEND", "PLUGIN_PATH", "CPPWORKER_PLUGIN_DIR")}
    replacements = {}
    fake = None
    args = [str(pathlib.Path(prefix) / "bin" / "cppworker"), "--plugin", str(plugin), "--listen", "127.0.0.1",
            "--port", "0", "--port-file", str(work / "port"), "--benchmark-cache", str(work / "benchmark")]
    fake_name = FAKE.search(header)
    if fake_name:
        url = MODEL_SERVER_URL.search(example)
        if not url:
            sys.exit(f"{name}: its transcript names a model server, but it has no model_server_url")
        fake_log = work / "fake.log"
        fake = subprocess.Popen(["/usr/bin/python3", str(pathlib.Path(src) / "tests" / "fakes" / fake_name.group(1)),
                                 "--port", "0", "--port-file", str(work / "fake-port"), "--load-delay", "0",
                                 "--exit-with-parent"], stdout=fake_log.open("w"), stderr=subprocess.STDOUT)
        fake_port = wait_for_file(work / "fake-port", fake, fake_name.group(1), fake_log)
        replacements[f"localhost:{url.group(1)}"] = f"127.0.0.1:{fake_port}"
        args += ["--model-server-url", f"http://127.0.0.1:{fake_port}"]
    log = work / "worker.log"
    worker = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        replacements["localhost:3000"] = "127.0.0.1:" + wait_for_file(work / "port", worker, f"{name}'s worker", log)
        for command, expected in steps(lines):
            shown = command
            for old, new in replacements.items():
                command = command.replace(old, new)
            try:
                done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=COMMAND_SECONDS)
                got = done.stdout.rstrip()
            except subprocess.TimeoutExpired:
                got = f"(no end within {COMMAND_SECONDS} s)"
            if got != expected:
                sys.exit(f"{name}: `{shown}` printed\n{got}\ninstead of\n{expected}\nworker log:\n{log.read_text()}")
            print(f"README example {name}: $ {shown}")
    finally:
        stop(worker, f"{name}'s worker", log, must_exit_cleanly=True)
        if fake:
            stop(fake, "the fake model server", work / "fake.log", must_exit_cleanly=False)


def main():
    readme, prefix, scratch = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
    src = readme.resolve().parent
    examples, transcripts = blocks(readme.read_text())
    if not examples:
        sys.exit("README: no example found")
    missing = sorted(set(examples) - set(transcripts))
    stray = sorted(set(transcripts) - set(examples))
    if missing or stray:
        sys.exit(f"README: examples without a transcript: {missing}; transcripts without an example: {stray}")
    out = build(examples, prefix, scratch)
    for name, body in examples.items():
        plugin = out / (name.rsplit(".", 1)[0] + ".so")
        if not plugin.is_file():
            sys.exit(f"{name}: no {plugin} built")
        print(f"README example {name}: built {plugin.name}")
        header, lines = transcripts[name]
        with tempfile.TemporaryDirectory(dir=scratch) as work:
            run(name, body, header, lines, plugin, prefix, src, pathlib.Path(work))


if __name__ == "__main__":
    main()
