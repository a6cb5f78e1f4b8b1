"""The soak run's driver, started by launch/soak.sh: a cppworker with the tgi plugin in front of
the fake TGI and beside the fake autoscaler (tests/fakes), signatures on, driven with mixed traffic
at 80 % of the capacity measured first; prints a progress line every 10 s and one summary line,
and exits 1 when any request had an unexpected outcome, something was left held at the end, or
the worker's RSS grew by more than 4 MiB after the warm-up. See the README's "Soak" section."""

import argparse
import base64
import json
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))

import clients  # noqa: E402
import procs  # noqa: E402
from rsa_sign import Signer  # noqa: E402

RSS_GROWTH_LIMIT_KIB = 4096
MAX_BODY_BYTES = 65536
STREAM_HIGH_WATER = 16384
CAPACITY_CLIENTS = 16
RUN_THREADS = 64
TOKEN_DELAY = 0.002
# Kind of operation -> weight in the mix. An operation is one or more requests.
MIX = {"generate": 40, "stream": 20, "cut_stream": 5, "malformed": 5, "oversize": 3, "bad_signature": 5,
       "replay": 3, "slow_reader": 2, "session": 5}
LATENCY_KINDS = ("generate", "stream")


def log(message):
    print(f"soak: {message}", file=sys.stderr, flush=True)


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def ms(v):
    return "nan" if v is None else f"{v * 1e3:.2f}"


class Tally:
    """Every request's outcome, and what the autoscaler must be told about each request_idx."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = Counter()      # (kind, outcome) -> n
        self.errors = Counter()        # kind + what went wrong -> n
        self.error_examples = {}
        self.requests = 0
        self.latencies = []            # all, seconds
        self.window = []               # since the last progress line
        self.expected_deletes = {}     # request_idx -> sorted list of success flags
        self.cut_streams = 0
        self.ops = 0

    def request(self, kind, outcome, ok, latency=None, detail=""):
        with self.lock:
            self.requests += 1
            self.outcomes[(kind, outcome)] += 1
            if not ok:
                key = f"{kind}: {outcome}"
                self.errors[key] += 1
                self.error_examples.setdefault(key, detail[:300])
            elif latency is not None:
                self.latencies.append(latency)
                self.window.append(latency)

    def check_error(self, what, n=1, detail=""):
        with self.lock:
            self.errors[what] += n
            self.error_examples.setdefault(what, detail[:300])

    def expect_delete(self, idx, success):
        with self.lock:
            self.expected_deletes.setdefault(idx, []).append(success)

    def error_count(self):
        with self.lock:
            return sum(self.errors.values())


class Conn:
    """One client connection, opened when needed and dropped when the worker closes it."""

    def __init__(self, port, timeout=30, rcvbuf=None):
        self.port, self.timeout, self.rcvbuf = port, timeout, rcvbuf
        self.sock = None

    def open(self):
        if self.sock is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            s.settimeout(self.timeout)
            s.connect(("127.0.0.1", self.port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock, self.reader = s, clients.Reader(s)
        return self.sock

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, method, path, body, extra_headers=""):
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{extra_headers}\r\n").encode()
        self.open().sendall(head + body)

    def answer(self):
        status, headers = self.reader.head()
        body = b"".join(self.reader.pieces(headers))
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, headers, body

    def exchange(self, method, path, body, extra_headers=""):
        """(status, headers, body). A kept-alive connection the worker closed meanwhile is retried once."""
        fresh = self.sock is None
        try:
            self.send(method, path, body, extra_headers)
            return self.answer()
        except (ConnectionError, OSError):
            self.close()
            if fresh:
                raise
        self.send(method, path, body, extra_headers)
        return self.answer()


class Traffic:
    def __init__(self, port, signer, tally, seed):
        self.port, self.signer, self.tally = port, signer, tally
        self.url = f"http://127.0.0.1:{port}"
        # Gen 3 1.1.0: the autoscaler signs the worker's url, so one signature fits every request.
        self.url_signature = signer.sign(json.dumps({"url": self.url}, indent=4, sort_keys=True).encode())
        self.next_idx = 0
        self.idx_lock = threading.Lock()
        self.local = threading.local()
        self.seed = seed

    def rng(self):
        if not hasattr(self.local, "rng"):
            self.local.rng = random.Random(f"{self.seed}-{threading.get_ident()}")
        return self.local.rng

    def conn(self):
        if not hasattr(self.local, "conn"):
            self.local.conn = Conn(self.port)
        return self.local.conn

    def idx(self):
        with self.idx_lock:
            self.next_idx += 1
            return self.next_idx

    def auth(self, tokens, fields=False):
        i = self.idx()
        a = {"cost": tokens, "endpoint": "soak", "reqnum": i, "request_idx": i, "url": self.url}
        if fields:  # 1.0.0: every field but the signature, with the replay window
            a["signature"] = self.signer.sign(json.dumps(a, indent=4, sort_keys=True).encode())
        else:
            a["signature"] = self.url_signature
        return a

    def payload(self, tokens):
        words = " ".join(self.rng().choice(("alpha", "beta", "gamma", "delta", "soak")) for _ in range(8))
        return {"inputs": words, "parameters": {"max_new_tokens": tokens}}

    @staticmethod
    def envelope(auth, payload, session_id=None):
        e = {"auth_data": auth, "payload": payload}
        if session_id is not None:
            e["session_id"] = session_id
        return json.dumps(e).encode()

    # ---- one operation of each kind; each records its requests in the tally ----
    def run(self, kind):
        t = self.tally
        try:
            getattr(self, "op_" + kind)()
        except Exception as e:  # noqa: BLE001 - any failure of a request is an outcome to count
            self.conn().close()
            t.request(kind, f"exception {type(e).__name__}", False, detail=f"{type(e).__name__}: {e}")

    def _whole(self, kind, path, body, expect_status, check=None, success=None, idx=None, conn=None):
        started = time.perf_counter()
        status, _, data = (conn or self.conn()).exchange("POST", path, body)
        latency = time.perf_counter() - started
        ok = status == expect_status and (check is None or check(data))
        self.tally.request(kind, str(status), ok, latency if kind in LATENCY_KINDS else None,
                           detail=f"{status} {data[:200]!r}")
        if idx is not None and success is not None:
            self.tally.expect_delete(idx, success)
        return status, data

    def op_generate(self):
        a = self.auth(8)
        self._whole("generate", "/generate", self.envelope(a, self.payload(8)), 200,
                    check=lambda d: json.loads(d)["generated_text"].count(" tok") == 8,
                    success=True, idx=a["request_idx"])

    def op_stream(self):
        a = self.auth(16)
        self._whole("stream", "/generate_stream", self.envelope(a, self.payload(16)), 200,
                    check=lambda d: d.count(b"data:") == 16 and b'"generated_text":"' in d,
                    success=True, idx=a["request_idx"])

    def op_cut_stream(self):
        # The client leaves after two events of 400: the worker must close TGI's request (the fake
        # counts the disconnect; compared in total at the end) and count it as cancelled.
        a = self.auth(400)
        c = Conn(self.port)
        try:
            c.send("POST", "/generate_stream", self.envelope(a, self.payload(400)))
            status, headers = c.reader.head()
            got = 0
            if status == 200:
                for _ in c.reader.pieces(headers):
                    got += 1
                    if got == 2:
                        break
        finally:
            c.close()
        ok = status == 200 and got == 2
        with self.tally.lock:
            self.tally.cut_streams += ok
        self.tally.request("cut_stream", "cut" if ok else str(status), ok, detail=f"{status}, {got} events")
        self.tally.expect_delete(a["request_idx"], True)  # cancelled: reported as success (§2.2)

    def op_malformed(self):
        # Never reaches the plugin: 422 before auth_data is read, so nothing is reported.
        self._whole("malformed", "/generate", b'{"auth_data": {"cost": 1, "payload": ', 422,
                    check=lambda d: b"invalid JSON" in d)

    def op_oversize(self):
        c = Conn(self.port)
        try:
            body = b'{"payload": {"inputs": "' + b"x" * (MAX_BODY_BYTES + 4096) + b'"}}'
            status = None
            try:
                c.send("POST", "/generate", body)
            except OSError:
                pass  # the worker may answer and close before the whole body is sent
            status, _, _ = c.answer()
            closed = c.sock is None or c.sock.recv(1) == b""
        finally:
            c.close()
        self.tally.request("oversize", str(status), status == 413 and closed, detail=f"{status}, closed {closed}")

    def op_bad_signature(self):
        a = self.auth(8)
        sig = bytearray(base64.b64decode(a["signature"]))
        sig[10] ^= 0x55
        a["signature"] = base64.b64encode(bytes(sig)).decode()
        self._whole("bad_signature", "/generate", self.envelope(a, self.payload(8)), 401, check=lambda d: d == b"",
                    success=False, idx=a["request_idx"])

    def op_replay(self):
        # A 1.0.0 all-fields signature is served once; the same auth_data again is a replay: 401.
        a = self.auth(4, fields=True)
        body = self.envelope(a, self.payload(4))
        self._whole("replay_first", "/generate", body, 200, success=True, idx=a["request_idx"])
        self._whole("replay_again", "/generate", body, 401, check=lambda d: d == b"", success=False,
                    idx=a["request_idx"])

    def op_slow_reader(self):
        # A client with a 4 KiB receive buffer that reads 1 KiB every 5 ms: the worker's stream
        # high-water mark (16 KiB) is reached, it stops reading from TGI, and the stream is whole.
        a = self.auth(300)
        c = Conn(self.port, rcvbuf=4096)
        try:
            c.send("POST", "/generate_stream", self.envelope(a, self.payload(300)))
            raw = b""
            deadline = time.monotonic() + 60
            while not raw.endswith(b"\r\n0\r\n\r\n") and time.monotonic() < deadline:
                data = c.sock.recv(1024)
                if not data:
                    break
                raw += data
                time.sleep(0.005)
        finally:
            c.close()
        body = dechunk(raw)
        ok = raw.startswith(b"HTTP/1.1 200") and body is not None and body.count(b"data:") == 300
        self.tally.request("slow_reader", "200" if ok else "incomplete", ok,
                           detail=f"{len(raw)} bytes, {body.count(b'data:') if body else 'no whole'} events, "
                                  f"ends {raw[-20:]!r}")
        self.tally.expect_delete(a["request_idx"], True)

    def op_session(self):
        a = self.auth(10)
        status, data = self._whole("session_create", "/session/create",
                                   json.dumps({"auth_data": a, "payload": {"lifetime": 60}}).encode(), 201,
                                   check=lambda d: len(json.loads(d)["session_id"]) == 32,
                                   success=True, idx=a["request_idx"])
        if status != 201:
            return
        sid = json.loads(data)["session_id"]
        self._whole("session_generate", "/generate", self.envelope(a, self.payload(4), session_id=sid), 200)
        self._whole("session_end", "/session/end", json.dumps({"session_id": sid, "session_auth": a}).encode(), 200,
                    check=lambda d: json.loads(d).get("ended") is True)


def dechunk(raw):
    """The body of a whole HTTP/1.1 answer with a chunked body, or None if it is not one (cut
    short, or framed wrongly). Chunk boundaries need not fall between events: a relay may split an
    event, or join several, when its reader is slow."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep or b"transfer-encoding: chunked" not in head.lower():
        return None
    body = []
    while True:
        line, sep, rest = rest.partition(b"\r\n")
        try:
            size = int(line.split(b";")[0], 16)
        except ValueError:
            return None
        if not sep or len(rest) < size + 2 or rest[size:size + 2] != b"\r\n":
            return None
        if size == 0:
            return b"".join(body) if rest == b"\r\n" else None
        body.append(rest[:size])
        rest = rest[size + 2:]


def pick(rng):
    return rng.choices(list(MIX), weights=list(MIX.values()))[0]


def closed_loop(traffic, seconds, clients_n):
    """Capacity: operations per second with `clients_n` clients, each starting its next operation
    as soon as the last one ended."""
    stop = time.monotonic() + seconds
    done = Counter()

    def client(k):
        rng = random.Random(f"capacity-{k}")
        while time.monotonic() < stop:
            traffic.run(pick(rng))
            done[k] += 1

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients_n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 90)
    return sum(done.values()) / (time.monotonic() - started)


class OpenLoop:
    """Operations started at a fixed rate, whatever the answers' speed, by a pool of threads."""

    def __init__(self, traffic, rate, seed):
        self.traffic, self.rate = traffic, rate
        self.jobs = queue.Queue()
        self.rng = random.Random(seed)
        self.late = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(RUN_THREADS)]
        for t in self.threads:
            t.start()

    def _work(self):
        while True:
            kind = self.jobs.get()
            if kind is None:
                return
            self.traffic.run(kind)
            with self.traffic.tally.lock:
                self.traffic.tally.ops += 1

    def run_until(self, end, on_tick):
        """Schedules operations until `end` (monotonic); calls on_tick() about every second."""
        start = time.monotonic()
        n = 0
        next_tick = start + 1
        while True:
            now = time.monotonic()
            if now >= end or self.stopping.is_set():
                return
            due = start + n / self.rate
            if due <= now:
                if self.jobs.qsize() > RUN_THREADS:
                    self.late += 1  # every thread busy: the system is behind the rate
                self.jobs.put(pick(self.rng))
                n += 1
                continue
            if now >= next_tick:
                on_tick()
                next_tick += 1
            time.sleep(min(due - now, 0.01))

    def finish(self, timeout):
        for _ in self.threads:
            self.jobs.put(None)
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        return all(not t.is_alive() for t in self.threads)


def spawn_fake(script, args, workdir, name):
    port_file = workdir / f"{name}.port"
    log = workdir / f"{name}.out"
    p = procs.spawn(["/usr/bin/python3", script, "--port", "0", "--port-file", port_file, "--exit-with-parent", *args],
                    log, env={**procs.minimal_env(), "PYTHONDONTWRITEBYTECODE": "1"})
    procs._wait_for(port_file.exists, p, name, log, 20)
    return p, int(port_file.read_text())


def get_json(port, path):
    status, body = clients.http_get(port, path)
    if status != 200:
        raise procs.BenchError(f"GET {path} on port {port} answered {status}")
    return json.loads(body)


def metrics(port):
    status, body = clients.http_get(port, "/metrics")
    out = {}
    if status == 200:
        for line in body.decode(errors="replace").splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
    return out


HELD = ("cppworker_requests_working", "cppworker_queued_requests", "cppworker_registered_requests",
        "cppworker_ledger_entries", "cppworker_sessions_open", "cppworker_undelivered_ids")


def final_checks(tally, worker, tgi_port, autoscaler_port):
    """After the traffic: nothing held in the worker, TGI saw every cut stream go, the autoscaler
    was told every request exactly as expected and its last report says nothing is working."""
    deadline = time.monotonic() + 40
    while True:
        m = metrics(worker.port)
        held = {k: m.get(k, -1) for k in HELD}
        if all(v == 0 for v in held.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for k, v in held.items():
        if v != 0:
            tally.check_error(f"end: {k} is {v}", detail=str(held))
    deadline = time.monotonic() + 20
    while get_json(tgi_port, "/_fake/stats")["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.2)
    tgi = get_json(tgi_port, "/_fake/stats")
    if tgi["disconnects"] != tally.cut_streams:
        tally.check_error("end: TGI saw disconnects != cut streams", abs(tgi["disconnects"] - tally.cut_streams),
                          detail=f"TGI saw {tgi['disconnects']} disconnects for {tally.cut_streams} cut streams")
    if tgi["in_flight"]:
        tally.check_error("end: TGI still has requests in flight", tgi["in_flight"])

    # The next report after the traffic (a heartbeat comes within ~11 s) says nothing is working.
    before = get_json(autoscaler_port, "/_fake/stats")["reports"]
    deadline = time.monotonic() + 25
    while True:
        st = get_json(autoscaler_port, "/_fake/stats")
        if st["reports"] > before or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    last = st["last_report"] or {}
    if st["reports"] <= before:
        tally.check_error("end: no status report after the traffic")
    elif last.get("num_requests_working") != 0 or last.get("working_request_idxs") != []:
        tally.check_error("end: the last status report has requests working", detail=json.dumps(last))
    if last.get("error_msg"):
        tally.check_error("end: error_msg reported", detail=last["error_msg"])
    if st["bad_count"]:
        tally.check_error("end: reports that break the protocol", st["bad_count"], detail="; ".join(st["bad"][:3]))

    deleted = {int(k): sorted(v) for k, v in get_json(autoscaler_port, "/_fake/deleted").items()}
    expected = {k: sorted(v) for k, v in tally.expected_deletes.items()}
    missing = [k for k in expected if k not in deleted]
    wrong = [k for k in expected if k in deleted and deleted[k] != expected[k]]
    extra = [k for k in deleted if k not in expected]
    for what, ids in (("never named to /delete_requests/", missing), ("named with the wrong success or twice", wrong),
                      ("named but not expected", extra)):
        if ids:
            tally.check_error(f"end: request_idx {what}", len(ids),
                              detail=", ".join(f"{k}: expected {expected.get(k)}, got {deleted.get(k)}" for k in ids[:5]))
    return st


def progress(t0, tally, worker, last):
    with tally.lock:
        window, tally.window = tally.window, []
        by_outcome = Counter()
        for (kind, outcome), n in tally.outcomes.items():
            by_outcome[outcome] += n
        requests, errors = tally.requests, sum(tally.errors.values())
    rss = procs.rss_kib(worker.pids())
    outcomes = " ".join(f"{k}:{v}" for k, v in sorted(by_outcome.items()))
    rate = (requests - last["requests"]) / max(1e-9, time.monotonic() - last["at"])
    last.update(requests=requests, at=time.monotonic())
    print(f"soak: t={time.monotonic() - t0:4.0f}s requests={requests} ({rate:.0f}/s) errors={errors} [{outcomes}] "
          f"rss_kib={rss} p50_ms={ms(percentile(window, 0.5))} p99_ms={ms(percentile(window, 0.99))}", flush=True)


def run(a):
    root, tmp = Path(a.root), Path(a.tmp)
    binary = root / "build/default/bin/cppworker"
    fakes = root / "tests/fakes"
    key, pub = tmp / "key.pem", tmp / "pub.pem"
    procs.subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    procs.subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(pub)], check=True,
                         capture_output=True)
    signer = Signer(key)

    model_log = tmp / "infer.log"
    _, tgi_port = spawn_fake(fakes / "fake_tgi.py", ["--log", model_log, "--token-delay", TOKEN_DELAY,
                                                     "--load-delay", "0.2"], tmp, "fake-tgi")
    _, as_port = spawn_fake(fakes / "fake_autoscaler.py", ["--pubkey-file", pub], tmp, "fake-autoscaler")
    log(f"fake TGI on {tgi_port}, fake autoscaler on {as_port}; starting the worker (its key from /pubkey/)")
    worker = procs.Worker(binary, tmp / "worker", [
        "--backend", "tgi", "--model-server-url", f"http://127.0.0.1:{tgi_port}", "--model-log", model_log,
        "--report-addr", f"http://127.0.0.1:{as_port}", "--container-id", "7", "--public-ip", "127.0.0.1",
        "--external-port", "1", "--master-token", "soak", "--max-body-bytes", MAX_BODY_BYTES,
        "--stream-high-water", STREAM_HIGH_WATER, "--max-sessions", "1000"])
    if get_json(as_port, "/_fake/stats")["pubkey_requests"] < 1:
        raise procs.BenchError("the worker became ready without fetching /pubkey/")

    tally = Tally()
    traffic = Traffic(worker.port, signer, tally, a.seed)
    t0 = time.monotonic()
    capacity = closed_loop(traffic, a.capacity_seconds, CAPACITY_CLIENTS)
    rate = 0.8 * capacity
    log(f"capacity {capacity:.0f} operations/s with {CAPACITY_CLIENTS} clients; running {a.duration} s at "
        f"{rate:.0f} operations/s")
    warm_up = min(60, max(5, a.duration // 5))
    rss_start = None
    loop = OpenLoop(traffic, rate, a.seed)
    started = time.monotonic()
    last = {"requests": tally.requests, "at": started}
    state = {"next_progress": started + 10}

    def tick():
        nonlocal rss_start
        now = time.monotonic()
        if rss_start is None and now - started >= warm_up:
            rss_start = procs.rss_kib(worker.pids())
            log(f"warm-up over after {warm_up} s: rss_start_kib={rss_start}")
        if worker.proc.poll() is not None:
            tally.check_error(f"the worker exited with {worker.proc.returncode}")
            loop.stopping.set()
        if now >= state["next_progress"]:
            progress(t0, tally, worker, last)
            state["next_progress"] += 10

    loop.run_until(started + a.duration, tick)
    if rss_start is None:
        rss_start = procs.rss_kib(worker.pids())
    if not loop.finish(120):
        tally.check_error("operations still running 120 s after the end")
    progress(t0, tally, worker, last)
    if worker.proc.poll() is None:
        final_checks(tally, worker, tgi_port, as_port)
        rss_end = procs.rss_kib(worker.pids())
    else:
        rss_end = 0
    if loop.late:
        log(f"{loop.late} operations waited for a free client thread (the system fell behind the rate)")
    errors = tally.error_count()
    for what, n in sorted(tally.errors.items()):
        log(f"error x{n}: {what}: {tally.error_examples.get(what, '')}")
    print(f"soak: requests={tally.requests} errors={errors} rss_start_kib={rss_start} rss_end_kib={rss_end} "
          f"p50_ms={ms(percentile(tally.latencies, 0.5))} p99_ms={ms(percentile(tally.latencies, 0.99))}", flush=True)
    grew = rss_end - rss_start
    if grew > RSS_GROWTH_LIMIT_KIB:
        log(f"RSS grew by {grew} KiB after the warm-up (limit {RSS_GROWTH_LIMIT_KIB} KiB)")
    if a.keep_logs:
        log(f"logs kept in {tmp}")
    return 1 if errors or grew > RSS_GROWTH_LIMIT_KIB else 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--duration", type=int, default=600)
    p.add_argument("--capacity-seconds", type=int, default=5)
    p.add_argument("--seed", default="soak")
    p.add_argument("--keep-logs", action="store_true")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(a)
    except procs.BenchError as e:
        log(str(e))
        return 1
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
