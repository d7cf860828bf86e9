"""The Engine API as a session sees it: one handler per endpoint the Docker CLI and Compose use.

Every handler follows the same shape: resolve what the request names against the session's own
objects (a miss is Docker's own "No such ..." 404), check and rewrite with labels.gateway.policy,
forward on the connection's upstream, and map the answer back with labels.gateway.names.
Endpoints not listed here are refused (403): the gateway is an allowlist.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import re
from urllib.parse import unquote

from . import build as build_mod
from . import names as n
from . import policy as pol
from .ports import PortsError
from .proxy import (
    HOP_BY_HOP,
    ChunkedWriter,
    Client,
    Headers,
    LineRewriter,
    ProtocolError,
    Request,
    Upstream,
    qpath,
    read_all,
    read_request,
    request_body,
    response_headers,
    splice,
)
from .session import Session

log = logging.getLogger(__name__)

MAX_CONTEXT = 512 * 1024 * 1024  # bytes of build context a session may upload in one build
BLANKED_BASE_LABELS = {n.LABEL_PLATFORM_IMAGE, "org.berth.build-stage", "org.berth.cgroup-parent", "org.berth.network"}
ROUTES: list[tuple[str, re.Pattern, str]] = []


def route(method: str, pattern: str):
    def register(fn):
        ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn

    return register


class Ctx:
    def __init__(self, session: Session, client: Client, upstream: Upstream, req: Request):
        self.session, self.client, self.upstream, self.req = session, client, upstream, req
        self.names = session.names
        self.body_done = not req.has_body
        self.keep = True
        self.lookups: Upstream | None = None  # a second connection, while this one carries a build upload
        self.body_stream = None  # the request body iterator a handler is reading, if any

    async def body_bytes(self) -> bytes:
        self.body_done = True
        return await read_all(request_body(self.client.stream, self.req))

    async def json_body(self, default=None):
        data = await self.body_bytes()
        if not data.strip():
            return {} if default is None else default
        try:
            return json.loads(data)
        except ValueError as exc:
            raise pol.Refused(f"invalid JSON: {exc}", status=400) from exc

    def body_iter(self):
        self.body_done = True
        self.body_stream = request_body(self.client.stream, self.req)
        return self.body_stream

    async def api(self, method: str, path: str, **kwargs):
        """A request of the gateway's own on this connection's upstream; (status, json)."""
        return await (self.lookups or self.upstream).json(method, path, **kwargs)

    def filters(self) -> dict[str, list[str]]:
        raw = self.req.q("filters")
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise pol.Refused(f"invalid filter: {exc}", status=400) from exc
        out: dict[str, list[str]] = {}
        for key, value in (data or {}).items():
            if isinstance(value, dict):  # the old {"key": {"value": true}} form
                out[key] = [k for k, v in value.items() if v]
            else:
                out[key] = list(value or [])
        return out


def not_found(what: str, ref: str) -> pol.Refused:
    return pol.Refused(f"No such {what}: {ref}", status=404)


# --- dispatch -----------------------------------------------------------------------------------------


async def serve_connection(session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One client connection: requests in turn, on one upstream connection of its own."""
    from .proxy import Stream
    from .session import MAX_CONNECTIONS

    client = Client(Stream(reader), writer)
    if len(session.connections) >= MAX_CONNECTIONS:
        headers = Headers(list(client.api_headers.items) + [("Connection", "close")])
        try:
            await client.send(
                503,
                json.dumps(
                    {"message": f"too many connections to the lab's Docker API (at most {MAX_CONNECTIONS})"}
                ).encode(),
                headers=headers,
            )
        finally:
            writer.close()
        return
    upstream = session.upstream()
    task = asyncio.current_task()
    session.connections.add(task)
    try:
        while True:
            req = await read_request(client.stream)
            if req is None:
                break
            ctx = Ctx(session, client, upstream, req)
            await dispatch(ctx)
            if not ctx.keep or not req.keep_alive:
                break
    except (ProtocolError, ConnectionError, asyncio.IncompleteReadError) as exc:
        log.debug("session %s: connection ended: %s", session.hex, exc)
    except asyncio.CancelledError:
        pass
    except Exception:  # noqa: BLE001 - a bug must not take the gateway down; it ends this connection
        log.exception("session %s: request failed", session.hex)
    finally:
        session.connections.discard(task)
        upstream.close()
        writer.close()


async def dispatch(ctx: Ctx) -> None:
    req = ctx.req
    handler = None
    params: dict = {}
    for method, pattern, fn in ROUTES:
        if method != req.method:
            continue
        match = pattern.match(req.path)
        if match:
            handler, params = fn, {k: unquote(v) for k, v in match.groupdict().items()}
            break
    try:
        if handler is None:
            raise pol.Refused(f"{req.method} {req.path} is not available through the lab's Docker API")
        await handler(ctx, **params)
    except pol.Refused as exc:
        await refuse(ctx, exc.status, exc.message)
    except n.NameError_ as exc:
        await refuse(ctx, 400, str(exc))
    except PortsError as exc:
        await refuse(ctx, 500, str(exc))
    except (ProtocolError, ConnectionError, asyncio.IncompleteReadError):
        ctx.keep = False
        raise
    except OSError as exc:
        log.exception("session %s: %s %s failed", ctx.session.hex, req.method, req.path)
        await refuse(ctx, 500, f"the lab's Docker API failed: {exc}")


async def refuse(ctx: Ctx, status: int, message: str) -> None:
    headers = Headers(list(ctx.client.api_headers.items))
    if not ctx.body_done:
        # Read what is left of the request body (bounded) so the client gets the answer, not EPIPE.
        try:
            drained = 0
            # Continue the body iterator a handler gave up on mid-way (its chunk framing state
            # lives in that generator); start one only if nothing was read yet.
            body = ctx.body_stream or request_body(ctx.client.stream, ctx.req)
            async for chunk in body:
                drained += len(chunk)
                if drained > MAX_CONTEXT:
                    break
            else:
                ctx.body_done = True
        except (ProtocolError, ConnectionError, asyncio.IncompleteReadError):
            pass
    if not ctx.body_done:
        ctx.keep = False
        headers.set("Connection", "close")
    await ctx.client.send(
        status,
        json.dumps({"message": ctx.names.scrub(message)}).encode() + b"\n",
        headers=headers,
        head_only=ctx.req.method == "HEAD",
    )


# --- forwarding ----------------------------------------------------------------------------------------


async def forward(
    ctx: Ctx,
    *,
    path: str | None = None,
    query: dict | None = None,
    body: bytes | None = None,
    json_out=None,
    lines_out=None,
    method: str | None = None,
) -> int:
    """Send the request (rewritten as given) to the engine and relay the answer.

    json_out(data) maps a JSON answer; lines_out(doc) maps each document of a JSON-lines stream.
    Returns the engine's status (after the answer was sent)."""
    req, up = ctx.req, ctx.upstream
    method = method or req.method
    headers = req.headers.without(HOP_BY_HOP | {"x-registry-auth", "x-registry-config", "host"})
    headers.items.insert(0, ("Host", "docker"))
    if req.wants_upgrade:
        headers.set("Connection", "Upgrade")
        headers.set("Upgrade", req.headers.get("upgrade") or "tcp")
    target = req.build_target(path, query)
    if body is not None:
        ctx.body_done = True
        headers.set("Content-Length", str(len(body)))
        await up.send_head(method, target, headers)
        up.writer.write(body)
    elif not ctx.body_done and req.chunked:
        headers.set("Transfer-Encoding", "chunked")
        await up.send_head(method, target, headers)
        out = ChunkedWriter(up.writer)
        async for chunk in ctx.body_iter():
            await out.write(chunk)
        await out.end()
    elif not ctx.body_done and req.content_length:
        headers.set("Content-Length", str(req.content_length))
        await up.send_head(method, target, headers)
        async for chunk in ctx.body_iter():
            up.writer.write(chunk)
            await up.writer.drain()
    else:
        ctx.body_done = True
        if method in ("POST", "PUT"):
            headers.set("Content-Length", "0")
        await up.send_head(method, target, headers)
    await up.writer.drain()
    return await relay(ctx, json_out=json_out, lines_out=lines_out, method=method)


async def relay(ctx: Ctx, *, json_out=None, lines_out=None, method: str = "GET") -> int:
    up, client = ctx.upstream, ctx.client
    head = await up.read_head(method)
    headers = response_headers(head.headers)
    if head.hijacked:
        out = Headers(list(head.headers.items))
        await client.send_head(head.status, out, reason=head.reason)
        ctx.keep = False
        await splice(client, up)
        return head.status
    if head.status >= 400:
        data = await read_all(up.body(head))
        message = _message(data)
        await client.send(
            head.status,
            json.dumps({"message": ctx.names.scrub(message)}).encode() + b"\n",
            headers=headers,
            head_only=method == "HEAD",
        )
        return head.status
    if method == "HEAD":
        await client.send_head(head.status, head.headers.without({"connection", "keep-alive", "transfer-encoding"}))
        return head.status
    if head.no_body:
        await client.send(head.status, b"", headers=headers, content_type=headers.get("content-type"))
        return head.status
    content_type = (head.headers.get("content-type") or "").lower()
    if json_out is not None and "json" in content_type and not head.until_close:
        data = await read_all(up.body(head))
        try:
            doc = json.loads(data) if data.strip() else None
        except ValueError:
            doc = None
        if doc is not None:
            data = json.dumps(json_out(doc)).encode() + b"\n"
        await client.send(head.status, data, headers=headers, content_type="application/json")
        return head.status
    await stream_out(ctx, head, headers, lines_out=lines_out)
    return head.status


def _message(data: bytes) -> str:
    try:
        doc = json.loads(data)
        if isinstance(doc, dict) and "message" in doc:
            return str(doc["message"])
    except ValueError:
        pass
    return data.decode(errors="replace").strip()


async def stream_out(ctx: Ctx, head, headers: Headers, *, lines_out=None) -> None:
    """Relay a streamed body chunk by chunk; stop when the client goes away."""
    up, client = ctx.upstream, ctx.client
    headers = Headers(list(headers.items))
    headers.set("Transfer-Encoding", "chunked")
    await client.send_head(head.status, headers, reason=head.reason)
    out = ChunkedWriter(client.writer)
    rewriter = LineRewriter(lines_out) if lines_out else None
    chunks = up.body(head).__aiter__()
    watch = asyncio.ensure_future(client.stream.read(1))
    try:
        while True:
            nxt = asyncio.ensure_future(chunks.__anext__())
            waiting = {nxt} if watch is None else {nxt, watch}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if watch is not None and watch in done:
                data = watch.result() if not watch.exception() else b""
                if not data:  # the client went away
                    nxt.cancel()
                    up.close()
                    ctx.keep = False
                    return
                client.stream.unread(data)
                watch = None
                if nxt not in done:
                    done, _ = await asyncio.wait({nxt})
            try:
                chunk = nxt.result()
            except StopAsyncIteration:
                break
            if rewriter:
                chunk = rewriter.feed(chunk)
            await out.write(chunk)
        if rewriter:
            await out.write(rewriter.flush())
        await out.end()
        if up.stream is not None and not up.reusable:
            up.close()
    finally:
        if watch is not None:
            watch.cancel()
            try:
                await watch
            except (asyncio.CancelledError, Exception):  # noqa: BLE001, S110
                pass


# --- resolving the session's objects ---------------------------------------------------------------------


async def resolve_container(ctx: Ctx, ref: str, *, data: bool = True) -> tuple[str, dict | None]:
    """The host id (and inspect data) of the session's container `ref` (name, id or id prefix)."""
    s, names = ctx.session, ctx.names
    ref = ref.lstrip("/")
    if ref in s.containers and not data:
        return ref, None
    candidates = []
    if ref in s.containers:
        candidates.append(ref)
    if n.NAME_RE.match(ref):
        candidates.append(names.container_host(ref))
    for candidate in candidates:
        status, found = await ctx.api("GET", f"/containers/{qpath(candidate)}/json")
        if status == 200 and s.owns(found):
            return found["Id"], found
    if n.HEX_RE.match(ref):
        matches = [c["Id"] for c in await s.session_containers(ctx.upstream) if c["Id"].startswith(ref)]
        if len(matches) > 1:
            raise pol.Refused(f"multiple containers found with provided prefix: {ref}", status=400)
        if matches:
            if not data:
                return matches[0], None
            status, found = await ctx.api("GET", f"/containers/{matches[0]}/json")
            if status == 200 and s.owns(found):
                return found["Id"], found
    raise not_found("container", ref)


async def resolve_image(ctx: Ctx, ref: str) -> tuple[str, str, dict]:
    """(kind, host reference, inspect data) of an image the session may use: its own (by name),
    a platform base image, or either by id. kind: "session" | "base" | "id"."""
    names = ctx.names
    parsed = None
    try:
        parsed = n.parse_image_ref(ref)
    except n.NameError_:
        parsed = None
    if parsed is not None:
        if not parsed.domain:
            host = names.image_host(parsed)
            status, found = await ctx.api("GET", f"/images/{qpath(host)}/json")
            if status == 200:
                return "session", host, found
        if names.is_base(parsed):
            status, found = await ctx.api("GET", f"/images/{qpath(parsed.familiar)}/json")
            if status == 200:
                return "base", parsed.familiar, found
    if n.looks_like_id(ref):
        status, found = await ctx.api("GET", f"/images/{qpath(ref)}/json")
        if status == 200 and names.image_visible(found):
            return "id", found["Id"], found
    if parsed is None:
        raise pol.Refused(f"invalid reference format: {ref}", status=400)
    raise not_found("image", parsed.familiar if not parsed.digest else ref)


async def resolve_network(ctx: Ctx, ref: str) -> dict:
    """Inspect data of the session's network `ref` ("bridge"/"default" is the lab's own)."""
    s, names = ctx.session, ctx.names
    if ref in ("none", "host"):
        status, found = await ctx.api("GET", f"/networks/{ref}")
        if status == 200:
            return found
    try:
        host = names.network_host(ref)
    except n.NameError_:
        host = None
    if host:
        status, found = await ctx.api("GET", f"/networks/{qpath(host)}")
        if (
            status == 200
            and (found.get("Labels") or {}).get(n.LABEL_SESSION) == s.session_id
            and found.get("Name") == host
        ):
            return found
    if n.HEX_RE.match(ref):
        matches = [net for net in await s.session_networks(ctx.upstream) if net["Id"].startswith(ref)]
        if len(matches) == 1:
            return matches[0]
    raise pol.Refused(f"network {ref} not found", status=404)


async def resolve_volume(ctx: Ctx, ref: str) -> dict:
    s, names = ctx.session, ctx.names
    try:
        host = names.volume_host(ref)
    except n.NameError_ as exc:
        raise not_found("volume", ref) from exc
    status, found = await ctx.api("GET", f"/volumes/{qpath(host)}")
    if status == 200 and (found.get("Labels") or {}).get(n.LABEL_SESSION) == s.session_id:
        return found
    raise not_found("volume", ref)


async def ensure_volume(ctx: Ctx, ref: str) -> str:
    """A named volume of the session, made (labelled) when it does not exist yet, as Docker does."""
    host = ctx.names.volume_host(ref)
    status, found = await ctx.api("GET", f"/volumes/{qpath(host)}")
    if status == 200:
        if (found.get("Labels") or {}).get(n.LABEL_SESSION) != ctx.session.session_id:
            raise not_found("volume", ref)
        return host
    status, found = await ctx.api(
        "POST", "/volumes/create", body={"Name": host, "Driver": "local", "Labels": dict(ctx.session.limits.labels)}
    )
    if status >= 400:
        raise pol.Refused(ctx.names.scrub((found or {}).get("message", "cannot create the volume")), status=status)
    return host


async def resolve_exec(ctx: Ctx, exec_id: str) -> str:
    s = ctx.session
    if exec_id in s.execs:
        return exec_id
    status, info = await ctx.api("GET", f"/exec/{qpath(exec_id)}/json")
    if status == 200:
        status, container = await ctx.api("GET", f"/containers/{info.get('ContainerID', '')}/json")
        if status == 200 and s.owns(container):
            s.execs[info["ID"]] = container["Id"]
            return info["ID"]
    raise pol.Refused(f"No such exec instance: {exec_id}", status=404)


# --- system --------------------------------------------------------------------------------------------------


@route("GET", r"/_ping")
async def h_ping(ctx: Ctx) -> None:
    response = await ctx.upstream.request(ctx.req.method, "/_ping")
    headers = response_headers(response.headers)
    headers.set("Builder-Version", "1")
    headers.remove("Swarm")
    await ctx.client.send(
        response.status,
        response.body,
        headers=headers,
        content_type=response.headers.get("content-type") or "text/plain; charset=utf-8",
        head_only=ctx.req.method == "HEAD",
    )


@route("HEAD", r"/_ping")
async def h_ping_head(ctx: Ctx) -> None:
    await h_ping(ctx)


@route("GET", r"/version")
async def h_version(ctx: Ctx) -> None:
    await forward(ctx)


@route("GET", r"/info")
async def h_info(ctx: Ctx) -> None:
    s = ctx.session
    status, info = await ctx.api("GET", "/info")
    if status != 200:
        raise pol.Refused("the Docker engine is not available", status=503)
    containers = await s.session_containers(ctx.upstream)
    _, images = await ctx.api("GET", "/images/json")
    visible = [i for i in images or [] if ctx.names.image_summary_out(i)]
    running = sum(1 for c in containers if c.get("State") == "running")
    paused = sum(1 for c in containers if c.get("State") == "paused")
    keep = (
        "Driver",
        "MemoryLimit",
        "SwapLimit",
        "KernelMemory",
        "KernelMemoryTCP",
        "CpuCfsPeriod",
        "CpuCfsQuota",
        "CPUShares",
        "CPUSet",
        "PidsLimit",
        "IPv4Forwarding",
        "BridgeNfIptables",
        "BridgeNfIp6tables",
        "OomKillDisable",
        "LoggingDriver",
        "CgroupDriver",
        "CgroupVersion",
        "KernelVersion",
        "OSType",
        "Architecture",
        "ServerVersion",
        "Isolation",
        "InitBinary",
        "ContainerdCommit",
        "RuncCommit",
        "InitCommit",
        "SecurityOptions",
        "ExperimentalBuild",
        "IndexServerAddress",
        "SystemTime",
    )
    out = {k: info.get(k) for k in keep if k in info}
    runtime = s.limits.runtime or info.get("DefaultRuntime") or "runc"
    out.update(
        {
            "ID": f"BERTH:{s.hex[:4].upper()}:{s.hex[4:8].upper()}",
            "Name": "berth-lab",
            "Containers": len(containers),
            "ContainersRunning": running,
            "ContainersPaused": paused,
            "ContainersStopped": len(containers) - running - paused,
            "Images": len(visible),
            "DriverStatus": [],
            "Debug": False,
            "NFd": 0,
            "NGoroutines": 0,
            "NEventsListener": 0,
            "OperatingSystem": "Berth lab (Docker API gateway)",
            "OSVersion": "",
            "NCPU": max(1, int(s.limits.cpus)),
            "MemTotal": s.limits.memory_bytes,
            "DockerRootDir": "/var/lib/docker",
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Labels": [],
            "Runtimes": {runtime: {"path": runtime}},
            "DefaultRuntime": runtime,
            "LiveRestoreEnabled": False,
            "Swarm": {
                "NodeID": "",
                "NodeAddr": "",
                "LocalNodeState": "inactive",
                "ControlAvailable": False,
                "Error": "",
                "RemoteManagers": None,
            },
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "null"],
                "Authorization": None,
                "Log": ["json-file"],
            },
            "RegistryConfig": {
                "AllowNondistributableArtifactsCIDRs": [],
                "AllowNondistributableArtifactsHostnames": [],
                "InsecureRegistryCIDRs": [],
                "IndexConfigs": {},
                "Mirrors": [s.policy["registry_mirror"]] if s.policy.get("registry_mirror") else [],
            },
            "GenericResources": None,
            "ClusterStore": "",
            "ClusterAdvertise": "",
            "DefaultAddressPools": None,
            "Warnings": [],
        }
    )
    await ctx.client.send_json(200, out)


@route("GET", r"/system/df")
async def h_df(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    status, data = await ctx.api("GET", "/system/df")
    if status != 200:
        raise pol.Refused("the Docker engine is not available", status=503)
    images = [x for x in (names.image_summary_out(i) for i in data.get("Images") or []) if x]
    containers = [names.container_summary_out(c) for c in data.get("Containers") or [] if s.owns(c)]
    volumes = [
        names.volume_out(v)
        for v in data.get("Volumes") or []
        if (v.get("Labels") or {}).get(n.LABEL_SESSION) == s.session_id
    ]
    await ctx.client.send_json(
        200,
        {
            "LayersSize": sum(i.get("Size") or 0 for i in images),
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": [],
        },
    )


@route("GET", r"/events")
async def h_events(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    filters = ctx.filters()
    mapped: dict[str, list[str]] = {}
    for key, values in filters.items():
        if key == "container":
            mapped[key] = [v if n.HEX_RE.match(v) else names.container_host(v) for v in values]
        elif key == "image":
            out = []
            for v in values:
                try:
                    out.append(names.image_host(n.parse_image_ref(v)))
                except n.NameError_:
                    out.append(v)
            mapped[key] = out
        elif key == "label":
            mapped[key] = [v for v in values if not v.startswith(n.LABEL_PREFIX)]
        elif key in ("type", "event", "since", "until"):
            mapped[key] = values
    mapped.setdefault("label", []).append(f"{n.LABEL_SESSION}={s.session_id}")
    query = dict(ctx.req.query)
    query["filters"] = [json.dumps(mapped)]
    await forward(ctx, query=query, lines_out=names.event_out)


@route("POST", r"/auth")
async def h_auth(ctx: Ctx) -> None:
    raise pol.Refused("registry logins are not available in this lab (there is no registry to log in to)")


# --- containers -------------------------------------------------------------------------------------------


def _map_container_filters(ctx: Ctx, filters: dict) -> dict:
    names = ctx.names
    out: dict[str, list[str]] = {}
    for key, values in filters.items():
        if key == "name":
            mapped = []
            for v in values:
                if v.startswith("^"):
                    mapped.append("^/?" + re.escape(names.prefix + "-") + v[1:].lstrip("/"))
                else:
                    mapped.append(v)
            out[key] = mapped
        elif key == "label":
            out[key] = [v for v in values if not v.startswith(n.LABEL_PREFIX)]
        elif key in ("network",):
            out[key] = [names.network_host(v) if n.NAME_RE.match(v) else v for v in values]
        elif key == "volume":
            out[key] = [names.volume_host(v) if not v.startswith("/") and n.NAME_RE.match(v) else v for v in values]
        elif key in ("publish", "expose"):
            continue  # nothing is published on the host; applied below on what the student asked
        else:
            out[key] = values
    out.setdefault("label", []).extend(
        [f"{n.LABEL_SESSION}={ctx.session.session_id}", f"{n.LABEL_KIND}={n.KIND_STUDENT}"]
    )
    return out


@route("GET", r"/containers/json")
async def h_containers_list(ctx: Ctx) -> None:
    names = ctx.names
    filters = ctx.filters()
    mapped = _map_container_filters(ctx, filters)
    for key in ("ancestor",):
        if key in mapped:
            refs = []
            for value in mapped[key]:
                try:
                    _, host, found = await resolve_image(ctx, value)
                    refs.append(found["Id"])
                except pol.Refused:
                    refs.append("sha256:" + "0" * 64)
            mapped[key] = refs
    for key in ("before", "since"):
        if key in mapped:
            mapped[key] = [(await resolve_container(ctx, v, data=False))[0] for v in mapped[key]]
    query = dict(ctx.req.query)
    query["filters"] = [json.dumps(mapped)]
    publish = filters.get("publish", [])

    def out(items):
        result = [names.container_summary_out(i) for i in items or []]
        if publish:
            result = [
                c
                for c in result
                if any(str(p.get("PublicPort")) in [v.split("/")[0] for v in publish] for p in c.get("Ports") or [])
            ]
        return result

    await forward(ctx, query=query, json_out=out)


@route("POST", r"/containers/create")
async def h_container_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    body = await ctx.json_body()
    requested = (ctx.req.q("name") or "").lstrip("/")
    student_name = requested or n.random_name()
    try:
        host_name = names.container_host(student_name)
    except n.NameError_ as exc:
        raise pol.Refused(str(exc), status=400) from exc
    refs = pol.validate_create(body, limits=s.limits)
    _, image_host, image = await resolve_image(ctx, refs.image)
    resolved = pol.Resolved(image=image_host, image_config=image.get("Config") or {})
    for ref in refs.containers:
        cid, data = await resolve_container(ctx, ref)
        resolved.containers[ref] = (cid, data["Name"])
    for net in refs.networks:
        if net in ("bridge", "default"):
            resolved.networks[net] = s.lab_network
        else:
            resolved.networks[net] = (await resolve_network(ctx, net))["Name"]
    for vol in refs.volumes:
        resolved.volumes[vol] = await ensure_volume(ctx, vol)
    resolved.ports = pol.plan_ports(body, resolved.image_config, s.forwarders.used())
    for path in refs.binds:
        if path not in resolved.binds:
            resolved.binds[path] = await s.make_bind(ctx.upstream, path)
    new_body, warnings = pol.rewrite_create(
        body, names=names, limits=s.limits, resolved=resolved, student_name=student_name
    )
    query = {"name": [host_name]}
    if ctx.req.q("platform"):
        query["platform"] = [ctx.req.q("platform")]

    def out(doc):
        if isinstance(doc, dict) and doc.get("Id"):
            s.containers[doc["Id"]] = resolved.ports
            doc["Warnings"] = list(doc.get("Warnings") or []) + warnings
        return doc

    await forward(ctx, query=query, body=json.dumps(new_body).encode(), json_out=out)


@route("GET", r"/containers/(?P<ref>[^/]+)/json")
async def h_container_inspect(ctx: Ctx, ref: str) -> None:
    cid, data = await resolve_container(ctx, ref)
    if ctx.req.qbool("size"):
        await forward(ctx, path=f"/containers/{cid}/json", json_out=ctx.names.container_inspect_out)
    else:
        await ctx.client.send_json(200, ctx.names.container_inspect_out(data))


async def _start_forwarders(ctx: Ctx, cid: str) -> None:
    status, data = await ctx.api("GET", f"/containers/{cid}/json")
    if status != 200 or not (data.get("State") or {}).get("Running"):
        return
    try:
        await ctx.session.forwarders.start_for(ctx.upstream, data)
    except PortsError:
        await ctx.api("POST", f"/containers/{cid}/kill")
        raise


@route("POST", r"/containers/(?P<ref>[^/]+)/start")
async def h_container_start(ctx: Ctx, ref: str) -> None:
    s = ctx.session
    cid, data = await resolve_container(ctx, ref, data=False)
    if cid in s.containers:
        ports = s.containers[cid]  # made here: its port label is known
    else:
        if data is None:
            cid, data = await resolve_container(ctx, cid)
        ports = n.json_label((data.get("Config") or {}).get("Labels"), n.LABEL_PORTS, {})
    clash = s.forwarders.conflict(cid, ports)
    if clash:
        if data is None:
            cid, data = await resolve_container(ctx, cid)
        raise pol.Refused(
            f"driver failed programming external connectivity on endpoint "
            f"{ctx.names.container_student(data['Name'])}: Bind for 0.0.0.0:{clash[1]} failed: "
            "port is already allocated",
            status=500,
        )
    if not ports:
        await forward(ctx, path=f"/containers/{cid}/start")
        return
    # Start, set up the forwarders, then answer: `curl` right after `docker run -d -p` must work.
    response = await ctx.upstream.request("POST", f"/containers/{cid}/start")
    if response.status in (204, 304):
        await _start_forwarders(ctx, cid)
        await ctx.client.send(response.status, b"", content_type=None)
    else:
        raise pol.Refused(response.message, status=response.status)


@route("POST", r"/containers/(?P<ref>[^/]+)/restart")
async def h_container_restart(ctx: Ctx, ref: str) -> None:
    cid, data = await resolve_container(ctx, ref)
    await ctx.session.forwarders.stop_for(cid)
    response = await ctx.upstream.request("POST", f"/containers/{cid}/restart", query=dict(ctx.req.query))
    if response.status == 204:
        await _start_forwarders(ctx, cid)
        await ctx.client.send(204, b"", content_type=None)
    else:
        raise pol.Refused(response.message, status=response.status)


def _container_op(op: str, *, stop_forwarders: bool = False, lines: bool = False):
    async def handler(ctx: Ctx, ref: str) -> None:
        cid, _ = await resolve_container(ctx, ref, data=False)

        def stats_out(doc):  # stats: the name the student knows
            if isinstance(doc, dict) and isinstance(doc.get("name"), str):
                doc["name"] = "/" + (ctx.names.container_student(doc["name"]) or doc["name"].lstrip("/"))
            return doc

        status = await forward(
            ctx, path=f"/containers/{cid}/{op}" if op else f"/containers/{cid}", lines_out=stats_out if lines else None
        )
        if stop_forwarders and status < 300:
            await ctx.session.forwarders.stop_for(cid)

    handler.__name__ = f"h_container_{op or 'delete'}"
    return handler


for _op, _method, _kw in (
    ("stop", "POST", {"stop_forwarders": True}),
    ("kill", "POST", {"stop_forwarders": True}),
    ("pause", "POST", {}),
    ("unpause", "POST", {}),
    ("resize", "POST", {}),
    ("wait", "POST", {}),
    ("attach", "POST", {}),
    ("logs", "GET", {}),
    ("top", "GET", {}),
    ("changes", "GET", {}),
    ("export", "GET", {}),
    ("stats", "GET", {"lines": True}),
    ("archive", "GET", {}),
    ("archive", "HEAD", {}),
    ("archive", "PUT", {}),
):
    route(_method, rf"/containers/(?P<ref>[^/]+)/{_op}")(_container_op(_op, **_kw))


@route("DELETE", r"/containers/(?P<ref>[^/]+)")
async def h_container_delete(ctx: Ctx, ref: str) -> None:
    s = ctx.session
    cid, _ = await resolve_container(ctx, ref, data=False)
    status = await forward(ctx, path=f"/containers/{cid}")
    if status < 300:
        await s.forwarders.stop_for(cid)
        s.containers.pop(cid, None)
        s.schedule_gc()


@route("POST", r"/containers/(?P<ref>[^/]+)/rename")
async def h_container_rename(ctx: Ctx, ref: str) -> None:
    cid, _ = await resolve_container(ctx, ref, data=False)
    new = (ctx.req.q("name") or "").lstrip("/")
    try:
        host = ctx.names.container_host(new)
    except n.NameError_ as exc:
        raise pol.Refused(str(exc), status=400) from exc
    await forward(ctx, path=f"/containers/{cid}/rename", query={"name": [host]})


@route("POST", r"/containers/(?P<ref>[^/]+)/update")
async def h_container_update(ctx: Ctx, ref: str) -> None:
    cid, _ = await resolve_container(ctx, ref, data=False)
    body, warnings, _ = pol.rewrite_update(await ctx.json_body(), limits=ctx.session.limits)

    def out(doc):
        if isinstance(doc, dict):
            doc["Warnings"] = list(doc.get("Warnings") or []) + warnings
        return doc

    await forward(ctx, path=f"/containers/{cid}/update", body=json.dumps(body).encode(), json_out=out)


@route("POST", r"/containers/(?P<ref>[^/]+)/exec")
async def h_exec_create(ctx: Ctx, ref: str) -> None:
    s = ctx.session
    cid, _ = await resolve_container(ctx, ref, data=False)
    body = pol.validate_exec(await ctx.json_body())

    def out(doc):
        if isinstance(doc, dict) and doc.get("Id"):
            s.execs[doc["Id"]] = cid
        return doc

    await forward(ctx, path=f"/containers/{cid}/exec", body=json.dumps(body).encode(), json_out=out)


@route("GET", r"/containers/(?P<ref>[^/]+)/attach/ws")
async def h_attach_ws(ctx: Ctx, ref: str) -> None:
    raise pol.Refused("attaching over a WebSocket is not available through the lab's Docker API")


@route("POST", r"/containers/prune")
async def h_containers_prune(ctx: Ctx) -> None:
    filters = ctx.filters()
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={ctx.session.session_id}",
        f"{n.LABEL_KIND}={n.KIND_STUDENT}",
    ]
    query = dict(ctx.req.query)
    query["filters"] = [json.dumps(filters)]
    await forward(ctx, query=query)
    ctx.session.schedule_gc()


@route("POST", r"/exec/(?P<exec_id>[^/]+)/start")
async def h_exec_start(ctx: Ctx, exec_id: str) -> None:
    exec_id = await resolve_exec(ctx, exec_id)
    await forward(ctx, path=f"/exec/{exec_id}/start")


@route("POST", r"/exec/(?P<exec_id>[^/]+)/resize")
async def h_exec_resize(ctx: Ctx, exec_id: str) -> None:
    exec_id = await resolve_exec(ctx, exec_id)
    await forward(ctx, path=f"/exec/{exec_id}/resize")


@route("GET", r"/exec/(?P<exec_id>[^/]+)/json")
async def h_exec_inspect(ctx: Ctx, exec_id: str) -> None:
    exec_id = await resolve_exec(ctx, exec_id)
    await forward(ctx, path=f"/exec/{exec_id}/json")


# --- images ---------------------------------------------------------------------------------------------


@route("GET", r"/images/json")
async def h_images_list(ctx: Ctx) -> None:
    names = ctx.names
    filters = ctx.filters()
    reference = filters.pop("reference", [])
    if "label" in filters:
        filters["label"] = [v for v in filters["label"] if not v.startswith(n.LABEL_PREFIX)]
    for key in ("before", "since"):
        if key in filters:
            filters[key] = [(await resolve_image(ctx, v))[2]["Id"] for v in filters[key]]
    query = dict(ctx.req.query)
    if filters:
        query["filters"] = [json.dumps(filters)]
    else:
        query.pop("filters", None)

    def matches(tags: list[str]) -> bool:
        for pattern in reference:
            for tag in tags:
                repo = tag.rsplit(":", 1)[0]
                if fnmatch.fnmatchcase(tag, pattern) or fnmatch.fnmatchcase(repo, pattern):
                    return True
        return False

    def out(items):
        result = [x for x in (names.image_summary_out(i) for i in items or []) if x]
        if reference:
            result = [i for i in result if matches(i.get("RepoTags") or [])]
        return result

    await forward(ctx, query=query, json_out=out)


@route("GET", r"/images/(?P<ref>.+)/json")
async def h_image_inspect(ctx: Ctx, ref: str) -> None:
    _, _, data = await resolve_image(ctx, ref)
    await ctx.client.send_json(200, ctx.names.image_inspect_out(data))


@route("GET", r"/images/(?P<ref>.+)/history")
async def h_image_history(ctx: Ctx, ref: str) -> None:
    _, _, data = await resolve_image(ctx, ref)

    def out(items):
        for item in items or []:
            item["Tags"] = ctx.names.image_tags_out(item.get("Tags")) or None
        return items

    await forward(ctx, path=f"/images/{data['Id']}/history", json_out=out)


@route("POST", r"/images/(?P<ref>.+)/tag")
async def h_image_tag(ctx: Ctx, ref: str) -> None:
    names = ctx.names
    _, _, data = await resolve_image(ctx, ref)
    repo = ctx.req.q("repo") or ""
    tag = ctx.req.q("tag") or ""
    try:
        target = n.parse_image_ref(repo + (f":{tag}" if tag else ""))
    except n.NameError_ as exc:
        raise pol.Refused(str(exc), status=400) from exc
    host_repo = names.image_repo_host(target)
    await forward(ctx, path=f"/images/{data['Id']}/tag", query={"repo": [host_repo], "tag": [target.tag or "latest"]})


@route("DELETE", r"/images/(?P<ref>.+)")
async def h_image_delete(ctx: Ctx, ref: str) -> None:
    names = ctx.names
    kind, host, data = await resolve_image(ctx, ref)
    if kind == "base":
        raise pol.Refused(f"{ref} is one of the platform's images and cannot be removed from this lab")
    if kind == "id" and any(names.is_base_tag(t) for t in data.get("RepoTags") or []):
        raise pol.Refused(
            f"image {ref} is one of the platform's images and cannot be removed from this lab "
            "(remove your own tag of it by name)"
        )
    target = host if kind == "session" else data["Id"]

    def out(items):
        for item in items or []:
            if "Untagged" in item:
                item["Untagged"] = names.scrub(item["Untagged"])
        return items

    await forward(ctx, path=f"/images/{qpath(target)}", json_out=out)


@route("POST", r"/images/create")
async def h_image_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    source = ctx.req.q("fromSrc")
    if source is not None:
        if source != "-":
            raise pol.Refused("importing from a URL is not available in this lab")
        query = dict(ctx.req.query)
        repo = ctx.req.q("repo")
        if repo:
            ref = n.parse_image_ref(repo + (f":{ctx.req.q('tag')}" if ctx.req.q("tag") else ""))
            query["repo"] = [names.image_repo_host(ref)]
            query["tag"] = [ref.tag or "latest"]
        query["changes"] = list(query.get("changes", [])) + [build_mod.label_line(dict(s.limits.labels))]
        await forward(ctx, query=query, lines_out=_progress_out(names))
        return
    image = ctx.req.q("fromImage") or ""
    tag = ctx.req.q("tag") or ""
    full = image if (not tag or "@" in image) else f"{image}@{tag}" if tag.startswith("sha256:") else f"{image}:{tag}"
    try:
        ref = n.parse_image_ref(full)
    except n.NameError_ as exc:
        raise pol.Refused(str(exc), status=400) from exc
    if names.is_base(ref):
        await ctx.body_bytes()
        body = (
            json.dumps({"status": f"{ref.tag or 'latest'}: Pulling from {ref.path}", "id": ref.tag or "latest"})
            + "\n"
            + json.dumps({"status": f"Status: Image is up to date for {ref.familiar}"})
            + "\n"
        ).encode()
        await ctx.client.send(200, body)
        return
    mirror = s.policy.get("registry_mirror") or ""
    if mirror and not ref.domain:
        await _pull_from_mirror(ctx, ref, mirror)
        return
    allowed = sorted(names.base)
    raise pol.Refused(
        f"pull access denied for {ref.repo}: this lab cannot download images. Use one of the "
        f"platform's images ({', '.join(allowed)}) or one you built with docker build"
    )


async def _pull_from_mirror(ctx: Ctx, ref: n.ImageRef, mirror: str) -> None:
    """Pull `ref` from the policy's registry mirror, then keep it only under the session's name."""
    names = ctx.names
    mirror = mirror.split("://", 1)[-1].rstrip("/")
    source = f"{mirror}/{ref.path if '/' in ref.path else 'library/' + ref.path}"
    tag = ref.tag or "latest"
    await ctx.body_bytes()
    response = await ctx.upstream.request("POST", "/images/create", query={"fromImage": source, "tag": tag})
    if response.status >= 400:
        raise pol.Refused(f"pull from the lab's registry mirror failed: {response.message}", status=response.status)
    errors = [json.loads(line).get("error") for line in response.body.splitlines() if b'"error"' in line]
    if errors:
        raise pol.Refused(f"pull from the lab's registry mirror failed: {errors[-1]}", status=404)
    host = names.image_host(ref)
    await ctx.upstream.request(
        "POST", f"/images/{qpath(source + ':' + tag)}/tag", query={"repo": names.image_repo_host(ref), "tag": tag}
    )
    await ctx.upstream.request("DELETE", f"/images/{qpath(source + ':' + tag)}", query={"noprune": "1"})
    body = (
        json.dumps({"status": f"Pulled {ref.familiar} from the lab's registry mirror"})
        + "\n"
        + json.dumps({"status": f"Status: Downloaded newer image for {ref.familiar}"})
        + "\n"
    ).encode()
    log.info("session %s pulled %s as %s", ctx.session.hex, source, host)
    await ctx.client.send(200, body)


def _progress_out(names: n.Names):
    def out(doc):
        if isinstance(doc, dict):
            for key in ("status", "stream", "error", "id"):
                if isinstance(doc.get(key), str):
                    doc[key] = names.scrub(doc[key])
            if isinstance(doc.get("errorDetail"), dict) and isinstance(doc["errorDetail"].get("message"), str):
                doc["errorDetail"]["message"] = names.scrub(doc["errorDetail"]["message"])
        return doc

    return out


@route("POST", r"/images/(?P<ref>.+)/push")
async def h_image_push(ctx: Ctx, ref: str) -> None:
    raise pol.Refused("pushing images is not available in this lab (there is no registry to push to)")


@route("GET", r"/images/search")
async def h_image_search(ctx: Ctx) -> None:
    raise pol.Refused("searching a registry is not available in this lab")


@route("POST", r"/images/prune")
async def h_images_prune(ctx: Ctx) -> None:
    filters = ctx.filters()
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={ctx.session.session_id}"
    ]
    query = dict(ctx.req.query)
    query["filters"] = [json.dumps(filters)]

    def out(doc):
        for item in (doc or {}).get("ImagesDeleted") or []:
            if "Untagged" in item:
                item["Untagged"] = ctx.names.scrub(item["Untagged"])
        return doc

    await forward(ctx, query=query, json_out=out)


@route("GET", r"/images/(?P<ref>.+)/get")
async def h_image_save(ctx: Ctx, ref: str) -> None:
    _, host, _ = await resolve_image(ctx, ref)
    await forward(ctx, path=f"/images/{qpath(host)}/get")


@route("GET", r"/images/get")
async def h_images_save(ctx: Ctx) -> None:
    hosts = [(await resolve_image(ctx, ref))[1] for ref in ctx.req.query.get("names", [])]
    await forward(ctx, query={"names": hosts})


@route("POST", r"/images/load")
async def h_images_load(ctx: Ctx) -> None:
    raise pol.Refused("docker load is not available in this lab; build images with docker build")


@route("POST", r"/commit")
async def h_commit(ctx: Ctx) -> None:
    names = ctx.names
    cid, _ = await resolve_container(ctx, ctx.req.q("container") or "", data=False)
    query = dict(ctx.req.query)
    query["container"] = [cid]
    repo = ctx.req.q("repo")
    if repo:
        ref = n.parse_image_ref(repo + (f":{ctx.req.q('tag')}" if ctx.req.q("tag") else ""))
        query["repo"] = [names.image_repo_host(ref)]
        query["tag"] = [ref.tag or "latest"]
    labels = dict(ctx.session.limits.labels)
    labels[n.LABEL_PLATFORM_IMAGE] = "0"
    query["changes"] = list(query.get("changes", [])) + [build_mod.label_line(labels)]
    body = await ctx.body_bytes()
    await forward(ctx, query=query, body=body or b"{}")


# --- build ----------------------------------------------------------------------------------------------


async def _build_image_ref(ctx: Ctx, ref: str, extra_labels: dict) -> str:
    """The host reference a FROM / COPY --from may use; refuses anything else."""
    names = ctx.names
    try:
        kind, host, data = await resolve_image(ctx, ref)
    except pol.Refused as exc:
        if exc.status == 404:
            raise pol.Refused(
                f"FROM {ref}: this lab cannot download images; use one of the platform's images "
                f"({', '.join(sorted(names.base))}) or one you built"
            ) from exc
        raise
    config = data.get("Config") or {}
    for trigger in config.get("OnBuild") or []:
        if "--from" in trigger.lower():
            words = trigger.split()
            for word in words:
                if word.lower().startswith("--from="):
                    value = word.split("=", 1)[1]
                    if not (names.own_tag(value) or names.is_base_tag(value)):
                        raise pol.Refused(f"{ref} has an ONBUILD COPY --from={value} this lab cannot use")
    # Platform labels a base carries that must not describe the session's image (the rest are inert).
    blank = {
        k: ("0" if k == n.LABEL_PLATFORM_IMAGE else "")
        for k in (config.get("Labels") or {})
        if k in BLANKED_BASE_LABELS
    }
    if kind == "base":
        host = ref  # the name as the student wrote it: the engine reads it the same way we did
    if blank:
        extra_labels[host] = blank
    return host


@route("POST", r"/build")
async def h_build(ctx: Ctx) -> None:
    s, names, up = ctx.session, ctx.names, ctx.upstream
    query = pol.rewrite_build_query(ctx.req.query, names=names, limits=s.limits)
    cache = query.pop("_cachefrom_student", [])
    hosts = []
    for ref in cache:
        try:
            hosts.append((await resolve_image(ctx, ref))[1])
        except pol.Refused:
            continue
    if hosts:
        query["cachefrom"] = [json.dumps(hosts)]
    try:
        build_args = json.loads(ctx.req.q("buildargs") or "{}") or {}
    except ValueError as exc:
        raise pol.Refused("buildargs must be a JSON object", status=400) from exc
    labels = dict(s.limits.labels)

    async def transform(data: bytes) -> bytes:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise pol.Refused("the Dockerfile is not UTF-8 text", status=400) from exc
        plan = build_mod.plan_dockerfile(text, build_args=build_args)
        mapping, extra = {}, {}
        for ref in plan.image_refs:
            mapping[ref] = await _build_image_ref(ctx, ref, extra)
        return build_mod.render_dockerfile(plan, mapping, labels=labels, extra_labels=extra).encode()

    # The Dockerfile's images are looked up while the context streams on the upstream connection.
    ctx.lookups = s.upstream()
    headers = Headers(
        [
            ("Host", "docker"),
            ("Content-Type", ctx.req.headers.get("content-type") or "application/x-tar"),
            ("Transfer-Encoding", "chunked"),
        ]
    )
    await up.send_head("POST", ctx.req.build_target(query=query), headers)
    out = ChunkedWriter(up.writer)
    rewriter = build_mod.TarRewriter(build_mod.dockerfile_names(ctx.req.q("dockerfile") or ""))
    decompress = build_mod.Decompressor()
    total = 0

    async def emit(items):
        for item in items:
            if isinstance(item, build_mod.Captured):
                await out.write(rewriter.render(item, await transform(item.data)))
            else:
                await out.write(item)

    try:
        async for chunk in ctx.body_iter():
            total += len(chunk)
            if total > MAX_CONTEXT:
                raise pol.Refused(f"the build context is larger than {MAX_CONTEXT // (1024 * 1024)}MiB")
            await emit(rewriter.feed(decompress.feed(chunk)))
        await emit(rewriter.feed(decompress.flush()))
        if not rewriter.found and not rewriter.ended:
            raise pol.Refused("the build context is not a tar archive", status=400)
        await emit(rewriter.finish())
        await out.end()
    except pol.Refused:
        up.close()  # the engine drops the half-sent build
        ctx.body_done = False
        raise
    finally:
        ctx.lookups.close()
        ctx.lookups = None
    await relay(ctx, lines_out=_progress_out(names), method="POST")


@route("POST", r"/build/prune")
async def h_build_prune(ctx: Ctx) -> None:
    await ctx.body_bytes()
    await ctx.client.send_json(200, {"CachesDeleted": [], "SpaceReclaimed": 0})


@route("POST", r"/session")
async def h_session(ctx: Ctx) -> None:
    raise pol.Refused("BuildKit is not available in this lab; build with the classic builder (DOCKER_BUILDKIT=0)")


# --- networks -------------------------------------------------------------------------------------------


@route("GET", r"/networks")
async def h_networks_list(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    filters = ctx.filters()
    wanted_names = filters.pop("name", [])
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={s.session_id}"
    ]
    status, own = await ctx.api("GET", "/networks", query={"filters": json.dumps(filters)})
    builtin_filters = {k: v for k, v in filters.items() if k != "label"}
    builtin_filters["type"] = ["builtin"]
    _, builtin = await ctx.api("GET", "/networks", query={"filters": json.dumps(builtin_filters)})
    items = [names.network_out(x) for x in (own or []) if status == 200]
    if not [v for v in ctx.filters().get("label", [])]:
        items += [names.network_out(x) for x in (builtin or []) if x.get("Name") in ("none", "host")]
    if wanted_names:
        items = [x for x in items if any(w in x["Name"] for w in wanted_names)]
    await ctx.client.send_json(200, items)


@route("GET", r"/networks/(?P<ref>[^/]+)")
async def h_network_inspect(ctx: Ctx, ref: str) -> None:
    await ctx.client.send_json(200, ctx.names.network_out(await resolve_network(ctx, ref)))


@route("POST", r"/networks/create")
async def h_network_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    body, student = pol.rewrite_network_create(await ctx.json_body(), names=names, limits=s.limits)
    existing = [net for net in await s.session_networks(ctx.upstream) if net["Name"] != s.lab_network]
    if any(net["Name"] == body["Name"] for net in existing):
        raise pol.Refused(f"network with name {student} already exists", status=409)
    if len(existing) >= pol.MAX_NETWORKS:
        raise pol.Refused(f"a lab can have at most {pol.MAX_NETWORKS} networks; remove one first")
    status, created = await ctx.api("POST", "/networks/create", body=body)
    if status >= 400:
        raise pol.Refused(names.scrub((created or {}).get("message", "cannot create the network")), status=status)
    lab = await s.lab_info(ctx.upstream, fresh=True)
    if lab is not None:
        # The lab shell reaches the containers on every network of the session.
        await ctx.api("POST", f"/networks/{created['Id']}/connect", body={"Container": lab["id"]})
        s.forget_lab()
    await ctx.client.send_json(201, {"Id": created["Id"], "Warning": created.get("Warning", "")})


async def _remove_network(ctx: Ctx, net: dict) -> tuple[bool, str]:
    s = ctx.session
    if net["Name"] == s.lab_network or net["Name"] in ("none", "host"):
        return False, f"{ctx.names.network_student(net['Name'])} is a pre-defined network and cannot be removed"
    status, data = await ctx.api("GET", f"/networks/{net['Id']}")
    if status != 200:
        return False, f"network {ctx.names.network_student(net['Name'])} not found"
    lab = await s.lab_info(ctx.upstream)
    others = [cid for cid in (data.get("Containers") or {}) if not (lab and cid == lab["id"])]
    if others:
        return False, (
            f"error while removing network: network {ctx.names.network_student(net['Name'])} "
            f"id {net['Id']} has active endpoints"
        )
    for cid in data.get("Containers") or {}:
        await ctx.api("POST", f"/networks/{net['Id']}/disconnect", body={"Container": cid, "Force": True})
    response = await ctx.upstream.request("DELETE", f"/networks/{net['Id']}")
    s.forget_lab()
    if response.status >= 400:
        return False, response.message
    return True, ""


@route("DELETE", r"/networks/(?P<ref>[^/]+)")
async def h_network_delete(ctx: Ctx, ref: str) -> None:
    net = await resolve_network(ctx, ref)
    ok, message = await _remove_network(ctx, net)
    if not ok:
        raise pol.Refused(message, status=403)
    await ctx.client.send(204, b"", content_type=None)


@route("POST", r"/networks/(?P<ref>[^/]+)/connect")
async def h_network_connect(ctx: Ctx, ref: str) -> None:
    net = await resolve_network(ctx, ref)
    if net["Name"] in ("none", "host"):
        raise pol.Refused(f"connecting containers to {net['Name']} is not available in this lab")
    body = await ctx.json_body()
    cid, data = await resolve_container(ctx, str(body.get("Container") or ""))
    endpoint = {k: v for k, v in (body.get("EndpointConfig") or {}).items() if k not in pol.ENDPOINT_INTERNAL}
    student = ctx.names.container_student(data["Name"])
    aliases = list(endpoint.get("Aliases") or [])
    if student and student not in aliases:
        aliases.append(student)
    endpoint["Aliases"] = aliases
    if endpoint.get("Links"):
        links = []
        for link in endpoint["Links"]:
            name, _, alias = str(link).lstrip("/").partition(":")
            _, other = await resolve_container(ctx, name)
            links.append(f"{other['Name'].lstrip('/')}:{alias or name}")
        endpoint["Links"] = links
    new_body = {"Container": cid, "EndpointConfig": endpoint}
    await forward(ctx, path=f"/networks/{net['Id']}/connect", body=json.dumps(new_body).encode())
    if ctx.session.forwarders.by_port:
        ctx.session.spawn(ctx.session.on_container_event("start", cid))


@route("POST", r"/networks/(?P<ref>[^/]+)/disconnect")
async def h_network_disconnect(ctx: Ctx, ref: str) -> None:
    net = await resolve_network(ctx, ref)
    body = await ctx.json_body()
    cid, _ = await resolve_container(ctx, str(body.get("Container") or ""), data=False)
    new_body = {"Container": cid, "Force": bool(body.get("Force"))}
    await forward(ctx, path=f"/networks/{net['Id']}/disconnect", body=json.dumps(new_body).encode())


@route("POST", r"/networks/prune")
async def h_networks_prune(ctx: Ctx) -> None:
    s = ctx.session
    await ctx.body_bytes()
    removed = []
    for net in await s.session_networks(ctx.upstream):
        if net["Name"] == s.lab_network:
            continue
        ok, _ = await _remove_network(ctx, net)
        if ok:
            removed.append(ctx.names.network_student(net["Name"]))
    await ctx.client.send_json(200, {"NetworksDeleted": removed or None})


# --- volumes --------------------------------------------------------------------------------------------


@route("GET", r"/volumes")
async def h_volumes_list(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    filters = ctx.filters()
    wanted = filters.pop("name", [])
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={s.session_id}"
    ]
    query = {"filters": [json.dumps(filters)]}

    def out(doc):
        volumes = [names.volume_out(v) for v in (doc or {}).get("Volumes") or []]
        if wanted:
            volumes = [v for v in volumes if any(w in v["Name"] for w in wanted)]
        return {"Volumes": volumes, "Warnings": None}

    await forward(ctx, query=query, json_out=out)


@route("POST", r"/volumes/create")
async def h_volume_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    body = pol.rewrite_volume_create(await ctx.json_body(), names=names, limits=s.limits)
    if body.get("Name"):
        status, found = await ctx.api("GET", f"/volumes/{qpath(body['Name'])}")
        if status == 200 and (found.get("Labels") or {}).get(n.LABEL_SESSION) != s.session_id:
            raise pol.Refused(f"volume name {names.volume_student(body['Name'])} is not available", status=409)
    await forward(ctx, path="/volumes/create", body=json.dumps(body).encode(), json_out=names.volume_out)


@route("GET", r"/volumes/(?P<ref>[^/]+)")
async def h_volume_inspect(ctx: Ctx, ref: str) -> None:
    await ctx.client.send_json(200, ctx.names.volume_out(await resolve_volume(ctx, ref)))


@route("DELETE", r"/volumes/(?P<ref>[^/]+)")
async def h_volume_delete(ctx: Ctx, ref: str) -> None:
    volume = await resolve_volume(ctx, ref)
    await forward(ctx, path=f"/volumes/{qpath(volume['Name'])}")


@route("POST", r"/volumes/prune")
async def h_volumes_prune(ctx: Ctx) -> None:
    filters = ctx.filters()
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={ctx.session.session_id}"
    ]
    query = dict(ctx.req.query)
    query["filters"] = [json.dumps(filters)]

    def out(doc):
        if isinstance(doc, dict) and doc.get("VolumesDeleted"):
            doc["VolumesDeleted"] = [ctx.names.volume_student(v) or v for v in doc["VolumesDeleted"]]
        return doc

    await forward(ctx, query=query, json_out=out)


# --- what a lab does not have ------------------------------------------------------------------------------

for _prefix in ("swarm", "nodes", "services", "tasks", "secrets", "configs"):
    for _method in ("GET", "POST", "DELETE"):

        @route(_method, rf"/{_prefix}(?:/.*)?")
        async def h_swarm(ctx: Ctx) -> None:
            raise pol.Refused("swarm mode is not available in this lab")


for _method in ("GET", "POST", "DELETE"):

    @route(_method, r"/plugins(?:/.*)?")
    async def h_plugins(ctx: Ctx) -> None:
        raise pol.Refused("plugins are not available in this lab")


@route("GET", r"/distribution/.*")
async def h_distribution(ctx: Ctx) -> None:
    raise pol.Refused("registry lookups are not available in this lab")
