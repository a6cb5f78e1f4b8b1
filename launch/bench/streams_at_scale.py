"""Streams at scale (issue 26): N token streams opened at once through each target, TGI-shaped
events 50 ms apart on the stand-in's absolute schedule. For each (target, N): the target's own CPU
per event relayed, each event's lateness over its schedule (added inter-token latency), time to
first token, RSS per open stream, and whether every stream came whole. Each run starts its processes
fresh (stand-in, then nginx or the worker in front of it), so no run inherits another's memory, and
sends a few streams through before it is measured."""

import json
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from types import SimpleNamespace

import procs

INTERVAL_MS = 50
TARGETS = ("direct", "nginx-proxy", "tgi")
# Each stream is a client connection and a model-server connection in a proxy: 5,000 streams are
# 10,000 of the worker's descriptors (bench.sh raises the limit) and 5,000 of its client connections.
WORKER_ARGS = ["--backend", "tgi", "--unsecured", "true", "--max-connections", "20000"]


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


class StandIn:
    def __init__(self, binary, workdir, events):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True)
        port_file = self.dir / "port"
        self.log = self.dir / "stand-in.log"
        self.proc = procs.spawn([binary, "--port", "0", "--port-file", port_file, "--events", events,
                                 "--interval-ms", INTERVAL_MS], self.log, env=procs.minimal_env())
        procs._wait_for(port_file.exists, self.proc, "the stream stand-in", self.log, 10)
        self.port = int(port_file.read_text())

    def pids(self):
        return [self.proc.pid]


def _start(name, bin_dir, folder, events):
    """The stand-in, and the target in front of it: (target, every process started, last first)."""
    stand_in = StandIn(bin_dir / "cppworker-bench-stream-server", folder / "stand-in", events)
    if name == "direct":
        return stand_in, [stand_in]
    if name == "nginx-proxy":
        # The template's streaming block (proxy_buffering off) in front of the stand-in; its other
        # upstreams are unused here.
        nginx = procs.Nginx("proxy.conf.in", folder / "nginx", listen=("PORT", "STREAM_PROXY_PORT"),
                            MODEL_PORT=stand_in.port, STREAM_PORT=stand_in.port, WORKER_CONNECTIONS=16384)
        return SimpleNamespace(port=nginx.ports["STREAM_PROXY_PORT"], proc=nginx.proc, log=nginx.log,
                               pids=nginx.pids), [nginx, stand_in]
    worker = procs.Worker(bin_dir / "cppworker", folder / "tgi",
                          WORKER_ARGS + ["--model-server-url", f"http://127.0.0.1:{stand_in.port}"],
                          benchmark_cache=folder.parent / "tgi-benchmark-cache")
    return worker, [worker, stand_in]


WARM_UP_STREAMS = 10


def _client(client, target, n, events, body_file):
    return subprocess.Popen([str(client), "--port", str(target.port), "--streams", str(n), "--events", str(events),
                             "--body-file", str(body_file), "--timeout", str(events * INTERVAL_MS / 1e3 + 60)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _measure(client, target, n, events, body_file):
    # A few streams first, not recorded: a fresh process touches its code and first buffers once,
    # which would otherwise count as memory per stream.
    _client(client, target, WARM_UP_STREAMS, events, body_file).communicate()
    pids = target.pids()
    try:
        cpu_before, rss_before = procs.cpu_seconds(pids), procs.rss_kib(pids)
        proc = _client(client, target, n, events, body_file)
        # The peak while the streams run: once all N are open, mid-run, the target holds the most.
        peak = rss_before
        while proc.poll() is None:
            peak = max(peak, procs.rss_kib(pids))
            time.sleep(0.05)
        cpu = procs.cpu_seconds(pids) - cpu_before
    except FileNotFoundError as e:
        raise procs.BenchError(f"the target exited during its streams run ({e.filename} is gone)") from e
    out, err = proc.communicate()
    if proc.returncode != 0 or not out.strip():
        raise procs.BenchError(f"the streams client failed (exit {proc.returncode}): {err.strip()[-500:]}")
    r = json.loads(out)
    return {**r, "cpu_s": cpu, "cpu_us_per_event": cpu * 1e6 / r["events"] if r["events"] else None,
            # Per stream streaming at the peak: when opening them all takes longer than one stream
            # lasts, fewer than N are ever open at once.
            "rss_before_kib": rss_before, "rss_peak_kib": peak,
            "rss_kib_per_stream": (peak - rss_before) / max(1, r["peak_streaming"])}


def run(root, tmp, rounds, counts, events, body):
    """Every (target, N) in every round, targets rotated from round to round; returns the raw runs."""
    bin_dir = Path(root) / "build/default/bin"
    folder = Path(tmp) / "streams-at-scale"
    folder.mkdir()
    body_file = folder / "body.json"
    body_file.write_bytes(body)
    runs = []
    for r in range(rounds):
        for n in counts:
            k = r % len(TARGETS)
            for name in TARGETS[k:] + TARGETS[:k]:
                target, started = _start(name, bin_dir, folder / f"{name}-{n}-{r}", events)
                try:
                    m = _measure(bin_dir / "cppworker-bench-streams", target, n, events, body_file)
                    if target.proc.poll() is not None:
                        raise procs.BenchError(f"{name} exited during its streams run; its log ends:\n"
                                               f"{procs.tail(target.log)}")
                finally:
                    for p in started:
                        procs.stop(p.proc)
                runs.append({"round": r, "target": name, **m})
                late = m["steady_lateness_ms"]
                log(f"round {r + 1}/{rounds}, {n:5,} streams, {name:12} {m['whole']:,} whole, "
                    f"{m['errors']} errors {m['errors_by_kind'] or ''}, all open {m['all_open_after_s']:.2f} s, "
                    f"steady lateness p50 {late['p50']:.2f} "
                    f"p99 {late['p99']:.2f} ms, CPU {m['cpu_us_per_event'] or 0:.1f} µs/event, "
                    f"{m['rss_kib_per_stream']:.1f} KiB/stream")
    return runs


def _med(values):
    values = [v for v in values if v is not None]
    return median(values) if values else None


def summarise(runs):
    """Per target and N: medians over rounds, errors summed, and the added figures over direct."""
    out = {}
    for t in TARGETS:
        for n in sorted({r["streams"] for r in runs}):
            rs = [r for r in runs if r["target"] == t and r["streams"] == n]
            if not rs:
                continue
            kinds = {}
            for r in rs:
                for kind, c in r["errors_by_kind"].items():
                    kinds[kind] = kinds.get(kind, 0) + c
            out.setdefault(t, {})[n] = {
                "rounds": len(rs),
                "asked": sum(r["streams"] for r in rs), "whole": sum(r["whole"] for r in rs),
                "errors": sum(r["errors"] for r in rs), "errors_by_kind": kinds,
                "cpu_us_per_event": _med(r["cpu_us_per_event"] for r in rs),
                "rss_kib_per_stream": _med(r["rss_kib_per_stream"] for r in rs),
                "client_cpu_us_per_event": _med(r["client_cpu_us_per_event"] for r in rs),
                "client_cpu_s": _med(r["client_cpu_s"] for r in rs),
                "wall_s": _med(r["wall_s"] for r in rs),
                **{f"lateness_{p}_ms": _med(r["lateness_ms"][p] for r in rs) for p in ("p50", "p99", "p99.9", "max")},
                # Over the events due once all N streams were open: the inter-token latency proper.
                **{f"steady_lateness_{p}_ms": _med(r["steady_lateness_ms"][p] for r in rs
                                                   if r["steady_lateness_ms"]["count"])
                   for p in ("p50", "p99", "p99.9", "max")},
                "all_open_after_s": _med(r["all_open_after_s"] for r in rs),
                "peak_streaming": _med(r["peak_streaming"] for r in rs),
                **{f"ttft_{p}_ms": _med(r["ttft_ms"][p] for r in rs) for p in ("p50", "p99", "max")},
            }
    for t, by_n in out.items():
        for n, f in by_n.items():
            if t == "direct":
                continue
            d = out.get("direct", {}).get(n)
            for key in ("lateness_p50_ms", "lateness_p99_ms", "lateness_p99.9_ms", "steady_lateness_p50_ms",
                        "steady_lateness_p99_ms", "steady_lateness_p99.9_ms", "ttft_p50_ms", "ttft_p99_ms"):
                f[f"added_{key}"] = None if d is None or f[key] is None or d[key] is None else f[key] - d[key]
    return out
