"""heaptrack_print's output read, and the allocation figures worked out and printed, for
`launch/bench.sh --allocs` (launch/bench/allocs.py runs heaptrack): plain functions, tested by
tests/bench/allocs_test.py on real output."""

import re
from statistics import median

TOP_SITES = 16  # printed, after grouping the backtraces by their description
BACKTRACES = 200  # read from heaptrack_print, most calls first
FRAMES_KEPT = 12  # of each top site, in the JSON

TARGETS = {"request": 20, "event": 2}


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
