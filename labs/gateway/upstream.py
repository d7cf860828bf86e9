"""The gateway's side towards the engine: requests we build, one fixed API version, h11 framing.

Nothing a student sent reaches the engine as bytes. Every request is made here from values a
handler validated: the method, `/v<ENGINE_API_VERSION>` + a path built from quoted segments, a
query string encoded from a dict, and only the headers the engine needs (Host, User-Agent, our
own Content-Type, and the framing h11 writes). Bodies are canonical JSON we serialized, a tar we
re-packed, or nothing. h11 (a maintained sans-IO HTTP/1.1 implementation) frames requests and
parses the engine's answers, including the 101 of a hijacked attach/exec stream and bodies that
run until the engine closes.

One `Upstream` is one connection, opened lazily and reused while the engine keeps it alive;
nothing is shared between client connections or sessions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import h11

from labs.runtime.engine import EngineAddress
from labs.runtime.labels import ENGINE_API_VERSION

READ_SIZE = 256 * 1024
SMALL_BODY = 64 * 1024 * 1024  # what `request()` reads into memory at most


class EngineUnavailable(ConnectionError):
    """The engine did not answer, or broke the protocol."""


def qpath(value: str) -> str:
    """One path segment, quoted (a student's name can never add a segment)."""
    return quote(str(value), safe="")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
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
class Streaming:
    """An answer whose body is read as it comes (or a hijacked stream, when `upgraded`)."""

    status: int
    headers: dict[str, str]
    upstream: Upstream
    upgraded: bool = False
    leftover: bytes = b""
    _done: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._done or self.upgraded:
            return
        while True:
            event = await self.upstream._next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._done = True
                self.upstream._cycle()
                return

    async def read(self, limit: int = SMALL_BODY) -> bytes:
        out = bytearray()
        async for chunk in self.chunks():
            out += chunk
            if len(out) > limit:
                self.upstream.close()
                raise EngineUnavailable("the engine's answer is larger than expected")
        return bytes(out)


class Upstream:
    """One connection to the engine."""

    def __init__(self, address: EngineAddress):
        self.address = address
        self.api = f"/v{ENGINE_API_VERSION}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.conn: h11.Connection | None = None

    async def _connect(self) -> None:
        self.close()
        try:
            if self.address.unix_path:
                self.reader, self.writer = await asyncio.open_unix_connection(self.address.unix_path)
            else:
                self.reader, self.writer = await asyncio.open_connection(self.address.host, self.address.port)
        except OSError as exc:
            raise EngineUnavailable(f"cannot reach the Docker engine: {exc}") from exc
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=256 * 1024)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = self.conn = None

    def _usable(self) -> bool:
        return (
            self.conn is not None
            and self.conn.our_state is h11.IDLE
            and self.conn.their_state is h11.IDLE
            and not self.writer.is_closing()
            and not self.reader.at_eof()
        )

    def _cycle(self) -> None:
        """After a whole answer: keep the connection for the next request, or close it."""
        if self.conn is None:
            return
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        else:
            self.close()

    def _send(self, event) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)

    async def _next_event(self):
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self.close()
                raise EngineUnavailable(f"the engine's answer was not valid HTTP: {exc}") from exc
            if event is h11.NEED_DATA:
                try:
                    data = await self.reader.read(READ_SIZE)
                except OSError as exc:
                    self.close()
                    raise EngineUnavailable(str(exc)) from exc
                self.conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                self.close()
                raise EngineUnavailable("the engine closed the connection")
            return event

    def target(self, path: str, query: dict | None = None) -> str:
        target = self.api + path
        if query:
            pairs = []
            for key, value in query.items():
                for item in value if isinstance(value, (list, tuple)) else [value]:
                    pairs.append((key, "1" if item is True else "0" if item is False else str(item)))
            target += "?" + urlencode(pairs)
        return target

    async def open(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        chunks: AsyncIterator[bytes] | None = None,
        upgrade: bool = False,
    ) -> Streaming:
        """Send a request we built and read the answer's head."""
        if not self._usable():
            await self._connect()
        headers = [("Host", "docker"), ("User-Agent", "berth-gateway")]
        if content_type:
            headers.append(("Content-Type", content_type))
        if chunks is not None:
            headers.append(("Transfer-Encoding", "chunked"))
        elif body is not None or method in ("POST", "PUT"):
            headers.append(("Content-Length", str(len(body or b""))))
        if upgrade:
            headers += [("Connection", "Upgrade"), ("Upgrade", "tcp")]
        try:
            self._send(h11.Request(method=method, target=self.target(path, query), headers=headers))
            if chunks is not None:
                async for chunk in chunks:
                    if chunk:
                        self._send(h11.Data(data=chunk))
                        await self.writer.drain()
            elif body:
                self._send(h11.Data(data=body))
            self._send(h11.EndOfMessage())
            await self.writer.drain()
        except (OSError, h11.LocalProtocolError) as exc:
            self.close()
            raise EngineUnavailable(f"the Docker engine went away: {exc}") from exc
        while True:
            event = await self._next_event()
            if isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    leftover, _ = self.conn.trailing_data
                    return Streaming(101, _headers(event.headers), self, upgraded=True, leftover=bytes(leftover))
                continue
            if isinstance(event, h11.Response):
                return Streaming(event.status_code, _headers(event.headers), self)

    async def request(
        self, method: str, path: str, *, query: dict | None = None, body=None, retry: bool = True
    ) -> Response:
        """A small request of the gateway's own: a JSON body (or none) in, the whole answer out."""
        payload = None if body is None else json.dumps(body).encode()
        fresh = not self._usable()
        try:
            answer = await self.open(
                method, path, query=query, body=payload, content_type="application/json" if body is not None else None
            )
            data = await answer.read()
        except EngineUnavailable:
            self.close()
            if retry and not fresh:  # a kept-alive connection the engine had closed: once more
                return await self.request(method, path, query=query, body=body, retry=False)
            raise
        return Response(answer.status, answer.headers, data)

    async def json(self, method: str, path: str, **kwargs):
        response = await self.request(method, path, **kwargs)
        return response.status, response.json()

    def raw(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The socket of an upgraded (hijacked) answer; this Upstream gives it up."""
        reader, writer = self.reader, self.writer
        self.reader = self.writer = self.conn = None
        return reader, writer


def _headers(items) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in items:
        out[name.decode("latin-1").lower()] = value.decode("latin-1")
    return out
