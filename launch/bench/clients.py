"""HTTP/1.1 clients on raw sockets, for what wrk cannot measure: when each chunk of a stream
arrives, and many connections held open at once."""

import socket
import time


class Reader:
    """Reads answers off one socket; `arrived` is when the bytes read last came in."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.arrived = 0.0

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.arrived = time.perf_counter()
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self):
        status = int(self._line().split()[1])
        headers = {}
        while line := self._line():
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def pieces(self, headers):
        """The body as it comes: each chunk of a chunked body, else each part of a sized one."""
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            while size := int(self._line().split(b";")[0], 16):
                yield self._exactly(size)
                self._exactly(2)
            while self._line():  # trailers
                pass
            return
        remaining = int(headers.get(b"content-length", b"0"))
        while remaining:
            if not self.buf:
                self._fill()
            part, self.buf = self.buf[:remaining], self.buf[remaining:]
            remaining -= len(part)
            yield part

    def answer(self):
        status, headers = self.head()
        return status, b"".join(self.pieces(headers))


def request(method, path, body=b"", keep_alive=True):
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
            ).encode() + body


def http_get(port, path, timeout=5):
    """(status, body); status 0 when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(request("GET", path, keep_alive=False))
            return Reader(s).answer()
    except OSError:
        return 0, b""


def _stream(s, reader, path, body, expected_events):
    sent = time.perf_counter()
    s.sendall(request("POST", path, body))
    status, headers = reader.head()
    first = last = None
    data = []
    for piece in reader.pieces(headers):
        first = first or reader.arrived
        last = reader.arrived
        data.append(piece)
    events = b"".join(data).count(b"\n\n")
    return {"first_chunk_ms": (first - sent) * 1e3 if first else None,
            "chunks_per_s": events / (last - sent) if last else 0.0,
            "pieces": len(data), "events": events, "ok": status == 200 and events == expected_events}


def streams(port, path, body, count, expected_events):
    """`count` streams asked one after another on one kept-alive connection, after one unrecorded
    warm-up: for each, ms from sending the request to the first whole chunk, the events per second
    from sending to the last chunk, and whether it was whole (200, every event). A stream cut
    short is counted as not whole, and the next one gets a new connection."""
    results = []
    s = None
    for _ in range(count + 1):
        try:
            if s is None:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                reader = Reader(s)
            results.append(_stream(s, reader, path, body, expected_events))
        except OSError as e:
            results.append({"first_chunk_ms": None, "chunks_per_s": 0.0, "pieces": 0, "events": 0, "ok": False,
                            "error": str(e)})
            if s is not None:
                s.close()
            s = None
    if s is not None:
        s.close()
    return results[1:]


def hold_idle(port, count):
    """Opens `count` connections, each answering one GET /healthz and then kept alive, idle.
    Returns the open sockets (the caller closes them) and why it stopped short, if it did."""
    held = []
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError as e:
            return held, f"connection {len(held) + 1}: {e}"
        try:
            s.sendall(request("GET", "/healthz"))
            status, _ = Reader(s).answer()
        except OSError as e:
            status = e
        if status != 200:
            s.close()
            return held, f"connection {len(held) + 1}: {status}"
        held.append(s)
    return held, None
