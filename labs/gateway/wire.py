"""The student's side of a gateway connection: strict HTTP/1.1 in, responses we write ourselves out.

Requests are parsed by httptools (llhttp, Node.js's parser) in its default strict mode, which
refuses what request smuggling needs: a bare LF as a line end, obs-fold continuation lines,
Content-Length beside Transfer-Encoding, two Content-Lengths, malformed chunk framing. We never
forward what the client sent: handlers read the parsed values (`Request`) and the body, and the
engine gets a request that `labs.gateway.upstream` builds from them. (h11 0.16 was measured to
accept bare LF and obs-fold, so it is not used on this side.)

One `ClientConnection` per accepted socket. Parser callbacks queue events; `next_request`,
`body_chunks` and `read_body` take them, reading more from the socket only when the queue is
empty, so memory stays bounded by one read. An `Upgrade` request (attach, exec start) stops the
parser after its head: its body (Content-Length only) is read raw, and what follows is the
hijacked stream.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httptools

from labs.runtime.labels import GATEWAY_API_VERSION

READ_SIZE = 256 * 1024
MAX_HEAD = 64 * 1024  # request line and headers
MAX_HEADERS = 100
MAX_UPGRADE_BODY = 1024 * 1024
SERVER = "Docker/20.10 (linux) berth-gateway"
VERSION_RE = re.compile(r"^/v(\d{1,3})\.(\d{1,3})(/.*)$")
REASONS = {
    101: "UPGRADED",
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
# Headers every answer carries, as the engine's do (the CLI reads Api-Version to negotiate).
API_HEADERS = (
    ("Api-Version", GATEWAY_API_VERSION),
    ("Docker-Experimental", "false"),
    ("Ostype", "linux"),
    ("Server", SERVER),
)


class BadRequest(Exception):
    """The client did not speak HTTP/1.1 as the parser requires: answer 400 and close."""


@dataclass
class Request:
    method: str
    target: str
    path: str  # without the /vX.Y prefix, still percent-encoded
    api_version: tuple[int, int] | None  # (1, 41) for /v1.41/...; None when unversioned
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    upgrade: bool = False
    keep_alive: bool = True
    content_length: int | None = None
    chunked: bool = False

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters ("" when absent)."""
        return (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


class _Events:
    """httptools callbacks, queued."""

    def __init__(self) -> None:
        self.queue: deque[tuple] = deque()
        self.in_message = False
        self._url = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []

    def on_message_begin(self) -> None:
        self.in_message = True
        self._url = bytearray()
        self._headers = []

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_HEAD:
            raise BadRequest("request target too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((bytes(name), bytes(value)))
        if len(self._headers) > MAX_HEADERS:
            raise BadRequest("too many headers")

    def on_headers_complete(self) -> None:
        self.queue.append(("head", bytes(self._url), self._headers))

    def on_body(self, body: bytes) -> None:
        self.queue.append(("body", bytes(body)))

    def on_message_complete(self) -> None:
        self.in_message = False
        self.queue.append(("end",))


def parse_target(method: str, target: str, headers: dict[str, str]) -> Request:
    """The request line's target as a Request (origin-form only: `/path?query`)."""
    if not target.startswith("/") or "#" in target or any(ord(c) < 0x21 or ord(c) > 0x7E for c in target):
        raise BadRequest(f"request target must be a plain path: {target[:80]!r}")
    split = urlsplit(target)
    path = split.path
    version = None
    match = VERSION_RE.match(path)
    if match:
        version, path = (int(match.group(1)), int(match.group(2))), match.group(3)
    try:
        query = parse_qs(split.query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"bad query string: {exc}") from exc
    return Request(method=method, target=target, path=path, api_version=version, query=query, headers=headers)


class ClientConnection:
    """One client socket: requests in turn; answers written by us."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self._events = _Events()
        self._parser = httptools.HttpRequestParser(self._events)
        self._head_bytes = 0
        self._upgraded = False
        self._raw = bytearray()  # after an upgrade: bytes read past the head
        self.request: Request | None = None
        self.body_done = True
        self.answered = False

    # --- reading ---------------------------------------------------------------------------------
    async def _pump(self) -> bool:
        """Read once and feed the parser; False at end of stream."""
        data = await self.reader.read(READ_SIZE)
        if not data:
            return False
        if self._upgraded:
            self._raw += data
            return True
        if not self._events.queue and self._events.in_message is False:
            self._head_bytes = 0
        self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self._upgraded = True
            self._raw += data[exc.args[0] :]
        except httptools.HttpParserError as exc:
            raise BadRequest(str(exc) or "malformed HTTP request") from exc
        return True

    async def next_request(self) -> Request | None:
        """The next request's head, or None when the client closed between requests."""
        if self.request is not None and not self.body_done:
            raise BadRequest("the previous request's body was not read")
        self._head_bytes = 0
        while not self._events.queue:
            if self._upgraded:
                return None
            if not await self._pump():
                if self._events.in_message:
                    raise BadRequest("connection closed in the middle of a request")
                return None
            if not self._events.queue and self._head_bytes > MAX_HEAD:
                raise BadRequest("request head too large")
        event = self._events.queue.popleft()
        if event[0] != "head":
            raise BadRequest("unexpected data between requests")
        _, url, raw_headers = event
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            if key in headers:
                if key in ("host", "content-type", "content-length", "transfer-encoding", "upgrade", "connection"):
                    raise BadRequest(f"repeated header {key}")
                headers[key] = headers[key] + ", " + text
            else:
                headers[key] = text
        method = self._parser.get_method().decode("ascii", "replace").upper()
        request = parse_target(method, url.decode("latin-1"), headers)
        request.upgrade = self._upgraded
        request.keep_alive = bool(self._parser.should_keep_alive()) and not self._upgraded
        length = headers.get("content-length")
        request.content_length = int(length) if length is not None else None
        encoding = headers.get("transfer-encoding")
        if encoding is not None and encoding.strip().lower() != "chunked":
            raise BadRequest(f"unsupported Transfer-Encoding: {encoding[:40]}")
        request.chunked = encoding is not None
        if request.upgrade and request.chunked:
            raise BadRequest("an upgrade request must send its body with Content-Length")
        self.request = request
        self.answered = False
        self.body_done = not request.upgrade and self._message_ended()
        if request.upgrade:
            self.body_done = not request.content_length
        return request

    def _message_ended(self) -> bool:
        if self._events.queue and self._events.queue[0][0] == "end":
            self._events.queue.popleft()
            return True
        return False

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """The current request's body, de-chunked, as it arrives."""
        if self.body_done:
            return
        if self.request is not None and self.request.upgrade:
            yield await self._upgrade_body()
            return
        while True:
            while not self._events.queue:
                if not await self._pump():
                    raise BadRequest("connection closed in the middle of a body")
            event = self._events.queue.popleft()
            if event[0] == "body":
                yield event[1]
            elif event[0] == "end":
                self.body_done = True
                return
            else:
                raise BadRequest("unexpected event in a body")

    async def _upgrade_body(self) -> bytes:
        length = self.request.content_length or 0
        if length > MAX_UPGRADE_BODY:
            raise BadRequest("upgrade request body too large")
        while len(self._raw) < length:
            if not await self._pump():
                raise BadRequest("connection closed in the middle of a body")
        data, self._raw = bytes(self._raw[:length]), self._raw[length:]
        self.body_done = True
        return data

    async def read_body(self, limit: int) -> bytes:
        """The whole body, at most `limit` bytes (more is a 413 for the caller)."""
        out = bytearray()
        async for chunk in self.body_chunks():
            out += chunk
            if len(out) > limit:
                raise BodyTooLarge(limit)
        return bytes(out)

    async def drain(self, limit: int) -> bool:
        """Read and drop what is left of the body; False when more than `limit` was left."""
        seen = 0
        async for chunk in self.body_chunks():
            seen += len(chunk)
            if seen > limit:
                return False
        return True

    def take_raw(self) -> bytes:
        """After an upgrade: the stream bytes already read past the request."""
        data, self._raw = bytes(self._raw), bytearray()
        return data

    # --- writing ---------------------------------------------------------------------------------
    def _head(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        for name, value in (*API_HEADERS, *headers):
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {name} has a line break")
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def respond(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str | None = "application/json",
        headers: list[tuple[str, str]] | None = None,
        close: bool = False,
    ) -> None:
        out = list(headers or [])
        if content_type and status not in (204, 304):
            out.append(("Content-Type", content_type))
        if status not in (204, 304):
            out.append(("Content-Length", str(len(body))))
        if close:
            out.append(("Connection", "close"))
        self.writer.write(self._head(status, out))
        if body and status not in (204, 304) and (self.request is None or self.request.method != "HEAD"):
            self.writer.write(body)
        self.answered = True
        await self.writer.drain()

    async def respond_json(self, status: int, data) -> None:
        await self.respond(status, json.dumps(data).encode() + b"\n")

    async def respond_error(self, status: int, message: str, *, close: bool = False) -> None:
        await self.respond(status, json.dumps({"message": message}).encode() + b"\n", close=close)

    async def start_stream(self, status: int, content_type: str, headers: list[tuple[str, str]] | None = None) -> None:
        out = [*(headers or []), ("Content-Type", content_type), ("Transfer-Encoding", "chunked")]
        self.writer.write(self._head(status, out))
        self.answered = True
        await self.writer.drain()

    async def write_chunk(self, data: bytes) -> None:
        if data:
            self.writer.write(b"%x\r\n" % len(data) + data + b"\r\n")
            await self.writer.drain()

    async def end_stream(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def switch_protocols(self, content_type: str) -> None:
        """101 for a hijacked attach/exec stream; from now on the socket carries raw bytes."""
        out = [("Content-Type", content_type), ("Connection", "Upgrade"), ("Upgrade", "tcp")]
        self.writer.write(self._head(101, out))
        self.answered = True
        await self.writer.drain()

    async def start_raw(self, content_type: str) -> None:
        """A 200 that becomes a raw stream until close (attach without an upgrade, as the engine does)."""
        self.writer.write(self._head(200, [("Content-Type", content_type), ("Connection", "close")]))
        self.answered = True
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit
