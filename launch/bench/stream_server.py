"""A model server for the stream figures: POST /generate_stream answers 200 TGI-shaped SSE events,
each its own chunk of a chunked body, 1 ms apart: a generator faster than any real model, yet one
that sleeps between tokens as a real one does. Written back to back instead, the 200 chunks keep
this process on the CPU, and on a 2-core machine the measuring client (or the relay) then waits for
the CPU rather than for the chunk. POST /generate (the worker's benchmark) answers fixed JSON and
GET /health 200, so a tgi worker gets ready against it.

With --events-from-request, a stream has as many events as its request's
parameters.max_new_tokens instead (launch/bench/allocs.py: runs that differ only in their events).

Usage: stream_server.py PORT_FILE [--events-from-request]
       (listens on an ephemeral 127.0.0.1 port, writes it there)
"""

import asyncio
import json
import os
import sys

EVENTS = 200
GAP_S = 0.001


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def event(i, count):
    generated = b'" tok0 ... tok%d"' % i if i == count - 1 else b"null"
    return (b'data:{"token":{"id":%d,"text":" tok%d","logprob":-0.25,"special":false},'
            b'"generated_text":%s,"details":null}\n\n' % (1000 + i, i, generated))


STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
CHUNKS = [chunk(event(i, EVENTS)) for i in range(EVENTS)]
LAST_CHUNK = b"0\r\n\r\n"


def whole(status, content_type, body):
    return b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (status, content_type, len(body), body)


GENERATED = whole(b"200 OK", b"application/json", b'{"generated_text":" tok0 tok1 tok2 tok3"}')
HEALTHY = whole(b"200 OK", b"text/plain", b"")
NOT_FOUND = whole(b"404 Not Found", b"text/plain", b"")


def events_asked(body):
    try:
        return int(json.loads(body)["parameters"]["max_new_tokens"])
    except (ValueError, KeyError, TypeError):
        return 5


async def serve(reader, writer, events_from_request=False):
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if (method, path) == ("POST", "/generate_stream"):
                writer.write(STREAM_HEAD)
                count = events_asked(body) if events_from_request else EVENTS
                chunks = [chunk(event(i, count)) for i in range(count)] if events_from_request else CHUNKS
                # asyncio sends each write at once when nothing is queued (TCP_NODELAY is its
                # default), so every event leaves in a segment of its own.
                for i, c in enumerate(chunks):
                    if i:
                        await asyncio.sleep(GAP_S)
                    writer.write(c)
                    await writer.drain()
                writer.write(LAST_CHUNK)
            elif (method, path) == ("POST", "/generate"):
                writer.write(GENERATED)
            elif (method, path) == ("GET", "/health"):
                writer.write(HEALTHY)
            else:
                writer.write(NOT_FOUND)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port_file, events_from_request):
    server = await asyncio.start_server(lambda r, w: serve(r, w, events_from_request), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--events-from-request"]):
        sys.exit(f"usage: {sys.argv[0]} PORT_FILE [--events-from-request]")
    asyncio.run(main(sys.argv[1], sys.argv[2:] == ["--events-from-request"]))
