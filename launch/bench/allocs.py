"""Allocations on the hot path (issue 26, `launch/bench.sh --allocs`): heaptrack's count of calls
to allocation functions per forwarded request and per relayed SSE event, in the steady state.

Differential: a tgi worker runs under heaptrack while one kept-alive client connection sends a
few requests (the low run), then again with many more (the high run); per request is
(calls in the high run - calls in the low run) / (extra requests). Start-up, the first requests
(connections, pools, buffers growing) and shutdown are in both runs and cancel out. The low run
idles for as long as its extra load would have taken, so timers and health probes fall equally in
both. Events likewise: the same number of streams, with few events each, then with many;
per event = difference / extra events. `heaptrack_print --diff` gives the same difference per call
site, the sites a developer has to look at to bring the figure down.

The worker links mimalloc, whose shared library defines operator new and delete itself and comes
before libstdc++ in the worker's symbol lookup: heaptrack's preload library interposes malloc and
friends but not operator new, so every `new` went by it unseen. libstdc++ is preloaded after
heaptrack, so that `new` is libstdc++'s, which calls malloc (heaptrack's, then mimalloc's): the
count is the same, the call merely goes by heaptrack. `self_test` checks it on a program with a
known number of each.

Also runnable as `allocs.py self-test EMPTY_FOLDER` (tests/bench)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # also when run as `allocs.py self-test`

import clients  # noqa: E402
import procs  # noqa: E402
from heaptrack_report import BACKTRACES, group_sites, parse_sites, parse_total, per_unit, summarise  # noqa: E402
from stream_server import GAP_S as STREAM_GAP_S  # noqa: E402

HEAPTRACK = "/usr/bin/heaptrack"
HEAPTRACK_PRINT = "/usr/bin/heaptrack_print"
LIBSTDCXX = "/lib/x86_64-linux-gnu/libstdc++.so.6"

WARMUP_REQUESTS = 50
REQUESTS = (200, 2200)  # per run: the low and the high run
STREAMS = 20  # per run, one after another on one connection
EVENTS = (10, 110)  # per stream: the low and the high run
EVENT_GAP_S = STREAM_GAP_S  # stream_server.py's: each event its own read in the worker
REPEATS = 3


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The stand-in model server for the event runs: stream_server.py, its /generate_stream answering as
# many TGI events as the request's parameters.max_new_tokens, 1 ms apart, each its own chunk.

class EventServer:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir()
        port_file = self.dir / "port"
        self.log = self.dir / "server.log"
        self.proc = procs.spawn(["/usr/bin/python3", Path(__file__).resolve().parent / "stream_server.py", port_file,
                                 "--events-from-request"], self.log, env=procs.minimal_env())
        procs._wait_for(port_file.exists, self.proc, "the event server", self.log, 10)
        self.port = int(port_file.read_text())


# ---------------------------------------------------------------------------------------------
# The runs.

def _body(events):
    # --unsecured: the worker reads auth_data but checks no signature.
    auth = {"cost": 32.0, "endpoint": "bench", "reqnum": 1, "request_idx": 1, "signature": "", "url": ""}
    payload = {"inputs": "What is deep learning?", "parameters": {"max_new_tokens": events}}
    return json.dumps({"auth_data": auth, "payload": payload}).encode()


def _requests(port, path, body, count, expect_events=None):
    """`count` requests one after another on one kept-alive connection; each must answer 200 (and
    carry `expect_events` SSE events when given)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = clients.Reader(s)
        message = clients.request("POST", path, body)
        for i in range(count):
            s.sendall(message)
            status, answer = reader.answer()
            events = answer.count(b"\n\n")
            if status != 200 or (expect_events is not None and events != expect_events):
                raise procs.BenchError(f"POST {path} (request {i + 1} of {count}) answered {status} with "
                                       f"{events} events: {answer[:200]!r}")


class _Traced:
    """A worker under heaptrack; `stop` ends it with SIGTERM, as a deployment would, and waits for
    heaptrack to write its file."""

    def __init__(self, binary, folder, args, cache):
        folder.mkdir(parents=True)
        self.data = folder / "heaptrack"
        env = {"LD_PRELOAD": LIBSTDCXX}
        self.worker = procs.Worker(binary, folder, args, benchmark_cache=cache,
                                   wrapper=[HEAPTRACK, "-o", self.data], env=env)

    def stop(self):
        proc = self.worker.proc
        served = [p for p in procs.children_of(proc.pid) if _comm(p) == "cppworker"]
        if len(served) != 1:
            raise procs.BenchError(f"no single cppworker under heaptrack (children {served})")
        os.kill(served[0], signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            raise procs.BenchError(f"heaptrack did not end; its log ends:\n{procs.tail(self.worker.log)}") from None
        procs.stop(proc)
        return _data_file(self.data, self.worker.log)


def _data_file(stem, log_path):
    # heaptrack compresses with zstd when it has it, else with gzip.
    found = [p for p in (Path(f"{stem}.zst"), Path(f"{stem}.gz")) if p.exists()]
    if not found:
        raise procs.BenchError(f"heaptrack wrote no {stem}.zst or .gz; its log ends:\n{procs.tail(log_path)}")
    return found[0]


def _comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def heaptrack_print(data, diff_from=None):
    argv = [HEAPTRACK_PRINT, "-f", data, "--print-peaks", "0", "--print-temporary", "0",
            "--print-allocators", "1", "--peak-limit", str(BACKTRACES), "--merge-backtraces", "0"]
    if diff_from is not None:
        argv += ["-d", diff_from]
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if r.returncode != 0:
        raise procs.BenchError(f"heaptrack_print failed ({r.returncode}): {r.stderr[-500:]}")
    return r.stdout


def _run(binary, folder, args, cache, load, pad_to=None):
    """One worker under heaptrack: warm-up requests, `load`, then (for a low run) idle up to
    `pad_to` seconds of load; returns the data file and the load's seconds."""
    t = _Traced(binary, folder, args, cache)
    try:
        _requests(t.worker.port, "/generate", _body(5), WARMUP_REQUESTS)
        started = time.monotonic()
        load(t.worker.port)
        took = time.monotonic() - started
        if pad_to is not None and pad_to > took:
            time.sleep(pad_to - took)
    except BaseException:
        procs.stop(t.worker.proc)
        raise
    return t.stop(), took


def _pair(binary, folder, args, cache, low_load, high_load):
    high, took = _run(binary, folder / "high", args, cache, high_load)
    low, _ = _run(binary, folder / "low", args, cache, low_load, pad_to=took)
    return low, high


def _sites(low, high, units, root):
    text = heaptrack_print(high, diff_from=low)
    return group_sites(parse_sites(text), root, units, parse_total(text))


def measure(root, binary, tmp, model_port, repeats=REPEATS):
    """Every repetition's figures, the summary and the top sites; `model_port` is the benchmark's
    nginx model server (POST /generate), `root` the source tree (its files name the sites)."""
    tmp = Path(tmp) / "allocs"
    tmp.mkdir()
    seen = self_test(tmp)
    events_server = EventServer(tmp / "event-server")
    cache = tmp / "benchmark-cache"
    common = ["--backend", "tgi", "--unsecured", "true"]
    args = {"request": common + ["--model-server-url", f"http://127.0.0.1:{model_port}"],
            "event": common + ["--model-server-url", f"http://127.0.0.1:{events_server.port}"]}
    # One start without heaptrack writes the benchmark cache every traced start then reads.
    for unit, a in args.items():
        procs.stop(procs.Worker(binary, tmp / f"cache-{unit}", a, benchmark_cache=cache).proc)

    r_low, r_high = REQUESTS
    e_low, e_high = EVENTS
    loads = {
        "request": (lambda port: _requests(port, "/generate", _body(5), r_low),
                    lambda port: _requests(port, "/generate", _body(5), r_high),
                    r_high - r_low),
        "event": (lambda port: _requests(port, "/generate_stream", _body(e_low), STREAMS, e_low),
                  lambda port: _requests(port, "/generate_stream", _body(e_high), STREAMS, e_high),
                  STREAMS * (e_high - e_low)),
    }
    by_repeat, raw, sites = [], [], {}
    for r in range(repeats):
        figures = {}
        for unit, (low_load, high_load, extra) in loads.items():
            low, high = _pair(binary, tmp / f"{unit}-{r}", args[unit], cache, low_load, high_load)
            a_low = parse_total(heaptrack_print(low))
            a_high = parse_total(heaptrack_print(high))
            figures[unit] = per_unit(a_low, a_high, 0, extra)
            raw.append({"repeat": r, "unit": unit, "low_calls": a_low, "high_calls": a_high, "extra_units": extra,
                        "per_unit": figures[unit]})
            log(f"allocations, repetition {r + 1}/{repeats}: {figures[unit]:.2f} per {unit} "
                f"({a_high:,} - {a_low:,} calls over {extra:,} extra {unit}s)")
            if r == repeats - 1:
                sites[unit] = _sites(low, high, extra, root)
        by_repeat.append(figures)
    procs.stop(events_server.proc)
    settings = {"heaptrack": heaptrack_version(), "self_test": seen, "requests": REQUESTS,
                "warmup_requests": WARMUP_REQUESTS, "streams": STREAMS, "events": EVENTS,
                "event_gap_ms": EVENT_GAP_S * 1e3, "repeats": repeats}
    return {"settings": settings, "summary": summarise(by_repeat), "sites": sites, "raw": raw}


SELF_TEST = r"""
#include <cstdlib>
#include <vector>
int main() {
    std::vector<void*> v;
    v.reserve(NEWS + MALLOCS);
    for (int i = 0; i < NEWS; ++i) v.push_back(new int(i));
    for (int i = 0; i < MALLOCS; ++i) v.push_back(std::malloc(64));
    for (int i = 0; i < NEWS; ++i) delete static_cast<int*>(v[i]);
    for (int i = NEWS; i < NEWS + MALLOCS; ++i) std::free(v[i]);
}
"""


def self_test(tmp, news=20000, mallocs=3000):
    """heaptrack, set up as for the worker, must see every `new` and every malloc of a program
    linked as the worker is (mimalloc first): the difference between two runs of it is exact."""
    folder = Path(tmp) / "self-test"
    folder.mkdir()
    (folder / "t.cpp").write_text(SELF_TEST)
    counts = []
    for scale in (1, 2):
        exe = folder / f"t{scale}"
        for argv, env in (
                (["g++", "-O1", f"-DNEWS={news * scale}", f"-DMALLOCS={mallocs * scale}", "-o", exe,
                  folder / "t.cpp", "-lmimalloc"], None),
                ([HEAPTRACK, "-o", folder / f"t{scale}", exe], {**procs.minimal_env(), "LD_PRELOAD": LIBSTDCXX})):
            r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env)
            if r.returncode != 0:
                raise procs.BenchError(f"{argv[0]} failed ({r.returncode}) in the heaptrack self-test:\n"
                                       f"{(r.stdout + r.stderr)[-1000:]}")
        counts.append(parse_total(heaptrack_print(_data_file(folder / f"t{scale}", folder / "none"))))
    seen = counts[1] - counts[0]
    if seen != news + mallocs:
        raise procs.BenchError(f"heaptrack saw {seen:,} of {news + mallocs:,} allocations of a program linked with "
                               "mimalloc: its figures for the worker would be wrong")
    return {"expected": news + mallocs, "seen": seen}


def heaptrack_version():
    r = subprocess.run([HEAPTRACK, "--version"], capture_output=True, text=True)
    return (r.stdout or r.stderr).strip()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "self-test":
        # tests/bench: heaptrack sees the operator new of a program linked as the worker is.
        print(self_test(sys.argv[2]))
    else:
        sys.exit(f"usage: {sys.argv[0]} self-test EMPTY_FOLDER")
