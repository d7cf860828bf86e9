"""Containers: list, create, inspect, lifecycle, logs and streams, update, rename, remove, commit."""

from __future__ import annotations

import json
import re

from .. import names as n
from .. import policy as pol
from .. import schemas
from ..ports import PortsError
from ..upstream import qpath
from . import resolve, uploads, verify
from .core import Ctx, hijacks, route


def _map_filters(ctx: Ctx, filters: dict) -> dict:
    names = ctx.names
    out: dict[str, list[str]] = {}
    for key, values in filters.items():
        if key == "name":
            out[key] = [
                "^/?" + re.escape(names.prefix + "-") + v[1:].lstrip("/") if v.startswith("^") else v for v in values
            ]
        elif key == "label":
            out[key] = [v for v in values if not v.startswith(n.LABEL_PREFIX)]
        elif key == "network":
            out[key] = [names.network_host(v) if n.NAME_RE.match(v) else v for v in values]
        elif key == "volume":
            out[key] = [names.volume_host(v) if not v.startswith("/") and n.NAME_RE.match(v) else v for v in values]
        elif key in ("publish", "expose"):
            continue  # nothing is published on the host; applied below on what the student asked
        elif key in ("id", "status", "health", "exited", "isolation", "is-task", "ancestor", "before", "since"):
            out[key] = values
    out.setdefault("label", []).extend(
        [f"{n.LABEL_SESSION}={ctx.session.session_id}", f"{n.LABEL_KIND}={n.KIND_STUDENT}"]
    )
    return out


@route("GET", r"/containers/json")
async def containers_list(ctx: Ctx) -> None:
    await ctx.no_body()
    names = ctx.names
    filters = ctx.filters()
    mapped = _map_filters(ctx, filters)
    if "ancestor" in mapped:
        refs = []
        for value in mapped["ancestor"]:
            try:
                refs.append((await resolve.image(ctx, value))[2]["Id"])
            except pol.Refused:
                refs.append("sha256:" + "0" * 64)
        mapped["ancestor"] = refs
    for key in ("before", "since"):
        if key in mapped:
            mapped[key] = [(await resolve.container(ctx, v, data=False))[0] for v in mapped[key]]
    query = {"filters": json.dumps(mapped), **ctx.pick(all="bool", limit="int", size="bool")}
    publish = filters.get("publish", [])

    def out(items):
        result = [names.container_summary_out(i) for i in items or []]
        if publish:
            wanted = [v.split("/")[0] for v in publish]
            result = [c for c in result if any(str(p.get("PublicPort")) in wanted for p in c.get("Ports") or [])]
        return result

    await ctx.call("GET", "/containers/json", query=query, json_out=out)


@route("POST", r"/containers/create", writes=True)
async def container_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    body = await ctx.body(schemas.CONTAINER_CREATE, where="the container config")
    requested = (ctx.q("name") or "").lstrip("/")
    student_name = requested or n.random_name()
    try:
        host_name = names.container_host(student_name)
    except n.BadName as exc:
        raise pol.Refused(str(exc), status=400) from exc
    refs = pol.validate_create(body, limits=s.limits)
    _, image_host, image = await resolve.image(ctx, refs.image)
    resolved = pol.Resolved(image=image_host, image_config=image.get("Config") or {})
    for ref in refs.containers:
        cid, data = await resolve.container(ctx, ref)
        resolved.containers[ref] = (cid, data["Name"])
    for net in refs.networks:
        resolved.networks[net] = (
            s.lab_network if net in ("bridge", "default") else (await resolve.network(ctx, net))["Name"]
        )
    for vol in refs.volumes:
        resolved.volumes[vol] = await _ensure_volume(ctx, vol)
    resolved.ports = pol.plan_ports(body, resolved.image_config, s.forwarders.used())
    for path in refs.binds:
        if path not in resolved.binds:
            resolved.binds[path] = await s.make_bind(ctx.upstream, path)
    new_body, warnings = pol.rewrite_create(
        body, names=names, limits=s.limits, resolved=resolved, student_name=student_name
    )
    status, created = await ctx.api("POST", "/containers/create", query={"name": host_name}, body=new_body)
    if status >= 300 or not isinstance(created, dict) or not created.get("Id"):
        raise pol.Refused(names.scrub((created or {}).get("message") or "cannot create the container"), status=status)
    s.containers[created["Id"]] = resolved.ports
    await verify.container(ctx, created["Id"])
    await ctx.conn.respond_json(201, {"Id": created["Id"], "Warnings": list(created.get("Warnings") or []) + warnings})


async def _ensure_volume(ctx: Ctx, ref: str) -> str:
    """A named volume of the session, made (labelled) when it does not exist yet, as Docker does."""
    host = ctx.names.volume_host(ref)
    status, found = await ctx.api("GET", f"/volumes/{qpath(host)}")
    if status == 200:
        if (found.get("Labels") or {}).get(n.LABEL_SESSION) != ctx.session.session_id:
            raise pol.Refused(f"No such volume: {ref}", status=404)
        return host
    body = {"Name": host, "Driver": "local", "DriverOpts": {}, "Labels": dict(ctx.session.limits.labels)}
    status, found = await ctx.api("POST", "/volumes/create", body=body)
    if status >= 400:
        raise pol.Refused(ctx.names.scrub((found or {}).get("message", "cannot create the volume")), status=status)
    await verify.volume(ctx, host)
    return host


@route("GET", r"/containers/(?P<ref>[^/]+)/json")
async def container_inspect(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    cid, data = await resolve.container(ctx, ref)
    if ctx.qbool("size"):
        await ctx.call("GET", f"/containers/{cid}/json", query={"size": "1"}, json_out=ctx.names.container_inspect_out)
    else:
        await ctx.conn.respond_json(200, ctx.names.container_inspect_out(data))


async def _start_forwarders(ctx: Ctx, cid: str) -> None:
    status, data = await ctx.api("GET", f"/containers/{cid}/json")
    if status != 200 or not (data.get("State") or {}).get("Running"):
        return
    try:
        await ctx.session.forwarders.start_for(ctx.upstream, data)
    except PortsError:
        await ctx.api("POST", f"/containers/{cid}/kill")
        raise


@route("POST", r"/containers/(?P<ref>[^/]+)/start", writes=True)
async def container_start(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    s = ctx.session
    cid, data = await resolve.container(ctx, ref)
    ports = s.containers.get(cid)
    if ports is None:
        ports = n.json_label((data.get("Config") or {}).get("Labels"), n.LABEL_PORTS, {})
    clash = s.forwarders.conflict(cid, ports)
    if clash:
        raise pol.Refused(
            f"driver failed programming external connectivity on endpoint "
            f"{ctx.names.container_student(data['Name'])}: Bind for 0.0.0.0:{clash[1]} failed: "
            "port is already allocated",
            status=500,
        )
    query = ctx.pick(detachKeys="str")
    response = await ctx.upstream.request("POST", f"/containers/{cid}/start", query=query)
    if response.status in (204, 304):
        if ports:  # `curl` right after `docker run -d -p` must work: forwarders first, then answer
            await _start_forwarders(ctx, cid)
        await ctx.conn.respond(response.status, b"", content_type=None)
    else:
        raise pol.Refused(ctx.names.scrub(response.message), status=response.status)


@route("POST", r"/containers/(?P<ref>[^/]+)/restart", writes=True)
async def container_restart(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    cid, _ = await resolve.container(ctx, ref, data=False)
    await ctx.session.forwarders.stop_for(cid)
    response = await ctx.upstream.request("POST", f"/containers/{cid}/restart", query=ctx.pick(t="int"))
    if response.status == 204:
        await _start_forwarders(ctx, cid)
        await ctx.conn.respond(204, b"", content_type=None)
    else:
        raise pol.Refused(ctx.names.scrub(response.message), status=response.status)


# op -> (method, allowed query, stop forwarders after, map stats lines, may hijack, writes)
CONTAINER_OPS = {
    "stop": ("POST", {"t": "int"}, True, False, False, False),
    "kill": ("POST", {"signal": "signal"}, True, False, False, False),
    "pause": ("POST", {}, False, False, False, False),
    "unpause": ("POST", {}, False, False, False, False),
    "resize": ("POST", {"h": "int", "w": "int"}, False, False, False, False),
    "wait": ("POST", {"condition": "str"}, False, False, False, False),
    "attach": (
        "POST",
        {"stream": "bool", "stdin": "bool", "stdout": "bool", "stderr": "bool", "logs": "bool", "detachKeys": "str"},
        False,
        False,
        True,
        False,
    ),
    "logs": (
        "GET",
        {
            "follow": "bool",
            "stdout": "bool",
            "stderr": "bool",
            "since": "time",
            "until": "time",
            "timestamps": "bool",
            "tail": "tail",
            "details": "bool",
        },
        False,
        False,
        False,
        False,
    ),
    "top": ("GET", {"ps_args": "str"}, False, False, False, False),
    "changes": ("GET", {}, False, False, False, False),
    "export": ("GET", {}, False, False, False, False),
    "stats": ("GET", {"stream": "bool", "one-shot": "bool"}, False, True, False, False),
    "archive": ("GET", {"path": "str"}, False, False, False, False),
}


def _container_op(op: str, method: str, allowed: dict, stop_forwarders: bool, stats: bool, hijack: bool):
    async def handler(ctx: Ctx, ref: str) -> None:
        await ctx.no_body()
        cid, _ = await resolve.container(ctx, ref, data=False)

        def stats_out(doc):  # stats: the name the student knows
            if isinstance(doc, dict) and isinstance(doc.get("name"), str):
                doc["name"] = "/" + (ctx.names.container_student(doc["name"]) or doc["name"].lstrip("/"))
            return doc

        status = await ctx.call(
            method,
            f"/containers/{cid}/{op}",
            query=ctx.pick(**allowed),
            lines_out=stats_out if stats else None,
            upgrade=hijack and ctx.req.upgrade,
        )
        if stop_forwarders and status < 300:
            await ctx.session.forwarders.stop_for(cid)

    handler.__name__ = f"container_{op}"
    return hijacks(handler) if hijack else handler


for _op, (_method, _allowed, _stop, _stats, _hijack, _writes) in CONTAINER_OPS.items():
    route(_method, rf"/containers/(?P<ref>[^/]+)/{_op}", writes=_writes)(
        _container_op(_op, _method, _allowed, _stop, _stats, _hijack)
    )


@route("HEAD", r"/containers/(?P<ref>[^/]+)/archive")
async def archive_stat(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    cid, _ = await resolve.container(ctx, ref, data=False)
    await ctx.call("HEAD", f"/containers/{cid}/archive", query=ctx.pick(path="str"))


@route("PUT", r"/containers/(?P<ref>[^/]+)/archive", writes=True)
async def archive_put(ctx: Ctx, ref: str) -> None:
    """docker cp into a container: the tar is re-packed (labs.gateway.tarstream) before the engine sees it."""
    cid, _ = await resolve.container(ctx, ref, data=False)
    query = ctx.pick(path="str", noOverwriteDirNonDir="bool", copyUIDGID="bool")
    async with uploads.repacked(ctx) as packed:
        await ctx.call(
            "PUT", f"/containers/{cid}/archive", query=query, chunks=packed.chunks(), content_type="application/x-tar"
        )


@route("DELETE", r"/containers/(?P<ref>[^/]+)")
async def container_delete(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    s = ctx.session
    cid, _ = await resolve.container(ctx, ref, data=False)
    status = await ctx.call("DELETE", f"/containers/{cid}", query=ctx.pick(v="bool", force="bool"))
    if status < 300:
        await s.forwarders.stop_for(cid)
        s.containers.pop(cid, None)
        s.schedule_gc()


@route("POST", r"/containers/(?P<ref>[^/]+)/rename")
async def container_rename(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    cid, _ = await resolve.container(ctx, ref, data=False)
    try:
        host = ctx.names.container_host((ctx.q("name") or "").lstrip("/"))
    except n.BadName as exc:
        raise pol.Refused(str(exc), status=400) from exc
    await ctx.call("POST", f"/containers/{cid}/rename", query={"name": host})


@route("POST", r"/containers/(?P<ref>[^/]+)/update", writes=True)
async def container_update(ctx: Ctx, ref: str) -> None:
    body = await ctx.body(schemas.UPDATE, where="the update")
    cid, _ = await resolve.container(ctx, ref, data=False)
    new_body, warnings, _ = pol.rewrite_update(body, limits=ctx.session.limits)
    status, doc = await ctx.api("POST", f"/containers/{cid}/update", body=new_body)
    if status >= 300:
        raise pol.Refused(ctx.names.scrub((doc or {}).get("message") or "update failed"), status=status)
    await verify.container(ctx, cid)
    await ctx.conn.respond_json(200, {"Warnings": list((doc or {}).get("Warnings") or []) + warnings})


@route("GET", r"/containers/(?P<ref>[^/]+)/attach/ws")
async def attach_ws(ctx: Ctx, ref: str) -> None:
    raise pol.Refused("attaching over a WebSocket is not available through the lab's Docker API")


@route("POST", r"/containers/prune")
async def containers_prune(ctx: Ctx) -> None:
    await ctx.no_body()
    filters = {k: v for k, v in ctx.filters().items() if k in ("until", "label", "label!")}
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={ctx.session.session_id}",
        f"{n.LABEL_KIND}={n.KIND_STUDENT}",
    ]
    await ctx.call("POST", "/containers/prune", query={"filters": json.dumps(filters)})
    ctx.session.schedule_gc()


@route("POST", r"/commit", writes=True)
async def commit(ctx: Ctx) -> None:
    config = await ctx.body(schemas.CONTAINER_CONFIG, where="the commit config")
    config["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items() if not k.startswith(n.LABEL_PREFIX)}
    if config.get("OnBuild"):
        raise pol.Refused("ONBUILD triggers are not available in committed images in this lab")
    cid, _ = await resolve.container(ctx, ctx.q("container") or "", data=False)
    query = {"container": cid, **ctx.pick(comment="str", author="str", pause="bool"), **ctx.new_image_query()}
    await ctx.call("POST", "/commit", query=query, json_body=config)
