"""cppworker-simulate as a user runs it: errors that name the field, JSON figures, the pictures."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

binary, examples, bad_config, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])


def run(*args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


bad = run("--config", bad_config, "--profile", str(examples / "burst.profile"))
assert bad.returncode == 2, bad
assert "bad_config.json: workers.perf: lognormal needs \"sigma\"" in bad.stderr, bad.stderr

bad_profile = out / "bad.profile"
bad_profile.write_text("20 rps for 10m\n20 rps during 5m\n")
bad = run("--profile", str(bad_profile))
assert bad.returncode == 2 and "bad.profile:2: expected" in bad.stderr, bad.stderr

bad = run("--config", str(examples / "day.json"))
assert bad.returncode == 2 and "--profile FILE or --arrivals FILE" in bad.stderr, bad.stderr

svg, html = out / "burst.svg", out / "burst.html"
ok = run("--config", str(examples / "day.json"), "--profile", str(examples / "burst.profile"), "--json",
         "--svg", str(svg), "--html", str(html))
assert ok.returncode == 0, ok.stderr
figures = json.loads(ok.stdout)
r = figures["requests"]
# 20/s for 10 min, a 30 s ramp to 100/s, 100/s for 10 min, a 1 min ramp back, 20/s for 15 min.
expected = 20 * 600 + 60 * 30 + 100 * 600 + 60 * 60 + 20 * 900
assert abs(r["offered"] - expected) < 5 * expected ** 0.5, r
accounted = r["completed"] + r["refused"] + r["failed"] + r["waiting_at_end"] + r["in_flight_at_end"]
assert abs(accounted - r["offered"]) < 1e-6 * r["offered"], r
assert figures["cost"]["total"] > 0 and figures["worker_hours"]["serving"] > 0, figures
assert figures["settings"]["seed"] == "1", figures["settings"]
assert figures["simulator"]["steps"] == 2190, figures["simulator"]
root = ET.parse(svg).getroot()
assert root.tag.endswith("svg"), root.tag
assert all(name in svg.read_text() for name in ("p99", "stopped (cold)", "serving wanted", "waiting"))
assert html.read_text().lstrip().lower().startswith("<!doctype html"), html.read_text()[:100]

csv = out / "arrivals.csv"
csv.write_text("time,cost\n" + "".join(f"{t / 10},{1 + t % 3}\n" for t in range(600)))
ok = run("--arrivals", str(csv), "--json")
assert ok.returncode == 0, ok.stderr
r = json.loads(ok.stdout)["requests"]
assert r["offered"] == 600 and r["offered_load"] == 1200, r
print("cppworker-simulate: errors, JSON, pictures and a CSV trace as expected")
