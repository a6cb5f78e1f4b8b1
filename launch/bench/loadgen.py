"""wrk runs: a 1 s warm-up, then the measured run, with the target's CPU time taken around it and
its memory sampled through it."""

import json
import shutil
import time

import procs

LUA = procs.HERE / "post.lua"
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def _wrk(url, connections, seconds, body_file, log):
    argv = [WRK, f"-t{1 if connections == 1 else 2}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "-s", LUA, url]
    return procs.spawn(argv, log, env={**procs.minimal_env(), "BENCH_BODY_FILE": str(body_file)})


def _result(proc, log):
    proc.wait()
    procs.stop(proc)
    text = log.read_text(errors="replace")
    for line in text.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):]), text
    raise procs.BenchError(f"wrk printed no result (exit {proc.returncode}):\n{text}")


def measure(target, path, connections, seconds, body_file, log):
    """One figure: wrk against `target` (anything with .port and .pids()), its output in `log`.
    Returns req/s, latencies in ms, errors, the target's CPU µs per request and its peak RSS."""
    url = f"http://127.0.0.1:{target.port}{path}"
    warm_log = log.with_suffix(".warm-up.log")
    _result(_wrk(url, connections, 1, body_file, warm_log), warm_log)

    pids = target.pids()
    try:
        cpu_before = procs.cpu_seconds(pids)
        proc = _wrk(url, connections, seconds, body_file, log)
        peak_rss = 0
        while proc.poll() is None:
            peak_rss = max(peak_rss, procs.rss_kib(pids))
            time.sleep(0.1)
        cpu = procs.cpu_seconds(pids) - cpu_before
    except FileNotFoundError as e:
        raise procs.BenchError(f"the target at {url} exited during its measurement ({e.filename} is gone)") from e
    r, text = _result(proc, log)
    errors = sum(r["errors"].values())
    return {
        "req_per_s": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1e3,
        "p99_ms": r["p99_us"] / 1e3,
        "errors": errors,
        "error_detail": r["errors"],
        "requests": r["requests"],
        "cpu_us_per_request": cpu * 1e6 / r["requests"] if r["requests"] else None,
        "peak_rss_kib": peak_rss,
        "wrk": r,
        "wrk_output": text,
    }
