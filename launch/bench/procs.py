"""The benchmark's child processes (nginx instances, the streaming server, workers, wrk), all on
127.0.0.1 and all stopped when the driver ends; and what /proc says about their CPU and memory."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import clients

HERE = Path(__file__).resolve().parent
# /usr/sbin is not on every user's PATH.
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or "/usr/sbin/nginx"
PR_SET_PDEATHSIG = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

_children = []
_libc = ctypes.CDLL(None, use_errno=True)


class BenchError(Exception):
    """The benchmark cannot run: a target did not start, or exited, or wrk printed no result."""


def _die_with_driver():
    # Even a driver killed outright (SIGKILL) leaves no server behind: SIGTERM reaches each child.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv, log_path, cwd=None, env=None):
    try:
        with open(log_path, "ab") as log:
            p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=cwd, env=env, preexec_fn=_die_with_driver)
    except OSError as e:
        raise BenchError(f"cannot start {argv[0]}: {e}") from e
    _children.append(p)
    return p


def stop(p, timeout=10):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    _children.remove(p)


def stop_all():
    for p in reversed(list(_children)):
        stop(p)


def tail(path, lines=20):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_for(condition, proc, what, log, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with {proc.returncode} before it was up; its log ends:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what} not up after {timeout} s; its log ends:\n{tail(log)}")
        time.sleep(0.01)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def minimal_env():
    # Nothing from the caller's environment reaches a child: a REPORT_ADDR or MODEL_LOG set in the
    # shell would change what the worker does.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


class Nginx:
    """An nginx of our own from a template in this folder: its own prefix, config, pid file and
    error log under `workdir`, in the foreground. nginx cannot report a port it picked, so a free
    one is chosen here for each placeholder in `listen`, and chosen again should another process
    take it first. `upstreams` fill the other placeholders."""

    def __init__(self, template, workdir, listen=("PORT",), **upstreams):
        self.dir = Path(workdir)
        self.dir.mkdir()
        self.log = log = self.dir / "error.log"
        for attempt in range(3):
            self.ports = {name: _free_port() for name in listen}
            conf = (HERE / template).read_text().replace("@DIR@", str(self.dir))
            for name, value in {**self.ports, **upstreams}.items():
                conf = conf.replace(f"@{name}@", str(value))
            (self.dir / "nginx.conf").write_text(conf)
            log.unlink(missing_ok=True)
            self.proc = spawn([NGINX, "-p", f"{self.dir}/", "-c", self.dir / "nginx.conf", "-e", log],
                              self.dir / "stdout.log", env=minimal_env())
            try:
                _wait_for(lambda: all(map(_listening, self.ports.values())), self.proc, f"nginx ({template})", log, 10)
                break
            except BenchError:
                if attempt == 2 or "Address already in use" not in tail(log):
                    raise
                stop(self.proc)
        self.port = self.ports["PORT"]

    def pids(self):
        """The master and its workers: what nginx spends is the sum of them."""
        return [self.proc.pid] + children_of(self.proc.pid)


class StreamServer:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir()
        port_file = self.dir / "port"
        self.log = self.dir / "server.log"
        self.proc = spawn(["/usr/bin/python3", HERE / "stream_server.py", port_file], self.log, env=minimal_env())
        _wait_for(port_file.exists, self.proc, "the streaming server", self.log, 10)
        self.port = int(port_file.read_text())

    def pids(self):
        return [self.proc.pid]


class Worker:
    """A cppworker on an ephemeral 127.0.0.1 port, running in its own folder so that its benchmark
    cache (or anything else it writes) stays there; ready once /readyz answers 200."""

    def __init__(self, binary, workdir, args, benchmark_cache=None, wrapper=(), env=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "worker.log"
        port_file = self.dir / "port"
        port_file.unlink(missing_ok=True)
        cache = benchmark_cache or self.dir / "benchmark-cache"
        self.started = time.monotonic()
        # `wrapper` runs the worker (allocs.py: heaptrack), with `env` added to the minimal one.
        self.proc = spawn([*wrapper, binary, "--listen", "127.0.0.1", "--port", "0", "--port-file", port_file,
                           "--benchmark-cache", cache, *args], self.log, cwd=self.dir,
                          env={**minimal_env(), **(env or {})})
        _wait_for(port_file.exists, self.proc, f"cppworker ({self.dir.name})", self.log, 30)
        self.port = int(port_file.read_text())
        _wait_for(lambda: clients.http_get(self.port, "/readyz")[0] == 200, self.proc,
                  f"cppworker ({self.dir.name}, /readyz)", self.log, 120)
        self.ready_after = time.monotonic() - self.started

    def pids(self):
        return [self.proc.pid]


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if _stat_fields(entry)[1] == str(pid):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _stat_fields(pid):
    # Fields after the command name, which may itself hold spaces and parentheses.
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pids):
    """utime + stime of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_kib(pids):
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total
