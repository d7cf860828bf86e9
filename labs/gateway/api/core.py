"""The small core every endpoint module shares: routes, the request context, dispatch, relaying.

A handler reads what the student sent only through `Ctx` (strictly parsed query values from an
allowlist, bodies parsed and rebuilt from a schema), builds the engine request itself, and relays
the answer with `call` / `relay`. Nothing the client sent is copied to the engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from labs.runtime.labels import GATEWAY_API_VERSION

from .. import dockerfile, schemas, strictjson
from .. import names as n
from .. import policy as pol
from ..ports import PortsError
from ..session import MAX_CONNECTIONS, Session
from ..upstream import EngineUnavailable, Streaming, Upstream
from ..wire import BadRequest, BodyTooLarge, ClientConnection, Request

log = logging.getLogger("labs.gateway")

JSON_LIMIT = 16 * 1024 * 1024  # a JSON request body
ANSWER_LIMIT = 64 * 1024 * 1024  # a JSON answer from the engine that we map
DRAIN_LIMIT = 4 * 1024 * 1024  # body bytes we read to answer a refusal instead of cutting the connection
MIN_VERSION = tuple(int(x) for x in GATEWAY_API_VERSION.split("."))
TAR_TYPES = {"", "application/x-tar", "application/tar", "application/octet-stream", "text/plain"}
# Engine answer headers a client needs besides the body (docker cp reads the path's stat from it).
PASSED_HEADERS = {"x-docker-container-path-stat": "X-Docker-Container-Path-Stat"}


def passed_headers(answer: Streaming) -> list[tuple[str, str]]:
    return [(name, answer.headers[key]) for key, name in PASSED_HEADERS.items() if key in answer.headers]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable
    writes: bool  # refused while the session is over its disk quota


ROUTES: list[Route] = []


def route(method: str, pattern: str, *, writes: bool = False):
    def register(fn):
        ROUTES.append(Route(method, re.compile(f"^{pattern}$"), fn, writes))
        return fn

    return register


def not_found(what: str, ref: str) -> pol.Refused:
    return pol.Refused(f"No such {what}: {ref}", status=404)


class Ctx:
    """One request: the session, the client connection, the engine connection, the parsed request."""

    def __init__(self, session: Session, conn: ClientConnection, upstream: Upstream, req: Request):
        self.session, self.conn, self.upstream, self.req = session, conn, upstream, req
        self.names = session.names
        self.keep = True

    # --- what the student sent, parsed ----------------------------------------------------------
    async def no_body(self) -> None:
        """Endpoints that take no body refuse one (the engine would read it as options)."""
        if self.req.has_body and await self.conn.read_body(DRAIN_LIMIT):
            raise pol.Refused(f"{self.req.method} {self.req.path} takes no request body", status=400)

    async def body(self, node, *, where: str, default: dict | None = None):
        """A JSON body: application/json only, strictly parsed and rebuilt from `node`."""
        try:
            data = await self.conn.read_body(JSON_LIMIT)
        except BodyTooLarge as exc:
            self.keep = False
            raise pol.Refused(str(exc), status=413) from exc
        if not data.strip():
            if default is not None:
                return default
            data = b"{}"
        elif self.req.content_type != "application/json":
            raise pol.Refused(
                f"Content-Type must be application/json for {self.req.path} (got {self.req.content_type or 'none'})",
                status=400,
            )
        return schemas.parse_body(data, node, where=where)

    def q(self, name: str, default: str | None = None) -> str | None:
        return self.req.q(name, default)

    def qbool(self, name: str) -> bool | None:
        """A boolean query value as the engine reads it (None when absent)."""
        value = self.req.q(name)
        if value is None:
            return None
        low = value.strip().lower()
        if low in ("", "0", "false", "no", "off"):
            return False
        if low in ("1", "true", "yes", "on"):
            return True
        raise pol.Refused(f"invalid boolean value for {name}: {value!r}", status=400)

    def qint(self, name: str, *, low: int = 0, high: int = 2**62) -> int | None:
        value = self.req.q(name)
        if value is None or value == "":
            return None
        if not re.fullmatch(r"-?\d{1,19}", value):
            raise pol.Refused(f"invalid integer value for {name}: {value!r}", status=400)
        number = int(value)
        if not low <= number <= high:
            raise pol.Refused(f"{name} must be between {low} and {high}", status=400)
        return number

    def pick(self, **spec: str) -> dict:
        """The allowlisted query values, validated and re-encoded: kind is bool | int | str | signal."""
        out: dict = {}
        for name, kind in spec.items():
            if name not in self.req.query:
                continue
            if kind == "bool":
                out[name] = "1" if self.qbool(name) else "0"
            elif kind == "int":
                out[name] = str(self.qint(name, low=-1))
            elif kind == "signal":
                value = self.q(name) or ""
                if not re.fullmatch(r"(SIG)?[A-Z0-9+-]{1,12}|\d{1,2}", value.upper()):
                    raise pol.Refused(f"invalid signal: {value}", status=400)
                out[name] = value.upper()
            elif kind == "tail":
                value = self.q(name) or ""
                if value != "all" and not re.fullmatch(r"\d{1,9}", value):
                    raise pol.Refused(f"invalid tail value: {value}", status=400)
                out[name] = value
            elif kind == "time":
                value = self.q(name) or ""
                if not re.fullmatch(r"[0-9TZ:.+-]{0,40}[smhd]?", value):
                    raise pol.Refused(f"invalid time value for {name}: {value}", status=400)
                out[name] = value
            elif kind == "str":
                value = self.q(name) or ""
                if len(value) > 4096 or "\x00" in value:
                    raise pol.Refused(f"invalid value for {name}", status=400)
                out[name] = value
            else:  # pragma: no cover - a programming error
                raise ValueError(kind)
        return out

    def filters(self) -> dict[str, list[str]]:
        """The `filters` query value (both its forms), as {key: [values]}."""
        raw = self.q("filters")
        if not raw:
            return {}
        data = strictjson.loads(raw.encode(), limit=64 * 1024)
        if not isinstance(data, dict):
            raise pol.Refused("invalid filter: filters must be a JSON object", status=400)
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            if isinstance(value, dict):  # the old {"key": {"value": true}} form
                values = [k for k, v in value.items() if v]
            elif isinstance(value, list):
                values = value
            else:
                raise pol.Refused(f"invalid filter {key!r}", status=400)
            if not all(isinstance(v, str) and len(v) < 1024 for v in values):
                raise pol.Refused(f"invalid filter {key!r}", status=400)
            out[str(key)] = list(values)
        return out

    def new_image_query(self) -> dict:
        """repo/tag under the session's namespace and checked `changes` for an image the session
        makes (commit, import), labelled as the session's and never as the platform's."""
        query: dict = {}
        repo = self.q("repo")
        if repo:
            ref = n.parse_image_ref(repo + (f":{self.q('tag')}" if self.q("tag") else ""))
            query["repo"] = self.names.image_repo_host(ref)
            query["tag"] = ref.tag or "latest"
        labels = {**self.session.limits.labels, n.LABEL_PLATFORM_IMAGE: "0"}
        query["changes"] = pol.checked_changes(self.req.query.get("changes", [])) + [dockerfile.label_line(labels)]
        return query

    # --- the engine -----------------------------------------------------------------------------
    async def api(self, method: str, path: str, **kwargs):
        """A request of the gateway's own on this connection's engine connection: (status, json)."""
        return await self.upstream.json(method, path, **kwargs)

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        json_body=None,
        body: bytes | None = None,
        content_type: str | None = None,
        chunks=None,
        json_out=None,
        lines_out=None,
        upgrade: bool = False,
    ) -> int:
        """Send a request we built, relay the answer; returns the engine's status."""
        if json_body is not None:
            body, content_type = strictjson.dumps(json_body), "application/json"
        answer = await self.upstream.open(
            method, path, query=query, body=body, content_type=content_type, chunks=chunks, upgrade=upgrade
        )
        return await relay(self, answer, json_out=json_out, lines_out=lines_out)


# --- relaying the engine's answer ------------------------------------------------------------------


def _message(data: bytes) -> str:
    try:
        doc = json.loads(data)
        if isinstance(doc, dict) and "message" in doc:
            return str(doc["message"])
    except ValueError:
        pass
    return data.decode(errors="replace").strip()


async def relay(ctx: Ctx, answer: Streaming, *, json_out=None, lines_out=None) -> int:
    conn, status = ctx.conn, answer.status
    if answer.upgraded:
        ctx.keep = False
        await conn.switch_protocols(answer.content_type or "application/vnd.docker.raw-stream")
        await splice(conn, answer)
        return status
    if status >= 400:
        data = await answer.read(ANSWER_LIMIT)
        await conn.respond_error(status, ctx.names.scrub(_message(data)))
        return status
    if status in (204, 304) or ctx.req.method == "HEAD":
        await answer.read(ANSWER_LIMIT)
        await conn.respond(status, b"", content_type=answer.content_type or None, headers=passed_headers(answer))
        return status
    is_json = "json" in answer.content_type
    length = answer.headers.get("content-length")
    if json_out is not None and is_json:  # whatever its framing: a mapped answer is never streamed raw
        data = await answer.read(ANSWER_LIMIT)
        try:
            doc = json.loads(data) if data.strip() else None
        except ValueError:
            doc = None
        if doc is not None:
            data = json.dumps(json_out(doc)).encode() + b"\n"
        await conn.respond(status, data)
        return status
    if length is not None and int(length) <= 1024 * 1024 and lines_out is None:
        data = await answer.read(ANSWER_LIMIT)
        await conn.respond(status, data, content_type=answer.content_type or None, headers=passed_headers(answer))
        return status
    await stream_out(ctx, answer, lines_out=lines_out)
    return status


async def stream_out(ctx: Ctx, answer: Streaming, *, lines_out=None) -> None:
    """A streamed answer (logs -f, events, build and pull progress, stats, export), chunk by chunk;
    stops when the client goes away."""
    conn = ctx.conn
    await conn.start_stream(answer.status, answer.content_type or "application/octet-stream", passed_headers(answer))
    rewriter = LineRewriter(lines_out) if lines_out else None
    chunks = answer.chunks().__aiter__()
    watch = asyncio.ensure_future(conn.reader.read(1))
    try:
        while True:
            nxt = asyncio.ensure_future(chunks.__anext__())
            done, _ = await asyncio.wait({nxt, watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch in done and nxt not in done:
                # The client went away (or, against the protocol, sent more while we stream).
                nxt.cancel()
                ctx.upstream.close()
                ctx.keep = False
                return
            try:
                chunk = nxt.result()
            except StopAsyncIteration:
                break
            if rewriter:
                chunk = rewriter.feed(chunk)
            await conn.write_chunk(chunk)
        if rewriter:
            await conn.write_chunk(rewriter.flush())
        await conn.end_stream()
    finally:
        if not watch.done():
            watch.cancel()
        elif not watch.cancelled() and watch.exception() is None and watch.result():
            ctx.keep = False  # bytes arrived mid-stream: this connection is done after the answer
        await asyncio.gather(watch, return_exceptions=True)


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
            return b""  # the engine's streams are JSON lines; anything else is not shown
        doc = self.fn(doc)
        if doc is None:
            return b""
        return json.dumps(doc).encode() + (b"\r\n" if line.endswith(b"\r") else b"\n")


async def splice(conn: ClientConnection, answer: Streaming) -> None:
    """Both directions of a hijacked attach/exec stream until the engine side ends (stdin EOF is
    passed on as a half-close, the way the Docker CLI expects)."""
    up_reader, up_writer = answer.upstream.raw()
    client_reader, client_writer = conn.reader, conn.writer

    async def to_engine():
        try:
            pending = conn.take_raw()
            if pending:
                up_writer.write(pending)
            while data := await client_reader.read(256 * 1024):
                up_writer.write(data)
                await up_writer.drain()
            if up_writer.can_write_eof():
                up_writer.write_eof()
        except (ConnectionError, OSError):
            pass

    async def to_client():
        try:
            if answer.leftover:
                client_writer.write(answer.leftover)
            while data := await up_reader.read(256 * 1024):
                client_writer.write(data)
                await client_writer.drain()
            if client_writer.can_write_eof():
                client_writer.write_eof()
        except (ConnectionError, OSError):
            pass

    engine_task = asyncio.create_task(to_engine())
    client_task = asyncio.create_task(to_client())
    try:
        await client_task
        try:  # the engine is done; give the client a moment to finish its half
            await asyncio.wait_for(asyncio.shield(engine_task), timeout=2)
        except TimeoutError:
            pass
    finally:
        for task in (engine_task, client_task):
            task.cancel()
        await asyncio.gather(engine_task, client_task, return_exceptions=True)
        up_writer.close()


# --- dispatch ---------------------------------------------------------------------------------------


def version_refusal(req: Request) -> str | None:
    if req.api_version is None:
        return None
    text = f"{req.api_version[0]}.{req.api_version[1]}"
    if req.api_version < MIN_VERSION:
        return (
            f"client version {text} is too old. Minimum supported API version is {GATEWAY_API_VERSION}, "
            "please upgrade your client to a newer version"
        )
    if req.api_version > MIN_VERSION:
        return f"client version {text} is too new. Maximum supported API version is {GATEWAY_API_VERSION}"
    return None


async def serve_connection(session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One client connection: requests in turn, on one engine connection of its own."""
    conn = ClientConnection(reader, writer)
    if len(session.connections) >= MAX_CONNECTIONS:
        try:
            await conn.respond_error(
                503, f"too many connections to the lab's Docker API (at most {MAX_CONNECTIONS})", close=True
            )
        finally:
            writer.close()
        return
    upstream = session.upstream()
    task = asyncio.current_task()
    session.connections.add(task)
    try:
        while True:
            req = await conn.next_request()
            if req is None:
                break
            ctx = Ctx(session, conn, upstream, req)
            await dispatch(ctx)
            if not ctx.keep or not req.keep_alive:
                break
            if not conn.body_done and not await conn.drain(DRAIN_LIMIT):
                break
    except BadRequest as exc:
        log.info("session %s: bad request: %s", session.hex, exc)
        if not conn.answered:
            try:
                await conn.respond_error(400, f"bad request: {exc}", close=True)
            except (ConnectionError, OSError):
                pass
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        log.debug("session %s: connection ended: %s", session.hex, exc)
    except asyncio.CancelledError:
        pass
    except Exception:  # noqa: BLE001 - a bug must not take the gateway down; it ends this connection
        log.exception("session %s: request failed", session.hex)
    finally:
        session.connections.discard(task)
        upstream.close()
        writer.close()


def find_route(req: Request) -> tuple[Route | None, dict]:
    for candidate in ROUTES:
        if candidate.method != req.method:
            continue
        match = candidate.pattern.match(req.path)
        if match:
            return candidate, {k: unquote(v, errors="strict") for k, v in match.groupdict().items()}
    return None, {}


async def dispatch(ctx: Ctx) -> None:
    req = ctx.req
    try:
        refusal = version_refusal(req)
        if refusal:
            raise pol.Refused(refusal, status=400)
        found, params = find_route(req)
        if found is None:
            raise pol.Refused(f"{req.method} {req.path} is not available through the lab's Docker API")
        if found.writes and ctx.session.over_quota:
            raise pol.Refused(ctx.session.quota_message())
        if req.upgrade and not getattr(found.handler, "hijacks", False):
            ctx.keep = False
        await found.handler(ctx, **params)
    except pol.Refused as exc:
        await refuse(ctx, exc.status, exc.message)
    except n.BadName as exc:
        await refuse(ctx, 400, str(exc))
    except PortsError as exc:
        await refuse(ctx, 500, str(exc))
    except EngineUnavailable as exc:
        log.warning("session %s: %s %s: %s", ctx.session.hex, req.method, req.path, exc)
        ctx.keep = False
        if not ctx.conn.answered:
            await refuse(ctx, 503, "the Docker engine is not available right now; try again in a moment")


async def refuse(ctx: Ctx, status: int, message: str) -> None:
    conn = ctx.conn
    if status in (400, 403, 413):
        ctx.keep = False  # nothing pipelined behind a refused request is served
    if conn.answered:  # a stream had already begun: all we can do is end the connection
        ctx.keep = False
        return
    if not conn.body_done:
        try:
            if not await conn.drain(DRAIN_LIMIT):
                ctx.keep = False
        except BadRequest:
            ctx.keep = False
    await conn.respond_error(status, ctx.names.scrub(message), close=not ctx.keep)


def hijacks(fn):
    """Marks a handler whose answer may be a hijacked (upgraded) stream."""
    fn.hijacks = True
    return fn
