#!/usr/bin/python3
"""Fake Vast autoscaler (serverless engine), for cppworker's soak run and tests.

Speaks the worker side of core/protocol.md §2: takes POST /worker_status/ (checking the 17 fields
of Gen 3 1.1.0, in order, with their types), POST /delete_requests/ (remembering every
request_idx with its success flag) and serves GET /pubkey/ (the PEM of --pubkey-file). What it
got, and any report that broke the protocol, is under /_fake/. See README.md in this folder.
Python 3.11 standard library only.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUS_KEYS = ["id", "mtoken", "version", "loadtime", "cur_load", "rej_load", "new_load", "error_msg", "max_perf",
               "cur_perf", "cur_capacity", "max_capacity", "num_requests_working", "num_requests_recieved",
               "additional_disk_usage", "working_request_idxs", "url"]
DELETE_KEYS = ["worker_id", "mtoken", "request_idxs", "success"]


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def report_problems(body, pairs):
    """What is wrong with a /worker_status/ body, per core/protocol.md §2.1 (empty when nothing)."""
    keys = [k for k, _ in pairs]
    if keys != STATUS_KEYS:
        return [f"keys {keys}"]
    problems = []
    for key in ("id", "cur_capacity", "max_capacity", "num_requests_working", "num_requests_recieved"):
        if not _int(body[key]):
            problems.append(f"{key} not an int: {body[key]!r}")
    for key in ("loadtime", "cur_load", "rej_load", "new_load", "max_perf", "cur_perf", "additional_disk_usage"):
        if not _number(body[key]):
            problems.append(f"{key} not a number: {body[key]!r}")
    for key in ("mtoken", "version", "error_msg", "url"):
        if not isinstance(body[key], str):
            problems.append(f"{key} not a string: {body[key]!r}")
    idxs = body["working_request_idxs"]
    if not isinstance(idxs, list) or not all(_int(i) for i in idxs):
        problems.append(f"working_request_idxs not a list of ints: {idxs!r}")
    elif _int(body["num_requests_working"]) and len(idxs) > body["num_requests_working"]:
        problems.append("more working_request_idxs than num_requests_working")
    if body["version"] != "1.1.0":
        problems.append(f"version {body['version']!r}")
    for key in ("cur_load", "rej_load", "new_load", "cur_perf", "num_requests_working", "num_requests_recieved"):
        if _number(body[key]) and body[key] < 0:
            problems.append(f"{key} negative: {body[key]}")
    return problems


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.status = args.status
        self.delay = args.delay
        self.reset()

    def reset(self):
        self.reports = 0
        self.deletes = 0
        self.pubkey_requests = 0
        self.bad = []            # protocol violations, as text
        self.last_report = None
        self.max_working = 0
        self.sums = {"cur_perf": 0.0, "new_load": 0.0, "rej_load": 0.0}
        self.deleted = {}        # request_idx -> [success, ...] in arrival order
        self.refused_posts = 0   # posts answered with a status other than 200

    def snapshot(self):
        with self.lock:
            return {"reports": self.reports, "deletes": self.deletes, "pubkey_requests": self.pubkey_requests,
                    "bad": list(self.bad[:50]), "bad_count": len(self.bad), "last_report": self.last_report,
                    "max_working": self.max_working, "sums": dict(self.sums),
                    "deleted_ids": len(self.deleted),
                    "deleted_twice": sum(1 for v in self.deleted.values() if len(v) > 1),
                    "refused_posts": self.refused_posts,
                    "config": {"status": self.status, "delay": self.delay}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None
    pubkey = b""

    def log_message(self, format, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.state
        if self.path == "/pubkey/":
            with st.lock:
                st.pubkey_requests += 1
            self._send(200, self.pubkey, "text/plain")
        elif self.path == "/_fake/stats":
            self._send(200, st.snapshot())
        elif self.path == "/_fake/deleted":
            with st.lock:
                self._send(200, {str(k): v for k, v in st.deleted.items()})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self):
        st = self.state
        raw = self._body()
        if self.path.startswith("/_fake/"):
            self._control(raw)
            return
        with st.lock:
            status, delay = st.status, st.delay
        if delay:
            time.sleep(delay)
        if self.path not in ("/worker_status/", "/delete_requests/"):
            self._send(404, {"detail": "Not Found"})
            return
        if status != 200:
            with st.lock:
                st.refused_posts += 1
            self._send(status, {"detail": "fake autoscaler failure"})
            return
        try:
            pairs = json.loads(raw, object_pairs_hook=lambda p: p)
            body = dict(pairs)
        except (ValueError, TypeError) as e:
            with st.lock:
                st.bad.append(f"{self.path}: not a JSON object: {e}: {raw[:200]!r}")
            self._send(400, {"detail": "bad JSON"})
            return
        if self.path == "/worker_status/":
            problems = report_problems(body, pairs)
            with st.lock:
                st.reports += 1
                st.last_report = body
                if not problems:
                    st.max_working = max(st.max_working, body["num_requests_working"])
                    for k in st.sums:
                        st.sums[k] += body[k]
                st.bad += [f"/worker_status/: {p}" for p in problems]
        else:
            keys = [k for k, _ in pairs]
            idxs = body.get("request_idxs")
            ok = (keys == DELETE_KEYS and isinstance(body["success"], bool) and isinstance(idxs, list)
                  and all(_int(i) for i in idxs))
            with st.lock:
                st.deletes += 1
                if not ok:
                    st.bad.append(f"/delete_requests/: {raw[:200]!r}")
                else:
                    for i in idxs:
                        st.deleted.setdefault(i, []).append(body["success"])
        self._send(200, {})

    def _control(self, raw):
        st = self.state
        if self.path == "/_fake/reset":
            with st.lock:
                st.reset()
            self._send(200, {"ok": True})
        elif self.path == "/_fake/config":
            try:
                changes = json.loads(raw or b"{}")
            except ValueError:
                changes = {}
            with st.lock:
                if "status" in changes:
                    st.status = int(changes["status"] or 200)
                if "delay" in changes:
                    st.delay = float(changes["delay"] or 0)
                cfg = {"status": st.status, "delay": st.delay}
            self._send(200, cfg)
        else:
            self._send(404, {"detail": "unknown control endpoint"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one (default 0)")
    p.add_argument("--port-file", help="write the bound port here once listening (atomically)")
    p.add_argument("--pubkey-file", help="PEM public key served at GET /pubkey/ (default: an empty body)")
    p.add_argument("--status", type=int, default=200, help="HTTP status of every report and delete answer (default 200)")
    p.add_argument("--delay", type=float, default=0, help="seconds to wait before each such answer (default 0)")
    p.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process goes away")
    args = p.parse_args()

    handler = type("BoundHandler", (Handler,), {"state": State(args)})
    if args.pubkey_file:
        with open(args.pubkey_file, "rb") as f:
            handler.pubkey = f.read()
    server = Server(("127.0.0.1", args.port), handler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.replace(tmp, args.port_file)
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.exit_with_parent and os.getppid() != parent:
            break
    server.shutdown()
    server.server_close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
