"""The benchmark's driver, run by launch/bench.sh once wrk, nginx and the worker are in place:
starts the model servers, the reference proxy and the workers, measures every target in
interleaved rounds, prints the tables and targets, and writes the JSON file."""

import argparse
import base64
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

sys.dont_write_bytecode = True

import against  # noqa: E402
import allocs  # noqa: E402
import clients  # noqa: E402
import heaptrack_report  # noqa: E402
import loadgen  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
import streams_at_scale  # noqa: E402
from stream_server import EVENTS as STREAM_EVENTS, GAP_S as STREAM_GAP_S  # noqa: E402

CONNECTIONS = (1, 16, 64)
SSE_CONNECTIONS = 16
STREAM_REQUESTS = 20
IDLE_CONNECTIONS = 10_000


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def output(argv, **kwargs):
    return subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True, **kwargs).stdout


def git(root, *args):
    # A tree without its .git (an unpacked archive) still runs the benchmark.
    r = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def machine(root):
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "kernel": platform.release(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git(root, "rev-parse", "HEAD").strip() or "unknown",
        # The commit alone does not say what was built while tracked files have changes.
        "git_tracked_changes": bool(git(root, "status", "--porcelain", "--untracked-files=no")),
        "wrk": subprocess.run([loadgen.WRK, "--version"], capture_output=True, text=True).stdout.split("\n")[0],
        "nginx": subprocess.run([procs.NGINX, "-v"], capture_output=True, text=True).stderr.strip(),
    }


def make_key(tmp):
    key, pub = tmp / "key.pem", tmp / "pub.pem"
    output(["openssl", "genrsa", "-out", key, "2048"])
    output(["openssl", "rsa", "-in", key, "-pubout", "-out", pub])
    return key, pub


def envelope(key, url):
    """The Vast envelope every target gets, auth_data signed in Gen 3's url scheme: the signed
    bytes are json.dumps({"url": url}, indent=4), so one signature is valid on every request."""
    message = json.dumps({"url": url}, indent=4).encode()
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=message, check=True,
                               capture_output=True).stdout
    auth = {"cost": 32.0, "endpoint": "bench", "reqnum": 1, "request_idx": 1,
            "signature": base64.b64encode(signature).decode(), "url": url}
    # tgi relays inputs and parameters; hello_world echoes prompt: one body suits both.
    payload = {"inputs": "What is deep learning?", "prompt": "What is deep learning?",
               "parameters": {"max_new_tokens": 32}}
    return json.dumps({"auth_data": auth, "payload": payload}).encode()


def check_answers(targets, path, body):
    """One request to each target first: a target that refuses the body cannot be measured."""
    for name, t in targets.items():
        try:
            with socket.create_connection(("127.0.0.1", t.port), timeout=10) as s:
                s.sendall(clients.request("POST", path, body, keep_alive=False))
                status, answer = clients.Reader(s).answer()
        except OSError as e:
            status, answer = e, b""
        if status != 200:
            raise procs.BenchError(f"{name} answers POST {path} with {status}: {answer[:200]!r}")


def rotated(items, r):
    # Each round starts with another target, so none always runs first (cold) or last.
    items = list(items.items())
    k = r % len(items)
    return items[k:] + items[:k]


def alive(targets):
    for name, t in targets.items():
        if t.proc.poll() is not None:
            raise procs.BenchError(f"{name} exited with {t.proc.returncode} during the run; its log ends:\n"
                                   f"{procs.tail(t.log)}")


def hold_idle_connections(worker):
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    log(f"opening {IDLE_CONNECTIONS:,} idle keep-alive connections to tgi (descriptor limit {limit:,})")
    started = time.monotonic()
    held, stopped = clients.hold_idle(worker.port, IDLE_CONNECTIONS)
    log(f"{len(held):,} open after {time.monotonic() - started:.1f} s")
    try:
        rss = procs.rss_kib(worker.pids())
        metrics = clients.http_get(worker.port, "/metrics")[1].decode(errors="replace")
        open_count = next((float(line.split()[-1]) for line in metrics.splitlines()
                           if line.startswith("cppworker_connections_open")), None)
    finally:
        for s in held:
            s.close()
    return {"asked": IDLE_CONNECTIONS, "held": len(held), "stopped": stopped, "rss_kib": rss,
            "worker_connections_open": open_count}


def start_to_ready(binary, tmp, r, args):
    """Seconds from starting a tgi worker to /readyz 200: with a fresh benchmark cache (the
    benchmark runs), then again with the cache the first start wrote."""
    folder = tmp / f"start-to-ready-{r}"
    times = {}
    for name in ("fresh_s", "cached_s"):
        w = procs.Worker(binary, folder, args, benchmark_cache=folder / "benchmark-cache")
        times[name] = w.ready_after
        procs.stop(w.proc)
    return times


def start(tmp, binary, key, pub):
    """Every server, on ephemeral ports; returns the targets of each kind of figure, the tgi
    worker's arguments (for the start-to-ready runs) and the body."""
    model = procs.Nginx("model_server.conf.in", tmp / "model-server")
    stream_server = procs.StreamServer(tmp / "stream-server")
    proxy = procs.Nginx("proxy.conf.in", tmp / "nginx-proxy", listen=("PORT", "STREAM_PROXY_PORT"),
                        MODEL_PORT=model.port, STREAM_PORT=stream_server.port, WORKER_CONNECTIONS=4096)
    model_url = f"http://127.0.0.1:{model.port}"
    tgi_args = ["--backend", "tgi", "--model-server-url", model_url, "--unsecured", "true"]
    log("starting the workers")
    tgi = procs.Worker(binary, tmp / "tgi", tgi_args + ["--max-connections", "20000"])
    idle_rss = procs.rss_kib(tgi.pids())
    signed = procs.Worker(binary, tmp / "tgi-signed",
                          ["--backend", "tgi", "--model-server-url", model_url, "--pubkey-file", pub])
    hello = procs.Worker(binary, tmp / "hello_world", ["--backend", "hello_world", "--unsecured", "true"])
    stream_url = f"http://127.0.0.1:{stream_server.port}"
    tgi_stream = procs.Worker(binary, tmp / "tgi-stream",
                              ["--backend", "tgi", "--model-server-url", stream_url, "--unsecured", "true"])
    targets = SimpleNamespace(
        http={"direct": model, "nginx-proxy": proxy, "tgi": tgi, "tgi-signed": signed, "hello_world": hello},
        sse={"direct": model, "nginx-proxy": proxy, "tgi": tgi},
        streams={"direct": stream_server,
                 "nginx-proxy": SimpleNamespace(port=proxy.ports["STREAM_PROXY_PORT"], proc=proxy.proc, log=proxy.log),
                 "tgi": tgi_stream},
        tgi=tgi, tgi_args=tgi_args, idle_rss_kib=idle_rss)
    body = envelope(key, f"http://127.0.0.1:{signed.port}")
    check_answers(targets.http, "/generate", body)
    check_answers(targets.sse, "/generate_stream", body)
    check_answers(targets.streams, "/generate_stream", body)
    return targets, body


def measure_round(r, a, targets, body, body_file, logs, raw):
    for c in CONNECTIONS:
        for name, t in rotated(targets.http, r):
            m = loadgen.measure(t, "/generate", c, a.duration, body_file, logs / f"{name}-{c}-{r}.log")
            raw["http"].append({"round": r, "target": name, "connections": c, **m})
            log(f"round {r + 1}/{a.rounds}, {c:2} connections, {name:12} {m['req_per_s']:9,.0f} req/s "
                f"p50 {m['p50_ms']:.3f} ms, {m['errors']} errors")
            alive(targets.http)
    for name, t in rotated(targets.sse, r):
        m = loadgen.measure(t, "/generate_stream", SSE_CONNECTIONS, a.duration, body_file, logs / f"{name}-sse-{r}.log")
        raw["sse"].append({"round": r, "target": name, "connections": SSE_CONNECTIONS, **m})
        log(f"round {r + 1}/{a.rounds}, SSE, {name:12} {m['req_per_s']:9,.0f} req/s, {m['errors']} errors")
    for name, t in rotated(targets.streams, r):
        got = clients.streams(t.port, "/generate_stream", body, STREAM_REQUESTS, STREAM_EVENTS)
        raw["streams"].append({"round": r, "target": name, "requests": got})
    alive(targets.streams)


def header(m):
    return (f"cppworker benchmark, {m['date']}: {m['nproc']} × {m['cpu_model']}, Linux {m['kernel']}, "
            f"commit {m['git_commit'][:12]}{' with changes' if m['git_tracked_changes'] else ''}")


def run_allocs(a, root, tmp, binary, m):
    """--allocs: heaptrack's allocations per forwarded request and per relayed event, alone."""
    model = procs.Nginx("model_server.conf.in", tmp / "model-server")
    result = allocs.measure(root, binary, tmp, model.port, repeats=a.rounds)
    print(header(m))
    print()
    print(heaptrack_report.table(result))
    Path(a.json).write_text(json.dumps({"machine": m, **result}, indent=2) + "\n")
    log(f"figures written to {a.json}")


def run_against(a, tmp, binary, m):
    """--against: this build and another, in turns on the same model server."""
    key, _ = make_key(tmp)
    body_file = tmp / "body.json"
    body_file.write_bytes(envelope(key, "http://127.0.0.1:0"))
    binaries = {"new": binary, "old": Path(a.against).resolve()}
    runs = against.measure(tmp, binaries, a.rounds, a.duration, body_file, log)
    print(header(m))
    print()
    print(against.table(runs, binaries))
    Path(a.json).write_text(json.dumps({"machine": m, "binaries": {k: str(v) for k, v in binaries.items()},
                                        "runs": runs}, indent=2) + "\n")
    log(f"figures written to {a.json}")


def run(a):
    root, tmp = Path(a.root), Path(a.tmp)
    binary = root / "build/default/bin/cppworker"
    raw = {"machine": machine(root), "http": [], "sse": [], "streams": [], "start_to_ready": []}
    m = raw["machine"]
    log(f"{m['nproc']} × {m['cpu_model']}, commit {m['git_commit'][:12]}")
    if a.allocs:
        return run_allocs(a, root, tmp, binary, m)
    if a.against:
        return run_against(a, tmp, binary, m)

    key, pub = make_key(tmp)
    if a.only == "streams":
        run_streams(a, tmp, m, raw, envelope(key, "http://127.0.0.1:0"), {}, [])
        return
    targets, body = start(tmp, binary, key, pub)
    raw["rss_idle_kib"] = targets.idle_rss_kib
    body_file = tmp / "body.json"
    body_file.write_bytes(body)
    logs = tmp / "wrk"
    logs.mkdir()
    for r in range(a.rounds):
        measure_round(r, a, targets, body, body_file, logs, raw)
    # After the rounds: 10,000 connections may leave the worker's memory larger than before.
    raw["idle_connections"] = hold_idle_connections(targets.tgi)
    log("start to ready")
    for r in range(a.rounds):
        raw["start_to_ready"].append(start_to_ready(binary, tmp, r, targets.tgi_args))

    settings = {"duration_s": a.duration, "rounds": a.rounds, "body_bytes": len(body),
                "stream_events": STREAM_EVENTS, "stream_gap_ms": STREAM_GAP_S * 1e3,
                "stream_requests": STREAM_REQUESTS, "connections": CONNECTIONS, "sse_connections": SSE_CONNECTIONS,
                "model_server_worker_processes": 1, "proxy_worker_processes": "auto"}
    summary = report.summarise(raw)
    checks = report.targets(summary)
    run_streams(a, tmp, m, raw, body, settings, checks, report.tables(summary, raw, settings), summary)


def run_streams(a, tmp, m, raw, body, settings, checks, tables=None, summary=None):
    """The streams-at-scale figure after the other rounds (or alone, --only streams); then prints
    everything and writes the JSON file."""
    counts = [int(n) for n in a.stream_counts.split(",")]
    log(f"streams at scale: {', '.join(f'{n:,}' for n in counts)} streams × {a.stream_events} events")
    raw["streams_at_scale"] = streams_at_scale.run(a.root, tmp, a.rounds, counts, a.stream_events, body)
    scale = streams_at_scale.summarise(raw["streams_at_scale"])
    scale_settings = {"rounds": a.rounds, "events": a.stream_events, "interval_ms": streams_at_scale.INTERVAL_MS,
                      "counts": counts, "worker_args": streams_at_scale.WORKER_ARGS}
    scale_checks = report.stream_targets(scale)
    settings = {**settings, "streams_at_scale": scale_settings}
    summary = {**(summary or {}), "streams_at_scale": scale}
    print(f"cppworker benchmark, {m['date']}: {m['nproc']} × {m['cpu_model']}, Linux {m['kernel']}, "
          f"commit {m['git_commit'][:12]}{' with changes' if m['git_tracked_changes'] else ''}")
    print()
    if tables is not None:
        print(tables)
        print()
        print(report.targets_table(checks))
        print()
    print(report.streams_tables(scale, scale_settings))
    print()
    print(report.targets_table(scale_checks, "Targets (issue 26, streams at scale):"))
    Path(a.json).write_text(json.dumps({"settings": settings, "machine": m, "summary": summary,
                                        "targets": checks + scale_checks, "raw": raw}, indent=2) + "\n")
    log(f"figures written to {a.json}")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", default="bench-results.json")
    p.add_argument("--allocs", action="store_true")
    p.add_argument("--against")
    p.add_argument("--only", choices=("all", "streams"), default="all")
    p.add_argument("--stream-counts", default="100,1000,5000")
    p.add_argument("--stream-events", type=int, default=50)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(a)
    except procs.BenchError as e:
        log(str(e))
        return 1
    finally:
        procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
