#!/usr/bin/env bash
# The loop at work, on one machine (README "Seeing it scale"): cppworker-engine with an endpoint of
# paced workers (tests/plugins/paced.cpp: one request at a time, 100 ms each, so 10 req/s a
# worker), cppworker-load stepping the load on it, and at the end the engine's dashboard in
# headless chromium. Writes into OUT_DIR (default build/see-it-scale): run.svg, run.html and
# run.json from cppworker-load, dashboard.png, engine.log. Prints every request's account: what
# the load tool sent and got, what the engine routed and its workers reported done.
#   launch/see_it_scale.sh [OUT_DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=$(realpath -m "${1:-$root/build/see-it-scale}")
bin=$root/build/default/bin
configure_and_build default cppworker-engine cppworker-load cppworker paced
command -v chromium >/dev/null || { echo "see_it_scale: chromium is missing (launch/install_deps.sh installs it)" >&2; exit 1; }
paced=$(find "$root/build/default" -name 'paced.so' -print -quit)
[ -n "$paced" ] || { echo "see_it_scale: the paced plugin was not built" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out/run"
key=see-it-scale-key
cat >"$out/engine.json" <<EOF
{
  "templates": {"paced": {"command": ["$bin/cppworker", "--plugin", "$paced"],
                          "env": {"WORKER_SUPERVISE": "false", "BENCHMARK_CACHE": "{folder}/has_benchmark"}}},
  "tuning": {"stable_window": 10, "panic_window": 3, "scale_down_delay": 15},
  "endpoints": [{"endpoint_name": "paced", "api_key": "paced-key", "cold_workers": 1, "max_workers": 5,
                 "cold_mult": 1, "target_util": 0.9, "max_queue_time": 3,
                 "workergroups": [{"template_hash": "paced"}]}]
}
EOF
# 5 req/s, a step to 35 (four workers' worth), a ramp down to 5: workers follow up and down.
cat >"$out/steps.txt" <<'EOF'
5 rps for 15s
35 rps for 35s
ramp 35 to 5 rps over 15s
5 rps for 25s
EOF
echo '{"payload": {"ms": 100}, "path": "/work", "cost": 1}' >"$out/work.jsonl"

"$bin/cppworker-engine" --port 0 --port-file "$out/engine.port" --run-dir "$out/run" --config "$out/engine.json" \
  --api-key "$key" >"$out/engine.log" 2>&1 &
engine_pid=$!
trap 'kill "$engine_pid" 2>/dev/null || true; wait "$engine_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/engine.port" ] && break; sleep 0.1; done
[ -s "$out/engine.port" ] || { cat "$out/engine.log" >&2; echo "see_it_scale: the engine did not start" >&2; exit 1; }
engine=http://127.0.0.1:$(cat "$out/engine.port")
echo "see_it_scale: engine at $engine, dashboard $engine/#key=$key"

status=0
"$bin/cppworker-load" --engine "$engine" --endpoint paced --api-key "$key" --backend other \
  --payloads "$out/work.jsonl" --profile "$out/steps.txt" --slo-latency-ms 2000 --slo-attainment 0.9 --max-error-rate 0 \
  --title "cppworker-load stepping paced workers on cppworker-engine" \
  --svg "$out/run.svg" --html "$out/run.html" --json "$out/run.json" --no-progress || status=$?

# The workers' last /delete_requests/ come within about a second of their answers.
sleep 3
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --window-size=1400,900 --virtual-time-budget=8000 --screenshot="$out/dashboard.png" "$engine/#key=$key" \
  >"$out/chromium.log" 2>&1 || { cat "$out/chromium.log" >&2; exit 1; }

python3 - "$engine" "$key" "$out/run.json" <<'EOF'
import json, sys, urllib.request
engine, key, results = sys.argv[1:]
load = json.load(open(results))
with urllib.request.urlopen(f"{engine}/api/dashboard/?api_key={key}") as r:
    counts = json.load(r)["endpoints"][0]["samples"][-1]["requests"]
ok = load["outcomes"]["ok_2xx"]
print(f"see_it_scale: cppworker-load sent {load['requests']}, {ok} answered 2xx; the engine routed "
      f"{counts['routed']} ({counts['waited']} waiting answers on the way), its workers reported "
      f"{counts['succeeded']} succeeded, {counts['failed']} failed")
sys.exit(0 if load["requests"] == ok == counts["routed"] == counts["succeeded"] and counts["failed"] == 0 else 1)
EOF
echo "see_it_scale: $out/run.svg, $out/run.html, $out/dashboard.png"
exit "$status"
