"""--against BINARY: the built worker and another build of it (the commit before a change),
measured in turns on the same model server, so that a change is judged by a ratio taken under the
same conditions rather than by figures from two runs on a shared machine."""

import statistics

import loadgen
import procs

# (figure, path, connections): the short-answer figures a change to the hot path moves.
FIGURES = (("POST /generate, 16 connections", "/generate", 16),
           ("POST /generate, 64 connections", "/generate", 64),
           ("SSE, 16 connections", "/generate_stream", 16))


def _workers(tmp, binaries, model_port):
    args = ["--backend", "tgi", "--model-server-url", f"http://127.0.0.1:{model_port}", "--unsecured", "true"]
    return {name: procs.Worker(binary, tmp / f"against-{name}", args) for name, binary in binaries.items()}


def measure(tmp, binaries, rounds, duration, body_file, log):
    """`binaries`: {"new": path, "old": path}. Each round measures every figure on both workers,
    the one that goes first alternating from round to round. Returns the raw runs."""
    model = procs.Nginx("model_server.conf.in", tmp / "against-model-server")
    workers = _workers(tmp, binaries, model.port)
    logs = tmp / "against-wrk"
    logs.mkdir()
    runs = []
    for r in range(rounds):
        for figure, path, connections in FIGURES:
            order = list(workers.items()) if r % 2 == 0 else list(reversed(workers.items()))
            for name, worker in order:
                m = loadgen.measure(worker, path, connections, duration, body_file,
                                    logs / f"{name}-{connections}-{path.strip('/')}-{r}.log")
                runs.append({"round": r, "figure": figure, "binary": name, "req_per_s": m["req_per_s"],
                             "cpu_us_per_request": m["cpu_us_per_request"], "errors": m["errors"]})
                log(f"round {r + 1}/{rounds}, {figure}, {name}: {m['req_per_s']:,.0f} req/s, "
                    f"{m['cpu_us_per_request']:.1f} µs CPU/request, {m['errors']} errors")
            for name, worker in workers.items():
                if worker.proc.poll() is not None:
                    raise procs.BenchError(f"the {name} worker exited during the run; its log ends:\n"
                                           f"{procs.tail(worker.log)}")
    return runs


def table(runs, binaries):
    """Medians per figure and binary, and new / old: each round's ratio, then their median."""
    lines = [f"new: {binaries['new']}", f"old: {binaries['old']}", "",
             "| figure | new req/s | old req/s | new / old (rounds) | new CPU µs/req | old CPU µs/req | new / old | errors |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for figure, _, _ in FIGURES:
        mine = [x for x in runs if x["figure"] == figure]
        by_round = {}
        for x in mine:
            by_round.setdefault(x["round"], {})[x["binary"]] = x
        rate_ratios = [pair["new"]["req_per_s"] / pair["old"]["req_per_s"] for pair in by_round.values()]
        cpu_ratios = [pair["new"]["cpu_us_per_request"] / pair["old"]["cpu_us_per_request"]
                      for pair in by_round.values()]

        def median_of(binary, key):
            return statistics.median(x[key] for x in mine if x["binary"] == binary)

        rounds_text = ", ".join(f"{v:.3f}" for v in rate_ratios)
        errors = sum(x["errors"] for x in mine)
        lines.append(f"| {figure} | {median_of('new', 'req_per_s'):,.0f} | {median_of('old', 'req_per_s'):,.0f} | "
                     f"{statistics.median(rate_ratios):.3f} ({rounds_text}) | "
                     f"{median_of('new', 'cpu_us_per_request'):.1f} | {median_of('old', 'cpu_us_per_request'):.1f} | "
                     f"{statistics.median(cpu_ratios):.3f} | {errors}{' ⚠' if errors else ''} |")
    return "\n".join(lines)
