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

Also runnable as `allocs.py serve PORT_FILE` (the stand-in model server of the event runs) and as
`allocs.py self-test EMPTY_FOLDER` (tests/bench)."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.dont_write_bytecode = True  # also when run as `allocs.py serve`

import clients  # noqa: E402
import procs  # noqa: E402

HEAPTRACK = "/usr/bin/heaptrack"
HEAPTRACK_PRINT = "/usr/bin/heaptrack_print"
LIBSTDCXX = "/lib/x86_64-linux-gnu/libstdc++.so.6"

WARMUP_REQUESTS = 50
REQUESTS = (200, 2200)  # per run: the low and the high run
STREAMS = 20  # per run, one after another on one connection
EVENTS = (10, 110)  # per stream: the low and the high run
EVENT_GAP_S = 0.001  # as stream_server.py: each event its own read in the worker
REPEATS = 3
TOP_SITES = 16  # printed, after grouping the backtraces by their description
BACKTRACES = 200  # read from heaptrack_print, most calls first
FRAMES_KEPT = 12  # of each top site, in the JSON

TARGETS = {"request": 20, "event": 2}


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Arithmetic and parsing: plain functions, tested by tests/bench/allocs_test.py.

_TOTAL = re.compile(r"^calls to allocation functions: (-?\d+)", re.M)
_SITE = re.compile(r"^(-?\d+) calls to allocation functions with \S+ peak consumption from$")
_SECTION = "MOST CALLS TO ALLOCATION FUNCTIONS"
# Frames that only say "an allocation": the allocator's plumbing between `new` and the code that
# asked for memory.
_PLUMBING = re.compile(r"^(std::__new_allocator|std::allocator|std::allocator_traits|boost::asio::aligned_new|"
                       r"void\* boost::asio::detail::thread_info_base::allocate|"
                       r"boost::asio::detail::thread_info_base::allocate|"
                       r"void\* boost_asio_handler_alloc_helpers::allocate|operator new|malloc)")
# Asio's event loop: frames past it only say which thread ran the handler.
_LOOP = "boost::asio::detail::scheduler::"


def parse_total(text):
    """The run's total from heaptrack_print's summary ("calls to allocation functions: N (R/s)");
    in --diff output, the high run's count minus the low run's."""
    m = _TOTAL.search(text)
    if m is None:
        raise ValueError("no 'calls to allocation functions:' line in heaptrack_print's output")
    return int(m.group(1))


def parse_sites(text, limit=BACKTRACES):
    """The backtraces of heaptrack_print's "MOST CALLS TO ALLOCATION FUNCTIONS" section, as printed
    with -m 0 (each backtrace on its own, most calls first): [{"calls": N, "frames": [{"function":
    ..., "at": "file:line" or None, "in": module or None}, ...]}], innermost frame first."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(_SECTION))
    except StopIteration:
        raise ValueError(f"no '{_SECTION}' section in heaptrack_print's output") from None
    sites = []
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        m = _SITE.match(line)
        if m:
            if len(sites) == limit:
                break
            sites.append({"calls": int(m.group(1)), "frames": []})
        elif not line.startswith(" ") or not sites:
            break  # the next section, or the summary
        elif line.startswith("    "):
            key, _, value = line.strip().partition(" ")
            if key in ("at", "in") and sites[-1]["frames"]:
                sites[-1]["frames"][-1][key] = value
        else:
            sites[-1]["frames"].append({"function": line.strip(), "at": None, "in": None})
    return sites


def function_name(signature):
    """'void ns::f<>::g(int, char)' -> 'ns::f<>::g': no return type, no parameters
    ('operator()' and 'operator new' are names)."""
    depth, cut = 0, len(signature)
    for i, c in enumerate(signature):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0 and i > 0 and not signature[:i].endswith("operator"):
            cut = i
            break
    name = signature[:cut]
    depth, start = 0, 0
    for i, c in enumerate(name):  # a return type ends at the last space outside <>
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == " " and depth == 0 and not name[:i].endswith("operator"):
            start = i + 1
    return name[start:] or signature


def describe(site, root):
    """One line for a site: the first two frames that are not the allocator's plumbing, then the
    first frame in this project's sources (under `root`) with its file and line. An allocation in
    a completion handler that Asio's event loop runs, with no frame of ours before the loop, shows
    a third frame instead and ends "… Asio's event loop"."""
    frames = site["frames"]
    asked = []
    for f in frames:  # an inlined frame may repeat its caller's name
        if not _PLUMBING.match(f["function"]) and (not asked or function_name(f["function"]) !=
                                                   function_name(asked[-1]["function"])):
            asked.append(f)
    if not asked:
        return "(no backtrace)"
    prefix = str(root).rstrip("/") + "/"
    own_at = next((i for i, f in enumerate(frames) if f["at"] and f["at"].startswith(prefix)), None)
    loop_at = next((i for i, f in enumerate(frames) if f["function"].startswith(_LOOP)), None)
    if own_at is not None and loop_at is not None and loop_at < own_at:
        return " ← ".join(function_name(f["function"]) for f in asked[:3]) + " … Asio's event loop"
    own = None if own_at is None else frames[own_at]
    asked = asked[:1] if own is asked[0] else asked[:2]
    shown = [f for f in asked if f is not own]
    text = " ← ".join(function_name(f["function"]) for f in shown)
    if own is None:
        return text
    where = f"{function_name(own['function'])} ({own['at'][len(prefix):]})"
    if not shown:
        return where
    # ← a direct caller; … frames of libraries (Asio, Beast) in between.
    return f"{text} {'←' if any(f is own for f in asked) else '…'} {where}"


def group_sites(sites, root, units, total, top=TOP_SITES):
    """Backtraces that read the same (`describe`) are one site: the same code reached by other
    paths through Asio. The `top` sites with the most calls, as calls per unit (sites under 0.05
    per unit left out: what the difference of two runs leaves of start-up), and what the rest of
    `total` comes to per unit."""
    grouped = {}
    for s in sites:
        where = describe(s, root)
        g = grouped.setdefault(where, {"where": where, "calls": 0, "backtraces": 0, "frames": s["frames"]})
        g["calls"] += s["calls"]
        g["backtraces"] += 1
    ranked = sorted((g for g in grouped.values() if abs(g["calls"]) / units >= 0.05), key=lambda g: -g["calls"])
    for g in ranked:
        g["per_unit"] = g["calls"] / units
        g["frames"] = g["frames"][:FRAMES_KEPT]
    shown = ranked[:top]
    other = (total - sum(g["calls"] for g in shown)) / units
    # The rest by name only, for the JSON: where "elsewhere" is.
    rest = [{k: g[k] for k in ("where", "calls", "backtraces", "per_unit")} for g in ranked[top:]]
    return {"per_unit": total / units, "shown": shown, "other_per_unit": 0.0 if abs(other) < 0.005 else other,
            "rest": rest}


def per_unit(low, high, units_low, units_high):
    """Allocation calls per unit of work from a low and a high run: what the extra units cost."""
    if units_high <= units_low:
        raise ValueError("the high run needs more units than the low run")
    return (high - low) / (units_high - units_low)


def summarise(repeats):
    """repeats: [{"request": x, "event": y}, ...] per-unit figures of each repetition. The median
    and the spread (max - min) of each, and whether the median meets the issue's target."""
    out = {}
    for unit, target in TARGETS.items():
        values = [r[unit] for r in repeats if r.get(unit) is not None]
        m = median(values) if values else None
        out[unit] = {"median": m, "min": min(values, default=None), "max": max(values, default=None),
                     "values": values, "target": target, "ok": None if m is None else m <= target}
    return out


def table(result):
    """Markdown: the figures against the issue's targets, then each figure's top call sites."""
    summary, sites, settings = result["summary"], result["sites"], result["settings"]
    out = []
    w = out.append
    w(f"Allocations (heaptrack, calls to malloc/new/... in the tgi worker), steady state: "
      f"{settings['requests'][1] - settings['requests'][0]:,} extra POST /generate on one kept-alive "
      f"connection, {settings['streams']} streams × {settings['events'][1] - settings['events'][0]} extra "
      f"events ({settings['event_gap_ms']:g} ms apart); {settings['repeats']} repetition(s).")
    w("")
    w("| figure | median | repetitions | target | |")
    w("|---|---:|---|---:|---|")
    names = {"request": "allocations per forwarded request", "event": "allocations per relayed SSE event"}
    for unit, f in summary.items():
        values = ", ".join(f"{v:.2f}" for v in f["values"]) or "—"
        med = "—" if f["median"] is None else f"{f['median']:.2f}"
        status = "n/a" if f["ok"] is None else "ok" if f["ok"] else "MISSED"
        w(f"| {names[unit]} | {med} | {values} | ≤ {f['target']} | {status} |")
    for unit, found in sites.items():
        w("")
        w(f"Where the {found['per_unit']:.2f} allocations per "
          f"{'forwarded request' if unit == 'request' else 'relayed event'} are made (heaptrack_print --diff "
          f"of the last repetition's runs, calls / extra {unit}s; (× n): n backtraces read the same):")
        w("")
        for g in found["shown"]:
            paths = f" (× {g['backtraces']})" if g["backtraces"] > 1 else ""
            w(f"- {g['per_unit']:.2f}{paths}: {g['where']}")
        w(f"- {found['other_per_unit']:.2f}: elsewhere")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The stand-in model server for the event runs: /generate_stream answers as many TGI events as
# the request's parameters.max_new_tokens, EVENT_GAP_S apart, each its own chunk.

def _chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(i, last):
    generated = b'" tok0 ... tok%d"' % i if last else b"null"
    return _chunk(b'data:{"token":{"id":%d,"text":" tok%d","logprob":-0.25,"special":false},'
                  b'"generated_text":%s,"details":null}\n\n' % (1000 + i, i, generated))


def _whole(status, content_type, body):
    return b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (status, content_type, len(body), body)


async def _serve_connection(reader, writer):
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if (method, path) == ("POST", "/generate_stream"):
                try:
                    events = int(json.loads(body)["parameters"]["max_new_tokens"])
                except (ValueError, KeyError, TypeError):
                    events = 5
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                for i in range(events):
                    if i:
                        await asyncio.sleep(EVENT_GAP_S)
                    writer.write(_event(i, i == events - 1))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
            elif (method, path) == ("POST", "/generate"):
                writer.write(_whole(b"200 OK", b"application/json", b'{"generated_text":" tok0 tok1 tok2 tok3"}'))
            elif (method, path) == ("GET", "/health"):
                writer.write(_whole(b"200 OK", b"text/plain", b""))
            else:
                writer.write(_whole(b"404 Not Found", b"text/plain", b""))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve(port_file):
    server = await asyncio.start_server(_serve_connection, "127.0.0.1", 0)
    Path(port_file + ".tmp").write_text(str(server.sockets[0].getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    async with server:
        await server.serve_forever()


class EventServer:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir()
        port_file = self.dir / "port"
        self.log = self.dir / "server.log"
        self.proc = procs.spawn(["/usr/bin/python3", Path(__file__).resolve(), "serve", port_file], self.log,
                                env=procs.minimal_env())
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
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        asyncio.run(_serve(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "self-test":
        # tests/bench: heaptrack sees the operator new of a program linked as the worker is.
        print(self_test(sys.argv[2]))
    else:
        sys.exit(f"usage: {sys.argv[0]} serve PORT_FILE | self-test EMPTY_FOLDER")
