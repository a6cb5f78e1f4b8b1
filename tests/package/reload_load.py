#!/usr/bin/env python3
"""Load for a reload test: POST /work of the test plugin `reloadable` without pause, each request on
a connection of its own, from several threads, until a stop file appears. Every request must be
answered 200 with the plugin's version; anything else is a failure.

While it runs it rewrites PROGRESS with one line, "ok=N failed=F versions=1,2", so that the caller
can wait for traffic to flow; at the end it prints the totals and the first failures, and exits 1
when a request failed.

Usage: reload_load.py PORT STOP_FILE PROGRESS [THREADS]
"""
import http.client
import json
import os
import sys
import threading
import time


def main():
    port, stop_file, progress = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    lock = threading.Lock()
    ok, failures, versions = [0], [], set()
    body = json.dumps({"payload": {"ms": 20}})

    def client():
        while not os.path.exists(stop_file):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", "/work", body, {"Content-Type": "application/json"})
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                if answer.status != 200:
                    raise RuntimeError(f"status {answer.status}: {data[:200]!r}")
                version = json.loads(data)["version"]
                with lock:
                    ok[0] += 1
                    versions.add(version)
            except Exception as e:  # every way a request can fail counts
                with lock:
                    failures.append(f"{type(e).__name__}: {e}")

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    while any(w.is_alive() for w in workers):
        with lock:
            line = f"ok={ok[0]} failed={len(failures)} versions={','.join(sorted(versions))}\n"
        with open(progress + ".tmp", "w") as f:
            f.write(line)
        os.replace(progress + ".tmp", progress)
        time.sleep(0.1)
    for w in workers:
        w.join()
    print(f"load: {ok[0]} requests answered 200, {len(failures)} failed; versions seen: {','.join(sorted(versions))}")
    for failure in failures[:10]:
        print(f"load: failed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
