"""From raw figures to medians over rounds, the Markdown tables and the issue's targets."""

from statistics import median

MIB = 1024


def _median(values):
    values = [v for v in values if v is not None]
    return median(values) if values else None


def _wrk_summary(runs):
    return {
        "req_per_s": _median(r["req_per_s"] for r in runs),
        "p50_ms": _median(r["p50_ms"] for r in runs),
        "p99_ms": _median(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "cpu_us_per_request": _median(r["cpu_us_per_request"] for r in runs),
        "peak_rss_mib": _median(r["peak_rss_kib"] / MIB for r in runs),
        "rounds": len(runs),
    }


def summarise(raw):
    http = {}
    for r in raw["http"]:
        http.setdefault(r["target"], {}).setdefault(r["connections"], []).append(r)
    sse = {}
    for r in raw["sse"]:
        sse.setdefault(r["target"], []).append(r)
    streams = {}
    for r in raw["streams"]:
        streams.setdefault(r["target"], []).append(r["requests"])
    idle = raw["idle_connections"]
    return {
        "http": {t: {c: _wrk_summary(runs) for c, runs in by_c.items()} for t, by_c in http.items()},
        "sse": {t: _wrk_summary(runs) for t, runs in sse.items()},
        "streams": {t: {
            # Median over rounds of each round's median.
            "first_chunk_ms": _median(_median(q["first_chunk_ms"] for q in rnd) for rnd in rounds),
            "chunks_per_s": _median(_median(q["chunks_per_s"] for q in rnd) for rnd in rounds),
            "requests": sum(len(rnd) for rnd in rounds),
            "incomplete": sum(not q["ok"] for rnd in rounds for q in rnd),
        } for t, rounds in streams.items()},
        "rss_mib": {
            "idle": raw["rss_idle_kib"] / MIB,
            "under_load": _median(r["peak_rss_kib"] / MIB for r in http["tgi"][64]),
            "idle_connections": idle["rss_kib"] / MIB,
            "idle_connections_held": idle["held"],
        },
        "start_to_ready_ms": {
            "fresh_cache": _median(r["fresh_s"] * 1e3 for r in raw["start_to_ready"]),
            "cache_kept": _median(r["cached_s"] * 1e3 for r in raw["start_to_ready"]),
        },
    }


def _n(v, fmt):
    return "—" if v is None else format(v, fmt)


def _errors(n):
    return "⚠ " + format(n, ",") if n else "0"


def tables(s, raw, settings):
    out = []
    w = out.append
    w(f"Median of {settings['rounds']} round(s), {settings['duration_s']} s per measured wrk run after a 1 s "
      f"warm-up; POST /generate with a {settings['body_bytes']}-byte Vast envelope. ⚠ marks a figure with "
      "non-2xx answers or socket errors (its rounds are still in the median: read it with care).")
    w("")
    w("| target | connections | req/s | p50 ms | p99 ms | errors |")
    w("|---|---:|---:|---:|---:|---:|")
    for target, by_c in s["http"].items():
        for c, f in sorted(by_c.items()):
            w(f"| {target} | {c} | {_n(f['req_per_s'], ',.0f')} | {_n(f['p50_ms'], '.3f')} | "
              f"{_n(f['p99_ms'], '.3f')} | {_errors(f['errors'])} |")
    w("")
    w("SSE: POST /generate_stream, 5 events per answer, 16 connections.")
    w("")
    w("| target | req/s | p50 ms | p99 ms | errors |")
    w("|---|---:|---:|---:|---:|")
    for target, f in s["sse"].items():
        w(f"| {target} | {_n(f['req_per_s'], ',.0f')} | {_n(f['p50_ms'], '.3f')} | {_n(f['p99_ms'], '.3f')} | "
          f"{_errors(f['errors'])} |")
    w("")
    w(f"Streams: {settings['stream_events']} chunks, {settings['stream_gap_ms']:g} ms apart, from the streaming "
      f"server; {settings['stream_requests']} requests one after another on one connection per round.")
    w("")
    w("| target | first chunk ms | chunks/s (request to last chunk) | incomplete |")
    w("|---|---:|---:|---:|")
    for target, f in s["streams"].items():
        w(f"| {target} | {_n(f['first_chunk_ms'], '.3f')} | {_n(f['chunks_per_s'], ',.0f')} | "
          f"{_errors(f['incomplete'])} |")
    w("")
    w("Cost of each target's own processes (nginx: master + workers): CPU over the 16-connection run, "
      "peak RSS sampled every 100 ms over the 64-connection run.")
    w("")
    w("| target | CPU µs/request | peak RSS MiB |")
    w("|---|---:|---:|")
    for target, by_c in s["http"].items():
        w(f"| {target} | {_n(by_c[16]['cpu_us_per_request'], '.1f')} | {_n(by_c[64]['peak_rss_mib'], '.1f')} |")
    w("")
    rss = s["rss_mib"]
    idle = raw["idle_connections"]
    held = f"{idle['held']:,} held" + (f", stopped short: {idle['stopped']}" if idle["stopped"] else "")
    ready = s["start_to_ready_ms"]
    w("| tgi worker | figure |")
    w("|---|---:|")
    w(f"| RSS idle, after ready | {rss['idle']:.1f} MiB |")
    w(f"| RSS under load, 64 connections (peak) | {_n(rss['under_load'], '.1f')} MiB |")
    w(f"| RSS with {idle['asked']:,} idle keep-alive connections ({held}; worker counts "
      f"{_n(idle['worker_connections_open'], ',.0f')}) | {rss['idle_connections']:.1f} MiB |")
    w(f"| start to ready, fresh benchmark cache | {_n(ready['fresh_cache'], ',.0f')} ms |")
    w(f"| start to ready, benchmark cache kept | {_n(ready['cache_kept'], ',.0f')} ms |")
    return "\n".join(out)


def _check(name, measured, text, ok, goal, errors=False):
    status = "ERRORS" if errors else "n/a" if ok is None else "ok" if ok else "MISSED"
    return {"check": name, "measured": measured, "value": text, "target": goal, "status": status}


def targets(s):
    http, sse, streams, rss = s["http"], s["sse"], s["streams"], s["rss_mib"]
    checks = []

    def ratio(name, a, b, minimum):
        value = a["req_per_s"] / b["req_per_s"]
        checks.append(_check(name, value, f"{value:.2f} ({a['req_per_s']:,.0f} / {b['req_per_s']:,.0f})",
                             value >= minimum, f"≥ {minimum:.2f}", a["errors"] or b["errors"]))

    for c in (16, 64):
        ratio(f"tgi / nginx-proxy req/s, {c} connections", http["tgi"][c], http["nginx-proxy"][c], 0.9)
    for c in (16, 64):
        ratio(f"tgi-signed / tgi req/s, {c} connections", http["tgi-signed"][c], http["tgi"][c], 0.9)

    direct, tgi, proxy = http["direct"][1], http["tgi"][1], http["nginx-proxy"][1]
    added = tgi["p50_ms"] - direct["p50_ms"]
    checks.append(_check("p50 added over direct, 1 connection", added,
                         f"{added * 1e3:+.0f} µs (nginx-proxy {(proxy['p50_ms'] - direct['p50_ms']) * 1e3:+.0f} µs)",
                         added <= 0.1, "≤ 100 µs", tgi["errors"] or direct["errors"]))

    ratio("SSE tgi / nginx-proxy req/s, 16 connections", sse["tgi"], sse["nginx-proxy"], 0.8)

    tgi_first, direct_first, proxy_first = (streams[t]["first_chunk_ms"] for t in ("tgi", "direct", "nginx-proxy"))
    stream_errors = streams["tgi"]["incomplete"] or streams["direct"]["incomplete"]
    if tgi_first is None or direct_first is None:
        checks.append(_check("first chunk, tgi minus direct", None, "—", None, "≤ 1 ms", stream_errors))
    else:
        first = tgi_first - direct_first
        proxy = "—" if proxy_first is None else f"{proxy_first - direct_first:+.3f} ms"
        checks.append(_check("first chunk, tgi minus direct", first, f"{first:+.3f} ms (nginx-proxy {proxy})",
                             first <= 1.0, "≤ 1 ms", stream_errors))

    checks.append(_check("tgi RSS idle", rss["idle"], f"{rss['idle']:.1f} MiB", rss["idle"] <= 20, "≤ 20 MiB"))
    held = rss["idle_connections_held"]
    checks.append(_check(f"tgi RSS with 10,000 idle connections ({held:,} held)", rss["idle_connections"],
                         f"{rss['idle_connections']:.1f} MiB",
                         rss["idle_connections"] <= 100 if held == 10000 else None, "≤ 100 MiB"))
    return checks


def _kinds(kinds):
    return ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items()))


def streams_tables(s, settings):
    """The streams-at-scale figures (streams_at_scale.py): latency, then cost."""
    out = []
    w = out.append
    w(f"Streams at scale: N streams opened at once, {settings['events']} TGI events each, {settings['interval_ms']} ms "
      f"apart on the stand-in's absolute schedule (20 events/s per stream); median of {settings['rounds']} round(s), "
      "every run on freshly started processes. Lateness: an event's arrival at the client minus its due time, over "
      "the events due once all N streams were open (all open: seconds from the first connect until the last stream "
      "had its first event), and over every event (whole run, with the opening burst); added: minus direct's at "
      "the same N. TTFT: request written to first event.")
    w("")
    w("| target | streams | all open s | lateness p50 ms | p99 | p99.9 | max | p99 added | whole run p99 | "
      "TTFT p50 ms | p99 | p99 added |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target, by_n in s.items():
        for n, f in sorted(by_n.items()):
            w(f"| {target} | {n:,} | {_n(f['all_open_after_s'], '.2f')} | {_n(f['steady_lateness_p50_ms'], '.2f')} | "
              f"{_n(f['steady_lateness_p99_ms'], '.2f')} | {_n(f['steady_lateness_p99.9_ms'], '.2f')} | "
              f"{_n(f['steady_lateness_max_ms'], '.1f')} | {_n(f.get('added_steady_lateness_p99_ms'), '+.2f')} | "
              f"{_n(f['lateness_p99_ms'], '.2f')} | {_n(f['ttft_p50_ms'], '.2f')} | "
              f"{_n(f['ttft_p99_ms'], '.2f')} | {_n(f.get('added_ttft_p99_ms'), '+.2f')} |")
    w("")
    w("Cost: the target's own CPU time (nginx: master + workers; direct: the stand-in) over the run per event "
      "delivered; RSS per open stream: (peak RSS during the run − RSS before it) / the most streams open at once "
      "(from their first event to their end; N unless opening them took longer than a stream lasts); the "
      "client's own CPU shows it is not the bottleneck.")
    w("")
    w("| target | streams | whole | errors | CPU µs/event | most open at once | RSS KiB/stream | client CPU µs/event | "
      "wall s |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target, by_n in s.items():
        for n, f in sorted(by_n.items()):
            errors = _errors(f["errors"]) + (f" ({_kinds(f['errors_by_kind'])})" if f["errors"] else "")
            w(f"| {target} | {n:,} | {f['whole']:,} / {f['asked']:,} | {errors} | {_n(f['cpu_us_per_event'], '.1f')} | "
              f"{_n(f['peak_streaming'], ',.0f')} | {_n(f['rss_kib_per_stream'], '.1f')} | {_n(f['client_cpu_us_per_event'], '.1f')} | "
              f"{_n(f['wall_s'], '.1f')} |")
    return "\n".join(out)


def stream_targets(s):
    """Issue 26's stream targets, n/a where the run had no such N."""
    checks = []
    # Not the issue's: whether the figures can be read at all. Behind its own schedule, the client
    # or the stand-in is the bottleneck (or the machine is busy), and every target's lateness with it.
    for n, d in sorted(s.get("direct", {}).items()):
        p99 = d["steady_lateness_p99_ms"]
        checks.append(_check(f"direct on schedule at {n:,} streams, all open (client and stand-in keep up)", p99,
                             "—" if p99 is None else f"lateness p99 {p99:.2f} ms", None if p99 is None else p99 <= 5,
                             "≤ 5 ms", d["errors"]))
    tgi, proxy = s.get("tgi", {}), s.get("nginx-proxy", {})
    t, p = tgi.get(1000), proxy.get(1000)
    if t and p and t["cpu_us_per_event"] and p["cpu_us_per_event"]:
        ratio = t["cpu_us_per_event"] / p["cpu_us_per_event"]
        checks.append(_check("1,000 streams: tgi CPU per event / nginx-proxy's", ratio,
                             f"{ratio:.2f} ({t['cpu_us_per_event']:.1f} / {p['cpu_us_per_event']:.1f} µs)",
                             ratio <= 1.2, "≤ 1.20", t["errors"] or p["errors"]))
    else:
        checks.append(_check("1,000 streams: tgi CPU per event / nginx-proxy's", None, "—", None, "≤ 1.20"))
    added = t and t["added_steady_lateness_p99_ms"]
    checks.append(_check("1,000 streams, all open: added inter-token latency p99 over direct", added,
                         "—" if added is None else
                         f"{added:+.2f} ms (nginx-proxy {_n(p and p['added_steady_lateness_p99_ms'], '+.2f')} ms)",
                         None if added is None else added <= 1.0, "≤ 1 ms", bool(t and t["errors"])))
    ttft, proxy_ttft = t and t["added_ttft_p99_ms"], p and p["added_ttft_p99_ms"]
    checks.append(_check("1,000 streams opened at once: TTFT p99 added over direct", ttft,
                         "—" if ttft is None or proxy_ttft is None else
                         f"{ttft:+.2f} ms (nginx-proxy {proxy_ttft:+.2f} ms; p50 {t['added_ttft_p50_ms']:+.2f} "
                         f"vs {p['added_ttft_p50_ms']:+.2f})",
                         None if ttft is None or proxy_ttft is None else ttft <= proxy_ttft + 1.0,
                         "≤ nginx-proxy's + 1 ms", bool(t and t["errors"])))
    t5 = tgi.get(5000)
    checks.append(_check("5,000 streams: every tgi stream whole", t5 and t5["whole"],
                         "—" if not t5 else f"{t5['whole']:,} / {t5['asked']:,}" +
                         (f" ({_kinds(t5['errors_by_kind'])})" if t5["errors"] else ""),
                         None if not t5 else t5["whole"] == t5["asked"], "all"))
    rss = t5 and t5["rss_kib_per_stream"]
    checks.append(_check("5,000 streams: tgi RSS per open stream", rss, "—" if rss is None else f"{rss:.1f} KiB",
                         None if rss is None else rss <= 16, "≤ 16 KiB"))
    return checks


def targets_table(checks, title="Targets (issue 11):"):
    out = [title, "", "| check | measured | target | |", "|---|---:|---:|---|"]
    out += [f"| {c['check']} | {c['value']} | {c['target']} | {c['status']} |" for c in checks]
    return "\n".join(out)
