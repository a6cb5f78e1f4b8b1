#!/usr/bin/python3
"""Self-test of the fake model servers: each one really speaks its API over real HTTP/1.1.

Starts every fake on port 0 (several processes per fake: normal, --fail-start, --hang,
--status-override), talks to them with http.client and raw sockets, and checks answers, streaming
(incremental delivery, chunked framing), the model log, keep-alive, disconnect counting,
/_fake/ control endpoints and a clean exit on SIGTERM. The four fakes are checked in parallel.
Standard library only; exit status 0 when every check passed.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class CheckFailed(AssertionError):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise CheckFailed(f"{what}{': ' + str(detail)[:600] if detail != '' else ''}")


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.02)
    raise CheckFailed(f"timed out waiting for {what}")


class Fake:
    """One fake server process, started on port 0 with its own log."""

    def __init__(self, kind, *extra):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"fake-{kind}-")
        self.log_path = os.path.join(self.dir, "model.log")
        port_file = os.path.join(self.dir, "port")
        self.out = open(os.path.join(self.dir, "output"), "wb")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, f"fake_{kind}.py"), "--port", "0", "--port-file", port_file,
             "--log", self.log_path, "--exit-with-parent", *extra],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise CheckFailed(f"fake_{kind} did not start: {self.output()}")
            time.sleep(0.01)
        with open(port_file) as f:
            self.port = int(f.read())

    def output(self):
        if not self.out.closed:
            self.out.flush()
        with open(os.path.join(self.dir, "output"), "rb") as f:
            return f.read().decode(errors="replace")

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=5):
        wait_until(lambda: text in self.log(), timeout, f"{text!r} in the {self.kind} log")

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """(status, headers dict lower-case, body bytes); a fresh connection unless one is given."""
        c = conn or self.conn()
        hs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hs.setdefault("Content-Type", "application/json")
        try:
            c.request(method, path, body=body, headers=hs)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if conn is None:
                c.close()

    def json(self, method, path, body=None, headers=None, conn=None, status=200):
        st, hs, data = self.request(method, path, body, headers, conn)
        check(st == status, f"{method} {path} status {st}, expected {status}", data)
        try:
            return json.loads(data)
        except ValueError:
            raise CheckFailed(f"{method} {path}: not JSON: {data[:300]!r}")

    def stats(self):
        return self.json("GET", "/_fake/stats")

    def wait_stats(self, pred, timeout=3, what="stats"):
        return wait_until(lambda: (lambda s: s if pred(s) else None)(self.stats()), timeout, what)

    def config(self, **changes):
        return self.json("POST", "/_fake/config", changes)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise CheckFailed(f"fake_{self.kind} ignored SIGTERM")
        rc = self.proc.returncode
        self.out.close()
        output = self.output()
        shutil.rmtree(self.dir, ignore_errors=True)
        check(rc == 0, f"fake_{self.kind} exit code {rc} after SIGTERM", output)
        check("Traceback" not in output, f"fake_{self.kind} printed a traceback", output)


def stream_events(fake, path, body, sep=b"\n\n"):
    """Reads a streamed answer through http.client; returns (status, headers, [(time, event bytes)])."""
    c = fake.conn()
    try:
        t0 = time.monotonic()
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        headers = {k.lower(): v for k, v in r.getheaders()}
        events, buf = [], b""
        while True:
            data = r.read1(65536)
            if not data:
                break
            buf += data
            while sep in buf:
                ev, buf = buf.split(sep, 1)
                events.append((time.monotonic() - t0, ev))
        check(buf == b"", f"{path}: trailing bytes after the last event", buf)
        return r.status, headers, events
    finally:
        c.close()


def raw_chunks(port, path, body):
    """Sends one request on a raw socket and parses the chunked answer by hand: [chunk payloads]."""
    payload = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(payload), payload))
        f = s.makefile("rb")
        status = f.readline()
        check(status.startswith(b"HTTP/1.1 200"), "raw stream status", status)
        headers = {}
        while True:
            line = f.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        check(headers.get("transfer-encoding") == "chunked", "Transfer-Encoding: chunked", headers)
        check("content-length" not in headers, "no Content-Length on a chunked answer", headers)
        chunks = []
        while True:
            size_line = f.readline()
            check(size_line.endswith(b"\r\n"), "chunk size line ends in CRLF", size_line)
            size = int(size_line.strip(), 16)
            data = f.read(size)
            check(f.read(2) == b"\r\n", "chunk data ends in CRLF")
            if size == 0:
                check(data == b"", "last chunk is empty")
                break
            chunks.append(data)
        return chunks
    finally:
        s.close()


def hang_and_disconnect(fake, path, body):
    """Sends a model request on a raw socket, checks it is held, closes, checks the disconnect is counted."""
    payload = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (path.encode(), len(payload), payload))
    fake.wait_stats(lambda st: st["requests"] == 1 and st["in_flight"] == 1, what="the request to be held")
    s.settimeout(0.3)
    try:
        check(s.recv(1) == b"", "no answer while hanging")
    except socket.timeout:
        pass
    t = time.monotonic()
    s.close()
    # Polled every 50 ms; the bound leaves room for a machine busy with other tests.
    st = fake.wait_stats(lambda st: st["disconnects"] == 1 and st["in_flight"] == 0, timeout=5,
                         what="the disconnect to be counted")
    check(time.monotonic() - t < 3.0, "disconnect noticed within 3 s", time.monotonic() - t)
    check(st["completed"] == 0, "nothing completed while hanging", st)


def keep_alive(fake, method, path, body=None, expect=200):
    fake.json("POST", "/_fake/reset")
    c = fake.conn()
    try:
        for _ in range(2):
            st, _, data = fake.request(method, path, body, conn=c)
            check(st == expect, f"keep-alive {path} status", (st, data[:200]))
    finally:
        c.close()
    st = fake.stats()
    check(st["connections"] == 1, "two requests on one kept-alive connection count one connection", st)


def stream_disconnect(fake, path, body):
    """Reads one event of a slow stream, closes: the fake notices the failed write promptly."""
    fake.json("POST", "/_fake/reset")
    c = fake.conn()
    c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    check(r.status == 200, "stream status", r.status)
    check(r.read1(65536) != b"", "first event arrives")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    st = fake.wait_stats(lambda st: st["disconnects"] == 1 and st["in_flight"] == 0, timeout=2,
                         what="the abandoned stream to be counted")
    check(st["completed"] == 0, "an abandoned stream is not completed", st)


def dropped_stream(fake, path, body):
    """With drop_after 2: two chunks, then the connection closes without the last chunk."""
    fake.json("POST", "/_fake/reset")
    check(fake.config(drop_after=2)["drop_after"] == 2, "drop_after in the config")
    payload = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (path.encode(), len(payload), payload))
        raw = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            raw += data
    finally:
        s.close()
    _, _, rest = raw.partition(b"\r\n\r\n")
    check(rest.count(b"data:") == 2 and not rest.endswith(b"0\r\n\r\n"), "a dropped stream is cut short", raw)
    st = fake.wait_stats(lambda st: st["drops"] == 1 and st["in_flight"] == 0, what="the drop to be counted")
    check(st["completed"] == 0 and st["disconnects"] == 0, "a dropped stream is neither completed nor a disconnect", st)
    check(st["stream_bytes"] == len(rest), "stream_bytes counts what was sent", (st["stream_bytes"], len(rest)))
    check(st["stalled_writers"] == 0, "no writer stalled after the stream", st)
    check(fake.config(drop_after=None)["drop_after"] is None, "drop_after cleared")


def malformed_stream(fake, path, body):
    """With bad_chunk_after 2: two good chunks, then one whose size line is not hex, then silence
    until the client hangs up, which is counted as a disconnect."""
    fake.json("POST", "/_fake/reset")
    check(fake.config(bad_chunk_after=2)["bad_chunk_after"] == 2, "bad_chunk_after in the config")
    payload = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    try:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (path.encode(), len(payload), payload))
        raw = b""
        while b"zz\r\n" not in raw or not raw.endswith(b"\n\n\r\n"):
            data = s.recv(65536)
            check(data != b"", "the connection stays open after the malformed chunk", raw)
            raw += data
        st = fake.wait_stats(lambda st: st["bad_chunks"] == 1, what="the malformed chunk to be counted")
        check(st["in_flight"] == 1 and st["disconnects"] == 0, "the fake holds the request after it", st)
    finally:
        s.close()
    _, _, rest = raw.partition(b"\r\n\r\n")
    check(rest.count(b"data:") == 3 and rest.count(b"zz\r\ndata:") == 1, "two chunks, then a malformed one", raw)
    st = fake.wait_stats(lambda st: st["disconnects"] == 1 and st["in_flight"] == 0, what="the hang-up to be counted")
    check(st["completed"] == 0 and st["drops"] == 0, "a malformed stream is neither completed nor dropped", st)
    check(fake.config(bad_chunk_after=None)["bad_chunk_after"] is None, "bad_chunk_after cleared")


# ---------------------------------------------------------------------------------------------------
def check_tgi():
    loaded = '"message":"Connected","target":"text_generation_router"'
    f = Fake("tgi", "--token-delay", "0.01")
    try:
        f.wait_log(loaded)
        check(f.request("GET", "/health")[0] == 200, "TGI health 200 when loaded")
        info = f.json("GET", "/info")
        check(info["model_id"] == "fake-model" and "max_total_tokens" in info, "TGI /info", info)

        out = f.json("POST", "/generate", {"inputs": "hello world", "parameters": {"max_new_tokens": 3,
                                                                                 "details": True}})
        check(out["generated_text"] == " tok0 tok1 tok2", "TGI generated_text", out)
        check(out["details"]["finish_reason"] == "length" and out["details"]["generated_tokens"] == 3,
              "TGI details", out)
        out = f.json("POST", "/generate", {"inputs": "x"})
        check(out["generated_text"].count(" tok") == 20 and "details" not in out, "TGI default 20 tokens", out)
        st, hs, data = f.request("POST", "/generate", {"parameters": {"max_new_tokens": 2}})
        check(st == 422 and b"missing field `inputs`" in data, "TGI missing inputs -> 422", (st, data))
        err = f.json("POST", "/generate", {"inputs": "x", "parameters": {"max_new_tokens": 0}}, status=422)
        check(err["error_type"] == "validation" and "max_new_tokens" in err["error"], "TGI 422 validation", err)
        compat = f.json("POST", "/", {"inputs": "x", "parameters": {"max_new_tokens": 2}})
        check(compat == [{"generated_text": " tok0 tok1"}], "TGI compat route", compat)

        # Streaming, one event per token, arriving one by one.
        f.config(token_delay=0.05)
        st, hs, events = stream_events(f, "/generate_stream", {"inputs": "a b", "parameters": {
            "max_new_tokens": 10, "details": True}})
        check(st == 200 and hs.get("content-type") == "text/event-stream", "TGI stream headers", hs)
        check(hs.get("transfer-encoding") == "chunked", "TGI stream is chunked", hs)
        check(len(events) == 10, "TGI 10 events", len(events))
        parsed = [json.loads(e[len(b"data:"):]) for _, e in events]
        check(all(e.startswith(b"data:{") for _, e in events), "TGI events are data:{...}")
        check([p["token"]["text"] for p in parsed] == [f" tok{i}" for i in range(10)], "TGI token texts")
        check([p["index"] for p in parsed] == list(range(1, 11)), "TGI indexes 1..10")
        check(all(p["generated_text"] is None for p in parsed[:-1]), "TGI generated_text only at the end")
        check(parsed[-1]["generated_text"] == "".join(f" tok{i}" for i in range(10)), "TGI final text", parsed[-1])
        check(parsed[-1]["details"]["generated_tokens"] == 10, "TGI final details", parsed[-1])
        first, last = events[0][0], events[-1][0]
        check(last - first >= 0.3, "TGI events arrive incrementally", (first, last))
        chunks = raw_chunks(f.port, "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 3}})
        check(len(chunks) == 3 and all(c.startswith(b"data:") and c.endswith(b"\n\n") for c in chunks),
              "TGI one chunk per event", chunks)
        bad = raw_chunks(f.port, "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 0}})
        check(len(bad) == 1 and json.loads(bad[0][5:])["error_type"] == "validation",
              "TGI stream validation error as an SSE event", bad)
        stream_disconnect(f, "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 50}})
        dropped_stream(f, "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 5}})
        malformed_stream(f, "/generate_stream", {"inputs": "a", "parameters": {"max_new_tokens": 5}})

        # Runtime switches.
        f.config(token_delay=0.01, status_override=429)
        err = f.json("POST", "/generate", {"inputs": "x"}, status=429)
        check(err == {"error": "Model is overloaded", "error_type": "overloaded"}, "TGI 429 shape", err)
        f.config(status_override=None)
        keep_alive(f, "POST", "/generate", {"inputs": "x", "parameters": {"max_new_tokens": 2}})
        st = f.stats()
        check(st["last_path"] == "/generate" and st["last_body"]["inputs"] == "x", "TGI last_body/path", st)
        check(st["last_headers"].get("content-type") == "application/json", "TGI last_headers", st)
        check(st["completed"] == 2 and st["requests"] == 2, "TGI counters", st)
    finally:
        f.stop()

    f = Fake("tgi", "--fail-start", "--load-delay", "0.05")
    try:
        f.wait_log("Error: ShardCannotStart")
        check(loaded not in f.log(), "TGI no loaded line with --fail-start")
        check(f.request("GET", "/health")[0] == 503, "TGI health 503 after a failed start")
        check(f.request("POST", "/generate", {"inputs": "x"})[0] == 503, "TGI model request 503 when not loaded")
        check(f.stats()["start_failed"] is True, "TGI start_failed in stats")
    finally:
        f.stop()

    f = Fake("tgi", "--hang", "--load-delay", "0", "--bad-chunk-after", "4")
    try:
        f.wait_log(loaded)
        check(f.stats()["config"]["bad_chunk_after"] == 4, "--bad-chunk-after reaches the config", f.stats())
        check(f.request("GET", "/health")[0] == 200, "TGI health answers while hanging")
        hang_and_disconnect(f, "/generate", {"inputs": "x"})
    finally:
        f.stop()

    f = Fake("tgi", "--status-override", "500", "--load-delay", "0")
    try:
        f.wait_log(loaded)
        err = f.json("POST", "/generate_stream", {"inputs": "x"}, status=500)
        check(err["error_type"] == "incomplete_generation", "TGI --status-override 500", err)
    finally:
        f.stop()


def check_openai():
    loaded = "Application startup complete."
    f = Fake("openai", "--token-delay", "0.01")
    try:
        f.wait_log(loaded)
        check("Starting vLLM API server" in f.log(), "vLLM start-up lines")
        check(f.request("GET", "/health")[0] == 200, "vLLM health 200")
        models = f.json("GET", "/v1/models")
        check(models["data"][0]["id"] == "fake-model", "/v1/models", models)

        out = f.json("POST", "/v1/completions", {"model": "fake-model", "prompt": "one two three", "max_tokens": 4})
        check(out["object"] == "text_completion" and out["choices"][0]["text"] == " tok0 tok1 tok2 tok3",
              "completion text", out)
        check(out["choices"][0]["finish_reason"] == "length", "completion finish_reason", out)
        check(out["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
                               "prompt_tokens_details": None}, "completion usage", out)
        out = f.json("POST", "/v1/completions", {"prompt": ["a", "b c"]})
        check(len(out["choices"]) == 2 and out["usage"]["completion_tokens"] == 32, "list prompt, default 16", out)
        out = f.json("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi there"}],
                                                      "max_tokens": 2})
        check(out["object"] == "chat.completion" and out["choices"][0]["message"] ==
              {"role": "assistant", "reasoning_content": None, "content": " tok0 tok1", "tool_calls": []},
              "chat message", out)
        err = f.json("POST", "/v1/completions", {"max_tokens": 2}, status=400)
        check(err["object"] == "error" and err["type"] == "BadRequestError" and err["code"] == 400,
              "vLLM 400 shape", err)
        err = f.json("POST", "/v1/chat/completions", {"model": "other", "messages": []}, status=404)
        check(err["type"] == "NotFoundError" and "`other`" in err["message"], "vLLM 404 wrong model", err)

        f.config(token_delay=0.05)
        st, hs, events = stream_events(f, "/v1/completions", {"prompt": "x", "max_tokens": 8, "stream": True,
                                                             "stream_options": {"include_usage": True}})
        check(st == 200 and hs.get("content-type", "").startswith("text/event-stream"), "completion stream", hs)
        check(hs.get("transfer-encoding") == "chunked", "completion stream chunked", hs)
        check(events[-1][1] == b"data: [DONE]", "stream ends with [DONE]", events[-1])
        chunks = [json.loads(e[len(b"data: "):]) for _, e in events[:-1]]
        check(len(chunks) == 9, "8 token chunks + usage", len(chunks))
        check("".join(c["choices"][0]["text"] for c in chunks[:8]) == "".join(f" tok{i}" for i in range(8)),
              "streamed text")
        check(chunks[7]["choices"][0]["finish_reason"] == "length" and chunks[6]["choices"][0]["finish_reason"]
              is None, "finish_reason on the last token")
        check(chunks[8]["choices"] == [] and chunks[8]["usage"]["completion_tokens"] == 8, "usage chunk", chunks[8])
        check(events[-1][0] - events[0][0] >= 0.25, "completion chunks arrive incrementally",
              (events[0][0], events[-1][0]))

        st, hs, events = stream_events(f, "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": True})
        chunks = [json.loads(e[len(b"data: "):]) for _, e in events[:-1]]
        check(events[-1][1] == b"data: [DONE]" and len(chunks) == 6, "chat stream: role + 5 tokens", len(chunks))
        check(chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}, "first delta has role")
        check(all(c["object"] == "chat.completion.chunk" for c in chunks), "chat chunk object")
        check(chunks[-1]["choices"][0]["finish_reason"] == "length", "chat finish_reason")
        check(events[-1][0] - events[1][0] >= 0.1, "chat chunks arrive incrementally", (events[1][0], events[-1][0]))
        raw = raw_chunks(f.port, "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                          "max_tokens": 2, "stream": True})
        check(len(raw) == 4 and all(c.startswith(b"data: ") and c.endswith(b"\n\n") for c in raw),
              "vLLM one chunk per event", raw)
        stream_disconnect(f, "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                      "max_tokens": 50, "stream": True})

        f.config(token_delay=0.01)
        keep_alive(f, "POST", "/v1/completions", {"prompt": "x", "max_tokens": 1})
        # A non-streamed request abandoned mid-generation is counted too.
        f.json("POST", "/_fake/reset")
        f.config(token_delay=0.1)
        s = socket.create_connection(("127.0.0.1", f.port))
        body = json.dumps({"prompt": "x", "max_tokens": 20}).encode()
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        f.wait_stats(lambda st: st["in_flight"] == 1)
        s.close()
        f.wait_stats(lambda st: st["disconnects"] == 1 and st["in_flight"] == 0, timeout=1,
                     what="abandoned completion counted")
    finally:
        f.stop()

    f = Fake("openai", "--fail-start", "--load-delay", "0.05")
    try:
        f.wait_log("RuntimeError: Engine core initialization failed.")
        check("Traceback (most recent call last):" in f.log() and loaded not in f.log(), "vLLM failure lines")
        check(f.request("GET", "/health")[0] == 503, "vLLM health 503 after a failed start")
    finally:
        f.stop()

    f = Fake("openai", "--hang", "--load-delay", "0")
    try:
        f.wait_log(loaded)
        hang_and_disconnect(f, "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]})
    finally:
        f.stop()

    f = Fake("openai", "--status-override", "503", "--load-delay", "0", "--error-format", "nested")
    try:
        f.wait_log(loaded)
        err = f.json("POST", "/v1/completions", {"prompt": "x"}, status=503)
        check(err["error"]["code"] == 503 and err["error"]["type"] == "ServiceUnavailableError",
              "vLLM --status-override, nested errors", err)
    finally:
        f.stop()


WORKFLOW = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 10, "cfg": 7, "sampler_name": "euler",
                                               "scheduler": "normal", "denoise": 1, "model": ["4", 0],
                                               "positive": ["6", 0], "negative": ["7", 0],
                                               "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}


def check_comfyui():
    loaded = "To see the GUI go to: "
    f = Fake("comfyui", "--token-delay", "0.03")
    try:
        f.wait_log(loaded)
        health = f.json("GET", "/health")
        check(health["status"] == "healthy", "wrapper health", health)
        check("devices" in f.json("GET", "/system_stats"), "ComfyUI /system_stats")

        # Plain ComfyUI: queue, history, view. Two prompts run one after the other. The first runs
        # for 3 s, so that a loaded machine cannot finish it before its queue is looked at.
        f.json("POST", "/_fake/config", {"token_delay": 0.3})
        a = f.json("POST", "/prompt", {"prompt": WORKFLOW, "client_id": "test"})
        b = f.json("POST", "/prompt", {"prompt": WORKFLOW, "client_id": "test"})
        check(set(a) == {"prompt_id", "number", "node_errors"} and b["number"] == a["number"] + 1, "prompt ids", a)
        wait_until(lambda: f.json("GET", "/queue")["queue_running"], 3, "the first prompt to start")
        check(f.json("GET", f"/history/{a['prompt_id']}") == {}, "history empty while running")
        q = f.json("GET", "/queue")
        check(len(q["queue_running"]) == 1 and len(q["queue_pending"]) == 1, "one job at a time", q)
        f.json("POST", "/_fake/config", {"token_delay": 0.03})
        hist = wait_until(lambda: f.json("GET", f"/history/{b['prompt_id']}"), 10, "second prompt done")
        ha = f.json("GET", f"/history/{a['prompt_id']}")[a["prompt_id"]]
        hb = hist[b["prompt_id"]]
        check(ha["status"]["status_str"] == "success" and ha["status"]["completed"] is True, "history status", ha)
        end_a = [m for m in ha["status"]["messages"] if m[0] == "execution_success"][0][1]["timestamp"]
        start_b = [m for m in hb["status"]["messages"] if m[0] == "execution_start"][0][1]["timestamp"]
        check(start_b >= end_a, "the second job starts after the first ends", (end_a, start_b))
        img = ha["outputs"]["9"]["images"][0]
        check(img["type"] == "output" and img["filename"].endswith("_.png"), "SaveImage output", img)
        st, hs, png = f.request("GET", f"/view?filename={img['filename']}&subfolder=&type=output")
        check(st == 200 and hs["content-type"] == "image/png" and png.startswith(PNG_MAGIC), "/view PNG", hs)
        check(f.request("GET", "/view?filename=nope.png&type=output")[0] == 404, "/view unknown file 404")
        err = f.json("POST", "/prompt", {"prompt": {"1": {"class_type": "KSampler", "inputs": {}}}}, status=400)
        check(err["error"]["type"] == "prompt_no_outputs" and err["node_errors"] == {}, "prompt_no_outputs", err)
        err = f.json("POST", "/prompt", {"client_id": "x"}, status=400)
        check(err["error"]["type"] == "no_prompt", "no_prompt", err)

        # The wrapper.
        t = time.monotonic()
        res = f.json("POST", "/generate/sync", {"input": {"request_id": "req-1", "workflow_json": WORKFLOW}})
        check(time.monotonic() - t >= 0.25, "the sync job takes steps x token-delay")
        check(res["id"] == "req-1" and res["status"] == "completed", "wrapper result", res)
        out = res["output"][0]
        check(out["local_path"].endswith(f"/output/req-1/{out['filename']}"), "wrapper local_path", out)
        check(set(res["timings"]) == {"preprocess_ms", "generation_ms", "postprocess_ms"}, "timings", res)
        res = f.json("POST", "/generate/sync", {"input": {"modifier": "Text2Image",
                                                          "modifications": {"prompt": "x", "steps": 2}}})
        check(res["status"] == "completed" and res["id"], "wrapper modifier mode", res)
        err = f.json("POST", "/generate/sync", {"workflow_json": WORKFLOW}, status=422)
        check(err["detail"][0]["loc"] == ["body", "input"], "wrapper 422 without input", err)
        err = f.json("POST", "/generate/sync", {"input": {"workflow_json": {"1": {"class_type": "KSampler"}}}},
                     status=500)
        check(err["status"] == "failed" and "no outputs" in err["message"], "wrapper failed result", err)

        # A sync request abandoned mid-job: counted, and the job is cancelled.
        f.config(token_delay=0.2)
        f.json("POST", "/_fake/reset")
        s = socket.create_connection(("127.0.0.1", f.port))
        body = json.dumps({"input": {"request_id": "gone", "workflow_json": WORKFLOW}}).encode()
        s.sendall(b"POST /generate/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        f.wait_stats(lambda st: st["in_flight"] == 1)
        s.close()
        f.wait_stats(lambda st: st["disconnects"] == 1 and st["in_flight"] == 0, timeout=1,
                     what="abandoned sync request counted")
        res = f.json("GET", "/result/gone", status=499)
        check(res["status"] == "cancelled", "abandoned request cancelled", res)
        f.config(token_delay=0.001)
        keep_alive(f, "POST", "/prompt", {"prompt": WORKFLOW})
        check(f.stats()["last_body"]["prompt"] == WORKFLOW, "ComfyUI last_body")
    finally:
        f.stop()

    f = Fake("comfyui", "--fail-start", "--load-delay", "0.05")
    try:
        f.wait_log("[ERROR] Provisioning Script failed")
        check(loaded not in f.log(), "ComfyUI no GUI line after a failed start")
        check(f.request("GET", "/health")[0] == 503, "wrapper health 503 after a failed start")
    finally:
        f.stop()

    f = Fake("comfyui", "--hang", "--load-delay", "0")
    try:
        f.wait_log(loaded)
        hang_and_disconnect(f, "/generate/sync", {"input": {"workflow_json": WORKFLOW}})
    finally:
        f.stop()

    f = Fake("comfyui", "--status-override", "500", "--load-delay", "0")
    try:
        f.wait_log(loaded)
        res = f.json("POST", "/generate/sync", {"input": {"request_id": "r", "workflow_json": WORKFLOW}}, status=500)
        check(res["status"] == "failed" and res["id"] == "r", "wrapper --status-override", res)
        err = f.json("POST", "/prompt", {"prompt": WORKFLOW}, status=500)
        check("error" in err and "node_errors" in err, "ComfyUI --status-override", err)
    finally:
        f.stop()


def check_sdauto():
    loaded = "Model loaded in "
    f = Fake("sdauto", "--token-delay", "0.01")
    try:
        f.wait_log(loaded)
        check("Loading weights [6ce0161689]" in f.log(), "A1111 start-up lines")
        check(f.request("GET", "/internal/ping")[0] == 200, "A1111 ping 200")
        models = f.json("GET", "/sdapi/v1/sd-models")
        check(models[0]["hash"] == "6ce0161689", "sd-models", models)

        t = time.monotonic()
        out = f.json("POST", "/sdapi/v1/txt2img", {"prompt": "a cat", "steps": 20, "batch_size": 2, "n_iter": 2,
                                                   "width": 64, "height": 64})
        check(time.monotonic() - t >= 0.2, "txt2img takes steps x token-delay")
        check(len(out["images"]) == 4, "batch_size x n_iter images", len(out["images"]))
        check(all(base64.b64decode(i).startswith(PNG_MAGIC) for i in out["images"]), "base64 PNGs")
        p = out["parameters"]
        check(p["prompt"] == "a cat" and p["steps"] == 20 and p["cfg_scale"] == 7.0 and p["negative_prompt"] == "",
              "parameters echo with defaults", p)
        info = json.loads(out["info"])
        check(info["steps"] == 20 and len(info["all_seeds"]) == 4, "info JSON string", info)
        out = f.json("POST", "/sdapi/v1/img2img", {"prompt": "x", "steps": 2, "init_images": [out["images"][0]]})
        check(len(out["images"]) == 1 and out["parameters"]["init_images"] is None, "img2img", out["parameters"])
        err = f.json("POST", "/sdapi/v1/img2img", {"prompt": "x"}, status=404)
        check(err["detail"] == "Init image not found", "img2img without init_images", err)
        st, _, data = f.request("POST", "/sdapi/v1/txt2img", "not json", {"Content-Type": "application/json"})
        check(st == 422 and json.loads(data)["detail"][0]["type"] == "value_error.jsondecode", "422 non-JSON", data)
        err = f.json("POST", "/sdapi/v1/txt2img", {"steps": "many"}, status=422)
        check(err["detail"][0]["loc"] == ["body", "steps"], "422 bad field", err)

        f.config(token_delay=0.1)
        result = {}
        th = threading.Thread(target=lambda: result.update(r=f.json("POST", "/sdapi/v1/txt2img", {"steps": 10})))
        th.start()
        prog = wait_until(lambda: (lambda p: p if p["state"]["sampling_step"] > 0 else None)(
            f.json("GET", "/sdapi/v1/progress")), 5, "progress")
        check(0 < prog["progress"] < 1 and prog["state"]["sampling_steps"] == 10, "progress mid-job", prog)
        th.join()
        check(len(result["r"]["images"]) == 1, "default batch of one")
        f.config(token_delay=0.001)
        keep_alive(f, "POST", "/sdapi/v1/txt2img", {"steps": 1, "width": 8, "height": 8})
    finally:
        f.stop()

    f = Fake("sdauto", "--fail-start", "--load-delay", "0.05")
    try:
        f.wait_log("RuntimeError: Couldn't load model")
        check(loaded not in f.log() and "Traceback (most recent call last):" in f.log(), "A1111 failure lines")
        check(f.request("GET", "/internal/ping")[0] == 503, "A1111 ping 503 after a failed start")
    finally:
        f.stop()

    f = Fake("sdauto", "--hang", "--load-delay", "0")
    try:
        f.wait_log(loaded)
        hang_and_disconnect(f, "/sdapi/v1/txt2img", {"prompt": "x"})
    finally:
        f.stop()

    f = Fake("sdauto", "--status-override", "500", "--load-delay", "0")
    try:
        f.wait_log(loaded)
        err = f.json("POST", "/sdapi/v1/txt2img", {"prompt": "x"}, status=500)
        check(err["error"] == "HTTPException" and "detail" in err, "A1111 --status-override", err)
    finally:
        f.stop()


def check_autoscaler():
    """fake_autoscaler.py: the worker side of core/protocol.md §2, and its checks of what it got."""
    d = tempfile.mkdtemp(prefix="fake-autoscaler-")
    try:
        pem = b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"
        with open(os.path.join(d, "pub.pem"), "wb") as f:
            f.write(pem)
        port_file = os.path.join(d, "port")
        out = open(os.path.join(d, "output"), "wb")
        proc = subprocess.Popen([PYTHON, os.path.join(HERE, "fake_autoscaler.py"), "--port-file", port_file,
                                 "--pubkey-file", os.path.join(d, "pub.pem"), "--exit-with-parent"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(lambda: os.path.exists(port_file) or proc.poll() is not None, 10, "the autoscaler to listen")
            with open(port_file) as f:
                port = int(f.read())

            def call(method, path, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                try:
                    c.request(method, path, body=body, headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    return r.status, r.read()
                finally:
                    c.close()

            check(call("GET", "/pubkey/") == (200, pem), "/pubkey/ serves the PEM file")
            report = ('{"id": 7, "mtoken": "t", "version": "1.1.0", "loadtime": 1.5, "cur_load": 0.0, "rej_load": 0.0, '
                      '"new_load": 3.0, "error_msg": "", "max_perf": 10.0, "cur_perf": 3.0, "cur_capacity": 0, '
                      '"max_capacity": 0, "num_requests_working": 1, "num_requests_recieved": 2, '
                      '"additional_disk_usage": 0.0, "working_request_idxs": [5], "url": "http://1.2.3.4:5"}')
            check(call("POST", "/worker_status/", report)[0] == 200, "a good report is taken")
            swapped = report.replace('"cur_load": 0.0, "rej_load": 0.0', '"rej_load": 0.0, "cur_load": 0.0')
            check(call("POST", "/worker_status/", swapped)[0] == 200, "a bad report is taken too")
            for ids, ok in (([1, 2], "true"), ([3], "false"), ([2], "true")):
                body = f'{{"worker_id": 7, "mtoken": "t", "request_idxs": {json.dumps(ids)}, "success": {ok}}}'
                check(call("POST", "/delete_requests/", body)[0] == 200, "delete_requests taken")
            st = json.loads(call("GET", "/_fake/stats")[1])
            check(st["reports"] == 2 and st["last_report"]["num_requests_working"] == 1, "reports counted", st)
            check(st["bad_count"] == 1 and "keys" in st["bad"][0], "a report with keys out of order is flagged", st)
            check(st["sums"]["cur_perf"] == 3.0 and st["max_working"] == 1, "figures of good reports summed", st)
            check(st["deleted_ids"] == 3 and st["deleted_twice"] == 1, "deleted ids, and one named twice", st)
            check(json.loads(call("GET", "/_fake/deleted")[1]) == {"1": [True], "2": [True, True], "3": [False]},
                  "/_fake/deleted has every id with its success flags")
            check(json.loads(call("POST", "/_fake/config", '{"status": 500}')[1])["status"] == 500, "status set")
            check(call("POST", "/worker_status/", report)[0] == 500, "reports refused with the configured status")
            call("POST", "/_fake/config", '{"status": null}')
            call("POST", "/_fake/reset", "{}")
            st = json.loads(call("GET", "/_fake/stats")[1])
            check(st["reports"] == 0 and st["deleted_ids"] == 0 and st["refused_posts"] == 0, "reset", st)
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(5)
            out.close()
        with open(os.path.join(d, "output"), "rb") as f:
            output = f.read().decode(errors="replace")
        check(rc == 0 and "Traceback" not in output, f"fake_autoscaler exit {rc}", output)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    checks = {"tgi": check_tgi, "openai": check_openai, "comfyui": check_comfyui, "sdauto": check_sdauto,
              "autoscaler": check_autoscaler}
    if len(sys.argv) > 1:
        checks = {k: v for k, v in checks.items() if k in sys.argv[1:]}
    failures = {}
    times = {}

    def run(name, fn):
        t = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            failures[name] = e if isinstance(e, CheckFailed) else traceback.format_exc()
        times[name] = time.monotonic() - t

    threads = [threading.Thread(target=run, args=item) for item in checks.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in checks:
        verdict = "ok" if name not in failures else f"FAILED: {failures[name]}"
        print(f"fake_{name}: {verdict} ({times.get(name, 0):.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
