"""Shared machinery for the fake model servers used by cppworker's tests.

Each fake (fake_tgi.py, fake_openai.py, fake_comfyui.py, fake_sdauto.py) subclasses FakeServer,
declares its routes and its log lines, and calls main(). This module provides:

- a real HTTP/1.1 server (ThreadingHTTPServer, daemon threads, keep-alive, 127.0.0.1 only);
- request bodies read by Content-Length (or chunked), answers with Content-Length, streams written
  as hand-made chunked transfer coding, one chunk per event, each flushed as it is written;
- the common flags (--port, --port-file, --log, --load-delay, --token-delay, --fail-start, --hang,
  --status-override, --exit-with-parent);
- the model log: start-up lines at once, the "loaded" (or start-up error) lines after --load-delay;
- the control endpoints under /_fake/ (stats, config, reset, log);
- prompt detection of clients that go away (failed writes, and a 50 ms poll of the socket).

Python 3.11 standard library only.
"""

import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

POLL_INTERVAL = 0.05  # seconds between checks that a waiting client is still there

_DISCONNECT_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class Disconnected(Exception):
    """The client went away while its request was being served."""


class Dropped(Exception):
    """The fake closed the connection in the middle of a stream, as a crashing server would."""


def compact_json(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def spaced_json(obj):
    return json.dumps(obj).encode()


def words(text):
    """Token count used by every fake: whitespace-separated words."""
    return len(text.split()) if isinstance(text, str) else 0


def status_phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def token_text(i):
    return f" tok{i}"


@lru_cache(maxsize=64)
def png_bytes(width=64, height=64, rgb=(90, 140, 200)):
    """A valid RGB PNG of one colour (compresses to a few hundred bytes)."""
    width = max(1, min(int(width), 4096))
    height = max(1, min(int(height), 4096))
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) +
            chunk(b"IEND", b""))


class State:
    """Counters and run-time switches, shared by all handler threads."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.token_delay = args.token_delay
        self.hang = args.hang
        self.status_override = args.status_override
        self.drop_after = args.drop_after
        self.bad_chunk_after = args.bad_chunk_after
        self.loaded = False
        self.start_failed = False
        # Gauges, not counters: a reset must not lose track of a request still finishing.
        self.in_flight = 0
        # Jobs a fake with a job queue holds from their arrival until their answer is ready, before
        # it is written: the overlap the model server's queue sees. in_flight also covers writing
        # the answer, which a client that already has it does not wait for.
        self.jobs = 0
        # Bumped by every reset. A request counts its completion or disconnect only in the epoch it
        # began in: a client can read a whole answer and ask for a reset before the handler thread
        # that wrote it has counted it, and that late count must not land in the fresh counters.
        self.epoch = 0
        self.stalled_writers = 0
        self.reset()

    def reset(self):
        self.epoch += 1
        self.requests = 0
        self.disconnects = 0
        self.completed = 0
        self.connections = 0
        self.connections_total = 0
        self.idle_closes = 0
        self.in_flight_max = self.in_flight
        self.jobs_max = self.jobs
        self.other_requests = 0
        self.stream_bytes = 0
        self.write_stalls = 0
        self.drops = 0
        self.bad_chunks = 0
        self.paths = {}
        self.last_body = None
        self.last_path = None
        self.last_headers = {}

    def snapshot(self):
        with self.lock:
            return {
                "requests": self.requests,
                "disconnects": self.disconnects,
                "completed": self.completed,
                "in_flight": self.in_flight,
                "connections": self.connections,
                "connections_total": self.connections_total,
                "idle_closes": self.idle_closes,
                "in_flight_max": self.in_flight_max,
                "jobs_max": self.jobs_max,
                "other_requests": self.other_requests,
                "stream_bytes": self.stream_bytes,
                "write_stalls": self.write_stalls,
                "stalled_writers": self.stalled_writers,
                "drops": self.drops,
                "bad_chunks": self.bad_chunks,
                "paths": dict(self.paths),
                "last_body": self.last_body,
                "last_path": self.last_path,
                "last_headers": dict(self.last_headers),
                "loaded": self.loaded,
                "start_failed": self.start_failed,
                "config": self._config(),
            }

    def _config(self):
        return {"token_delay": self.token_delay, "hang": self.hang, "status_override": self.status_override,
                "drop_after": self.drop_after, "bad_chunk_after": self.bad_chunk_after, "loaded": self.loaded}


class ModelLog:
    """The model server's log file; every line is flushed as it is written."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8") if path else sys.stdout

    def write(self, *lines):
        with self.lock:
            for line in lines:
                for piece in str(line).split("\n"):
                    self.file.write(piece + "\n")
            self.file.flush()


class Route:
    def __init__(self, methods, pattern, fn, model):
        self.methods = set(methods)
        self.regex = re.compile(pattern)
        self.fn = fn
        self.model = model


class FakeServer:
    """Base class of a fake. Subclasses fill in the class attributes and the hooks."""

    description = "fake model server"
    server_header = None      # value of the Server header, or None for none
    not_found_style = "fastapi"  # "fastapi" ({"detail":"Not Found"}), "axum" (empty), "aiohttp" (text)
    json_dumps = staticmethod(compact_json)

    def __init__(self, args):
        self.args = args
        self.state = State(args)
        self.log = ModelLog(args.log)
        self.port = 0
        self.stopping = threading.Event()
        self.routes = []
        self.setup_routes()

    # ---- hooks for subclasses ----
    @staticmethod
    def add_arguments(parser):
        pass

    def setup_routes(self):
        raise NotImplementedError

    def startup_lines(self):
        """Written as soon as the process starts."""
        return []

    def loaded_lines(self):
        """Written after --load-delay; the last one carries the server's real "loaded" message."""
        return []

    def failure_lines(self):
        """Written after --load-delay instead of loaded_lines() with --fail-start."""
        return []

    def error_response(self, h, status, message):
        """The server's own error shape, for --status-override and for requests before "loaded"."""
        h.send_json(status, {"error": message})

    # ---- helpers ----
    def route(self, methods, pattern, fn, model=False):
        if isinstance(methods, str):
            methods = [methods]
        self.routes.append(Route(methods, pattern, fn, model))

    def match(self, method, path):
        allowed = False
        for r in self.routes:
            m = r.regex.fullmatch(path)
            if m is None:
                continue
            if method in r.methods or (method == "HEAD" and "GET" in r.methods):
                return r, m
            allowed = True
        return ("method_not_allowed" if allowed else None), None

    def not_found(self, h, status=404):
        phrase = status_phrase(status)
        if self.not_found_style == "axum":
            h.send_bytes(status, b"", None)
        elif self.not_found_style == "aiohttp":
            h.send_bytes(status, f"{status}: {phrase}".encode(), "text/plain; charset=utf-8")
        else:
            h.send_json(status, {"detail": phrase})

    def token_delay(self):
        return self.state.token_delay

    def timestamp_iso(self):
        t = time.time()
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1e6):06d}Z"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY, as uvicorn and hyper set: each event leaves at once
    fake = None  # set by main()

    # ---- plumbing ----
    def setup(self):
        super().setup()
        self.counted_connection = False
        with self.fake.state.lock:
            self.fake.state.connections_total += 1

    def handle(self):
        ka = self.fake.args.keep_alive_timeout
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            if ka:
                self.connection.settimeout(ka)  # idle limit while waiting for the next request
            self.handle_one_request()

    def parse_request(self):
        if self.fake.args.keep_alive_timeout:
            self.connection.settimeout(None)
        return super().parse_request()

    def log_message(self, format, *args):  # silence http.server's access log on stderr
        pass

    def log_error(self, format, *args):
        # http.server's only word that a kept-alive connection idled past --keep-alive-timeout.
        if format.startswith("Request timed out"):
            with self.fake.state.lock:
                self.fake.state.idle_closes += 1

    def send_response(self, code, message=None):
        self.send_response_only(code, message)
        if self.fake.server_header:
            self.send_header("Server", self.fake.server_header)
        self.send_header("Date", self.date_time_string())

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except _DISCONNECT_ERRORS:
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_OPTIONS(self):
        self._dispatch("OPTIONS")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionResetError("body cut short")
        return data

    def _dispatch(self, method):
        st = self.fake.state
        url = urlsplit(self.path)
        self.url_path = url.path
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.is_model = False
        self.disconnect_counted = False
        self.answered = False
        self.chunks_written = 0
        self.drop_after = None
        self.bad_chunk_after = None
        try:
            self.body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_bytes(400, b"bad request body", "text/plain")
            return
        self.json = None
        self.json_error = None
        if self.body:
            try:
                self.json = json.loads(self.body)
            except (ValueError, UnicodeDecodeError) as e:
                self.json_error = e

        if self.url_path.startswith("/_fake/"):
            self._control(method)
            return

        with st.lock:
            if not self.counted_connection:
                self.counted_connection = True
                st.connections += 1
            st.paths[self.url_path] = st.paths.get(self.url_path, 0) + 1

        route, m = self.fake.match(method, self.url_path)
        if route is None or route == "method_not_allowed":
            with st.lock:
                st.other_requests += 1
            self.fake.not_found(self, 404 if route is None else 405)
            return

        if not route.model:
            with st.lock:
                st.other_requests += 1
            route.fn(self, *m.groups())
            return

        self.is_model = True
        with st.lock:
            self.epoch = st.epoch
            st.requests += 1
            st.in_flight += 1
            st.in_flight_max = max(st.in_flight_max, st.in_flight)
            st.last_body = self.json
            st.last_path = self.url_path
            st.last_headers = {k.lower(): v for k, v in self.headers.items()}
            hang, override, loaded = st.hang, st.status_override, st.loaded
            self.drop_after = st.drop_after
            self.bad_chunk_after = st.bad_chunk_after
        try:
            if hang:
                self.hang_until_disconnect()
            elif override:
                self.fake.error_response(self, int(override), status_phrase(int(override)))
            elif not loaded:
                self.fake.error_response(self, 503, "model is not loaded")
            else:
                route.fn(self, *m.groups())
        except Disconnected:
            self.note_disconnect()
        except _DISCONNECT_ERRORS:
            self.note_disconnect()
        except Dropped:
            self.close_connection = True
            with st.lock:
                st.drops += 1
        finally:
            with st.lock:
                st.in_flight -= 1

    # ---- control endpoints ----
    def _control(self, method):
        st = self.fake.state
        path = self.url_path
        if path == "/_fake/stats" and method == "GET":
            self.send_json(200, st.snapshot())
        elif path == "/_fake/reset" and method == "POST":
            with st.lock:
                st.reset()
            self.send_json(200, {"ok": True})
        elif path == "/_fake/config" and method in ("GET", "POST"):
            if method == "POST":
                changes = self.json if isinstance(self.json, dict) else {}
                with st.lock:
                    if "token_delay" in changes:
                        st.token_delay = float(changes["token_delay"])
                    if "hang" in changes:
                        st.hang = bool(changes["hang"])
                    if "status_override" in changes:
                        v = changes["status_override"]
                        st.status_override = int(v) if v else None
                    if "loaded" in changes:
                        st.loaded = bool(changes["loaded"])
                    if "drop_after" in changes:
                        v = changes["drop_after"]
                        st.drop_after = None if v is None else int(v)
                    if "bad_chunk_after" in changes:
                        v = changes["bad_chunk_after"]
                        st.bad_chunk_after = None if v is None else int(v)
            with st.lock:
                cfg = st._config()
            self.send_json(200, cfg)
        elif path == "/_fake/load" and method == "POST":
            # A server that loads after all, say after an error a worker must not forget.
            with st.lock:
                st.loaded = True
            self.fake.log.write(*self.fake.loaded_lines())
            self.send_json(200, {"ok": True})
        elif path == "/_fake/log" and method == "POST":
            obj = self.json if isinstance(self.json, dict) else {}
            lines = obj.get("lines") or ([obj["line"]] if "line" in obj else [])
            self.fake.log.write(*lines)
            self.send_json(200, {"ok": True, "written": len(lines)})
        else:
            self.send_json(404, {"detail": "unknown control endpoint"})

    # ---- answering ----
    def _done(self):
        if self.is_model and not self.answered:
            self.answered = True
            st = self.fake.state
            with st.lock:
                if self.epoch == st.epoch:
                    st.completed += 1

    def note_disconnect(self):
        self.close_connection = True
        if self.is_model and not self.disconnect_counted:
            self.disconnect_counted = True
            st = self.fake.state
            with st.lock:
                if self.epoch == st.epoch:
                    st.disconnects += 1

    def send_bytes(self, status, body, content_type, headers=()):
        """A whole answer with Content-Length. False if the client went away."""
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            self._done()
            return True
        except _DISCONNECT_ERRORS:
            self.note_disconnect()
            return False

    def send_json(self, status, obj, headers=(), content_type="application/json", dumps=None):
        return self.send_bytes(status, (dumps or self.fake.json_dumps)(obj), content_type, headers)

    def send_text(self, status, text, headers=(), content_type="text/plain; charset=utf-8"):
        return self.send_bytes(status, text.encode(), content_type, headers)

    def start_stream(self, status, content_type, headers=()):
        """Status line and headers of a chunked answer. Raises Disconnected if the client is gone."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
        except _DISCONNECT_ERRORS:
            raise Disconnected()

    def write_chunk(self, data):
        """One chunk, sent at once. Raises Disconnected if the client is gone, Dropped when
        drop_after chunks of this answer were sent (the connection is then closed, mid-stream)."""
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return
        if self.drop_after is not None and self.chunks_written >= self.drop_after:
            self.drop_connection()
        if self.bad_chunk_after is not None and self.chunks_written >= self.bad_chunk_after:
            self.send_malformed_chunk(data)
        try:
            self._send_all(b"%x\r\n%s\r\n" % (len(data), data))
        except _DISCONNECT_ERRORS:
            raise Disconnected()
        self.chunks_written += 1

    def _send_all(self, frame):
        """Sends without blocking while it can; when the socket is full (the reader is not keeping
        up), counts a stall and waits until it can write again, so a test can see the fake held."""
        st = self.fake.state
        view = memoryview(frame)
        while view:
            try:
                n = self.connection.send(view, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                with st.lock:
                    st.write_stalls += 1
                    st.stalled_writers += 1
                try:
                    while not select.select([], [self.connection], [], POLL_INTERVAL)[1]:
                        if self.fake.stopping.is_set():
                            raise Disconnected()
                finally:
                    with st.lock:
                        st.stalled_writers -= 1
                continue
            view = view[n:]
            with st.lock:
                st.stream_bytes += n

    def drop_connection(self):
        """Closes the connection as a server that dies mid-answer does: no last chunk, just FIN."""
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise Dropped()

    def send_malformed_chunk(self, data):
        """A chunk whose size line is not hexadecimal (`zz`), as a broken proxy or server might
        send; then the connection stays open and silent, so that the reader's parser, not a closed
        connection, is what ends the answer. Raises Disconnected once the reader has hung up."""
        try:
            self._send_all(b"zz\r\n%s\r\n" % data)
        except _DISCONNECT_ERRORS:
            raise Disconnected()
        with self.fake.state.lock:
            self.fake.state.bad_chunks += 1
        self.hang_until_disconnect()

    def end_stream(self):
        if self.drop_after is not None and self.chunks_written >= self.drop_after:
            self.drop_connection()
        try:
            self._send_all(b"0\r\n\r\n")
        except _DISCONNECT_ERRORS:
            raise Disconnected()
        self._done()

    # ---- waiting while watching the client ----
    def peer_closed(self):
        """True when the client has closed its end (or reset the connection)."""
        sock = self.connection
        try:
            readable, _, errored = select.select([sock], [], [sock], 0)
        except (OSError, ValueError):
            return True
        if errored:
            return True
        if not readable:
            return False
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def wait(self, seconds):
        """Sleeps, checking every 50 ms that the client is still there; raises Disconnected if not."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            if self.peer_closed():
                raise Disconnected()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.fake.stopping.wait(min(POLL_INTERVAL, left)):
                raise Disconnected()

    def wait_until(self, event):
        """Waits for a threading.Event, checking the client every 50 ms; raises Disconnected if it left."""
        while not event.wait(POLL_INTERVAL):
            if self.peer_closed() or self.fake.stopping.is_set():
                raise Disconnected()

    def hang_until_disconnect(self):
        while not self.fake.stopping.is_set():
            if self.peer_closed():
                raise Disconnected()
            time.sleep(POLL_INTERVAL)
        raise Disconnected()


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, _DISCONNECT_ERRORS + (OSError,)):
            return
        super().handle_error(request, client_address)


def common_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one (default 0)")
    p.add_argument("--port-file", help="write the bound port here once listening (atomically)")
    p.add_argument("--log", help="the model server's log file (default: stdout)")
    p.add_argument("--load-delay", type=float, default=0.2,
                   help="seconds from start to the \"loaded\" log line and a healthy health check (default 0.2)")
    p.add_argument("--token-delay", type=float, default=0.02,
                   help="seconds per generated token / per sampling step (default 0.02)")
    p.add_argument("--fail-start", action="store_true",
                   help="write the server's start-up error instead of the loaded line; health stays 503")
    p.add_argument("--hang", action="store_true",
                   help="read model requests but never answer them, until the client disconnects")
    p.add_argument("--status-override", type=int, default=None, metavar="N",
                   help="answer every model request with HTTP N and the server's error JSON")
    p.add_argument("--drop-after", type=int, default=None, metavar="N",
                   help="close the connection after N chunks of a streamed answer, without its last chunk")
    p.add_argument("--bad-chunk-after", type=int, default=None, metavar="N",
                   help="after N chunks of a streamed answer, send a chunk with a malformed size line, then "
                        "hold the connection silent until the client closes it")
    p.add_argument("--keep-alive-timeout", type=float, default=0, metavar="S",
                   help="close a kept-alive connection idle for S seconds (uvicorn: 5); 0 = never (default)")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit when the parent process goes away")
    return p


def _write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _loader(fake):
    args = fake.args
    if fake.stopping.wait(max(0.0, args.load_delay)):
        return
    if args.fail_start:
        with fake.state.lock:
            fake.state.start_failed = True
        fake.log.write(*fake.failure_lines())
    else:
        # Healthy before the line appears: whoever reacts to the line finds the server ready.
        with fake.state.lock:
            fake.state.loaded = True
        fake.log.write(*fake.loaded_lines())


def main(fake_cls, argv=None):
    parser = common_parser(fake_cls.description)
    fake_cls.add_arguments(parser)
    args = parser.parse_args(argv)

    fake = fake_cls(args)
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    server = FakeHTTPServer(("127.0.0.1", args.port), handler)
    fake.port = server.server_address[1]

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                     name="serve").start()
    fake.log.write(*fake.startup_lines())
    if args.port_file:
        _write_port_file(args.port_file, fake.port)
    threading.Thread(target=_loader, args=(fake,), daemon=True, name="loader").start()

    if args.exit_with_parent:
        parent = os.getppid()

        def watch_parent():
            while not stop.is_set():
                if os.getppid() != parent:
                    stop.set()
                    return
                time.sleep(0.5)

        threading.Thread(target=watch_parent, daemon=True, name="parent-watch").start()

    while not stop.wait(0.5):
        pass
    fake.stopping.set()
    server.shutdown()
    server.server_close()
    try:
        fake.log.file.flush()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)
