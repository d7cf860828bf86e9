"""HTTP/1.1 between the Docker CLI and the engine: requests in, responses out, streams both ways.

Small on purpose: the Engine API is plain HTTP/1.1 over a unix socket, with three shapes of body
(Content-Length, chunked, or "until the connection closes") and one upgrade (the hijacked stream
of attach / exec start). Each client connection gets exactly one upstream connection (`Upstream`),
used in turn for the gateway's own look-ups and for the forwarded request; nothing is shared
between connections or sessions. Everything is asyncio streams: no threads, no per-request
processes; bodies are streamed, never held in memory unless they are small JSON documents.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from labs.runtime.engine import EngineAddress

HEAD_LIMIT = 64 * 1024
JSON_LIMIT = 16 * 1024 * 1024
CHUNK = 256 * 1024
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
}
VERSION_RE = re.compile(r"^/v(\d+\.\d+)(/.*)$")
SERVER = "Docker/20.10 (linux) berth-gateway"


class ProtocolError(Exception):
    """The peer did not speak HTTP/1.1 as expected (the connection is closed)."""


class Stream:
    """An asyncio StreamReader with a push-back buffer (so a peeking task can give bytes back)."""

    def __init__(self, reader: asyncio.StreamReader):
        self.reader = reader
        self.buf = bytearray()

    def unread(self, data: bytes) -> None:
        self.buf[:0] = data

    async def read(self, n: int = CHUNK) -> bytes:
        if self.buf:
            data = bytes(self.buf[:n])
            del self.buf[:n]
            return data
        return await self.reader.read(n)

    async def readexactly(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            data = await self.read(n - len(out))
            if not data:
                raise asyncio.IncompleteReadError(bytes(out), n)
            out += data
        return bytes(out)

    async def readuntil(self, sep: bytes, limit: int = HEAD_LIMIT) -> bytes:
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                data = bytes(self.buf[: index + len(sep)])
                del self.buf[: index + len(sep)]
                return data
            if len(self.buf) > limit:
                raise ProtocolError("header too large")
            data = await self.reader.read(CHUNK)
            if not data:
                raise asyncio.IncompleteReadError(bytes(self.buf), None)
            self.buf += data

    def at_eof(self) -> bool:
        return not self.buf and self.reader.at_eof()


class Headers:
    """Ordered, case-insensitive HTTP headers."""

    def __init__(self, items: list[tuple[str, str]] | None = None):
        self.items: list[tuple[str, str]] = list(items or [])

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.items:
            if key.lower() == name:
                return value
        return default

    def set(self, name: str, value: str) -> None:
        self.remove(name)
        self.items.append((name, value))

    def remove(self, name: str) -> None:
        name = name.lower()
        self.items = [(k, v) for k, v in self.items if k.lower() != name]

    def without(self, names: set[str]) -> Headers:
        return Headers([(k, v) for k, v in self.items if k.lower() not in names])

    def render(self) -> bytes:
        return "".join(f"{k}: {v}\r\n" for k, v in self.items).encode("latin-1")


def _parse_headers(lines: list[str]) -> Headers:
    items = []
    for line in lines:
        if not line:
            continue
        if ":" not in line:
            raise ProtocolError(f"bad header line {line[:40]!r}")
        key, value = line.split(":", 1)
        items.append((key.strip(), value.strip()))
    return Headers(items)


@dataclass
class Request:
    method: str
    target: str
    headers: Headers
    version: str | None = None  # "1.41" when the path was versioned
    path: str = "/"
    query: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, head: bytes) -> Request:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ProtocolError(f"bad request line {lines[0][:80]!r}")
        method, target, _ = parts
        request = cls(method=method.upper(), target=target, headers=_parse_headers(lines[1:]))
        split = urlsplit(target)
        path = split.path or "/"
        match = VERSION_RE.match(path)
        if match:
            request.version, path = match.group(1), match.group(2)
        request.path = path
        request.query = parse_qs(split.query, keep_blank_values=True)
        return request

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def qbool(self, name: str) -> bool:
        return (self.q(name) or "").lower() in ("1", "true", "yes")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.strip().isdigit() else None

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.headers.get("transfer-encoding") or "").lower()

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    @property
    def wants_upgrade(self) -> bool:
        return "upgrade" in (self.headers.get("connection") or "").lower()

    @property
    def keep_alive(self) -> bool:
        return "close" not in (self.headers.get("connection") or "").lower()

    def build_target(self, path: str | None = None, query: dict[str, list[str]] | None = None) -> str:
        path = path if path is not None else self.path
        query = self.query if query is None else query
        prefix = f"/v{self.version}" if self.version else ""
        qs = urlencode([(k, v) for k, values in query.items() for v in values])
        return prefix + path + (f"?{qs}" if qs else "")


def qpath(value: str) -> str:
    return quote(value, safe="")


async def read_request(stream: Stream) -> Request | None:
    """The next request head; None when the client closed the connection between requests."""
    try:
        head = await stream.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise ProtocolError("connection closed in the middle of a request") from exc
        return None
    return Request.parse(head[:-4])


async def iter_body(stream: Stream, *, length: int | None, chunked: bool):
    """Yield the body's bytes (de-chunked)."""
    if chunked:
        while True:
            line = await stream.readuntil(b"\r\n")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError as exc:
                raise ProtocolError("bad chunk size") from exc
            if size == 0:
                while (await stream.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return
            left = size
            while left:
                data = await stream.read(min(left, CHUNK))
                if not data:
                    raise ProtocolError("connection closed in the middle of a chunk")
                left -= len(data)
                yield data
            await stream.readexactly(2)
        return
    if length is not None:
        left = length
        while left:
            data = await stream.read(min(left, CHUNK))
            if not data:
                raise ProtocolError("connection closed in the middle of a body")
            left -= len(data)
            yield data
        return
    while data := await stream.read(CHUNK):
        yield data


async def read_all(chunks, limit: int = JSON_LIMIT) -> bytes:
    out = bytearray()
    async for data in chunks:
        out += data
        if len(out) > limit:
            raise ProtocolError("body too large")
    return bytes(out)


def request_body(stream: Stream, request: Request):
    return iter_body(stream, length=request.content_length or 0, chunked=request.chunked)


# --- upstream ---------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    reason: str
    headers: Headers
    body: bytes = b""

    def json(self):
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    @property
    def message(self) -> str:
        data = self.json()
        if isinstance(data, dict) and "message" in data:
            return str(data["message"])
        return self.body.decode(errors="replace").strip()


@dataclass
class StreamingResponse:
    status: int
    reason: str
    headers: Headers
    length: int | None
    chunked: bool
    until_close: bool
    hijacked: bool

    @property
    def no_body(self) -> bool:
        return not self.chunked and not self.until_close and not self.length


class Upstream:
    """One connection to the engine, opened lazily and reopened when the engine closed it."""

    def __init__(self, address: EngineAddress, *, api_version: str = "1.41"):
        self.address = address
        self.api = f"/v{api_version}"
        self.stream: Stream | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reusable = False

    async def connect(self) -> None:
        self.close()
        if self.address.unix_path:
            reader, writer = await asyncio.open_unix_connection(self.address.unix_path, limit=HEAD_LIMIT * 4)
        else:
            reader, writer = await asyncio.open_connection(self.address.host, self.address.port, limit=HEAD_LIMIT * 4)
        self.stream, self.writer = Stream(reader), writer
        self.reusable = True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.stream, self.writer, self.reusable = None, None, False

    async def _ensure(self) -> None:
        if self.writer is None or not self.reusable or self.stream.at_eof() or self.writer.is_closing():
            await self.connect()

    async def send_head(self, method: str, target: str, headers: Headers) -> None:
        await self._ensure()
        head = f"{method} {target} HTTP/1.1\r\n".encode("latin-1") + headers.render() + b"\r\n"
        self.writer.write(head)

    async def read_head(self, method: str) -> StreamingResponse:
        raw = await self.stream.readuntil(b"\r\n\r\n")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ProtocolError(f"bad status line from the engine: {lines[0][:80]!r}")
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = _parse_headers(lines[1:])
        chunked = "chunked" in (headers.get("transfer-encoding") or "").lower()
        length_header = headers.get("content-length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        content_type = (headers.get("content-type") or "").lower()
        hijacked = (
            status == 101
            or (status == 200 and "vnd.docker.raw-stream" in content_type and length is None and not chunked)
            or (status == 200 and "vnd.docker.multiplexed-stream" in content_type and length is None and not chunked)
        )
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        until_close = not no_body and not chunked and length is None
        if no_body:
            length, chunked, until_close = 0, False, False
        if until_close or hijacked or "close" in (headers.get("connection") or "").lower():
            self.reusable = False
        return StreamingResponse(
            status=status,
            reason=reason,
            headers=headers,
            length=length,
            chunked=chunked,
            until_close=until_close and not hijacked,
            hijacked=hijacked,
        )

    def body(self, response: StreamingResponse):
        return iter_body(
            self.stream, length=response.length if not response.until_close else None, chunked=response.chunked
        )

    async def request(
        self, method: str, path: str, *, query: dict | None = None, body=None, retry: bool = True
    ) -> Response:
        """One small request of the gateway's own (JSON in, whole body out), on this connection."""
        target = self.api + path
        if query:
            target += "?" + urlencode(
                [(k, v) for k, values in query.items() for v in (values if isinstance(values, list) else [values])]
            )
        payload = b"" if body is None else json.dumps(body).encode()
        headers = Headers([("Host", "docker"), ("User-Agent", "berth-gateway")])
        if body is not None:
            headers.set("Content-Type", "application/json")
        headers.set("Content-Length", str(len(payload)))
        fresh = self.writer is None or not self.reusable
        try:
            await self.send_head(method, target, headers)
            self.writer.write(payload)
            await self.writer.drain()
            head = await self.read_head(method)
        except (ConnectionError, asyncio.IncompleteReadError, ProtocolError):
            self.close()
            if retry and not fresh:
                return await self.request(method, path, query=query, body=body, retry=False)
            raise
        data = await read_all(self.body(head))
        if not self.reusable:
            self.close()
        return Response(status=head.status, reason=head.reason, headers=head.headers, body=data)

    async def json(self, method: str, path: str, **kwargs):
        response = await self.request(method, path, **kwargs)
        return response.status, response.json()


# --- responses to the client ----------------------------------------------------------------------------

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class Client:
    """The student's side of one connection."""

    def __init__(self, stream: Stream, writer: asyncio.StreamWriter):
        self.stream = stream
        self.writer = writer
        self.api_headers = Headers(
            [("Api-Version", "1.41"), ("Docker-Experimental", "false"), ("Ostype", "linux"), ("Server", SERVER)]
        )

    async def send_head(self, status: int, headers: Headers, *, reason: str | None = None) -> None:
        reason = reason or _REASONS.get(status, "")
        self.writer.write(f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1") + headers.render() + b"\r\n")
        await self.writer.drain()

    async def send(
        self,
        status: int,
        body: bytes = b"",
        *,
        headers: Headers | None = None,
        content_type: str | None = "application/json",
        head_only: bool = False,
    ) -> None:
        out = Headers(list((headers or self.api_headers).items))
        out = out.without(HOP_BY_HOP)
        if content_type and status != 204:
            out.set("Content-Type", content_type)
        if status not in (204, 304):
            out.set("Content-Length", str(len(body)))
        self.writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n".encode("latin-1") + out.render() + b"\r\n"
        )
        if body and not head_only and status not in (204, 304):
            self.writer.write(body)
        await self.writer.drain()

    async def send_json(self, status: int, data, *, headers: Headers | None = None) -> None:
        await self.send(status, json.dumps(data).encode() + b"\n", headers=headers)

    async def send_error(self, status: int, message: str) -> None:
        await self.send_json(status, {"message": message})


class ChunkedWriter:
    def __init__(self, writer: asyncio.StreamWriter):
        self.writer = writer

    async def write(self, data: bytes) -> None:
        if data:
            self.writer.write(b"%x\r\n" % len(data) + data + b"\r\n")
            await self.writer.drain()

    async def end(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()


def response_headers(upstream: Headers) -> Headers:
    return upstream.without(HOP_BY_HOP)


class LineRewriter:
    """Splits a stream of newline-delimited JSON (events, stats, build and pull progress) and
    rewrites each document; documents the function maps to None are dropped."""

    def __init__(self, fn):
        self.fn = fn
        self.buf = b""

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(self._one(line))
        return b"".join(x for x in out if x)

    def flush(self) -> bytes:
        line, self.buf = self.buf, b""
        return self._one(line, newline=False) if line.strip() else b""

    def _one(self, line: bytes, newline: bool = True) -> bytes:
        if not line.strip():
            return line + (b"\n" if newline else b"")
        try:
            doc = json.loads(line)
        except ValueError:
            return line + (b"\n" if newline else b"")
        doc = self.fn(doc)
        if doc is None:
            return b""
        return json.dumps(doc).encode() + (b"\r\n" if line.endswith(b"\r") else b"\n")


async def splice(client: Client, upstream: Upstream) -> None:
    """Both directions of a hijacked connection until the engine side ends (stdin EOF is passed on
    as a half-close, the way the Docker CLI expects)."""
    up_reader, up_writer = upstream.stream, upstream.writer
    upstream.reusable = False

    async def client_to_engine():
        try:
            while data := await client.stream.read(CHUNK):
                up_writer.write(data)
                await up_writer.drain()
            if up_writer.can_write_eof():
                up_writer.write_eof()
        except (ConnectionError, OSError):
            pass

    async def engine_to_client():
        try:
            while data := await up_reader.read(CHUNK):
                client.writer.write(data)
                await client.writer.drain()
            if client.writer.can_write_eof():
                client.writer.write_eof()
        except (ConnectionError, OSError):
            pass

    to_engine = asyncio.create_task(client_to_engine())
    to_client = asyncio.create_task(engine_to_client())
    try:
        await to_client
        # The engine is done; give the client a moment to finish its half (it normally closes).
        try:
            await asyncio.wait_for(asyncio.shield(to_engine), timeout=2)
        except TimeoutError:
            pass
    finally:
        for task in (to_engine, to_client):
            task.cancel()
        await asyncio.gather(to_engine, to_client, return_exceptions=True)
        upstream.close()
