"""Networks: the session's own internal bridges, with no host address on them."""

from __future__ import annotations

import json

from .. import names as n
from .. import policy as pol
from .. import schemas
from . import resolve, verify
from .core import Ctx, route


@route("GET", r"/networks")
async def networks_list(ctx: Ctx) -> None:
    await ctx.no_body()
    s, names = ctx.session, ctx.names
    asked = ctx.filters()
    wanted_names = asked.pop("name", [])
    filters = {k: v for k, v in asked.items() if k in ("driver", "id", "type", "scope", "dangling", "label")}
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={s.session_id}"
    ]
    status, own = await ctx.api("GET", "/networks", query={"filters": json.dumps(filters)})
    builtin_filters = {k: v for k, v in filters.items() if k != "label"}
    builtin_filters["type"] = ["builtin"]
    _, builtin = await ctx.api("GET", "/networks", query={"filters": json.dumps(builtin_filters)})
    items = [names.network_out(x) for x in (own or []) if status == 200]
    if not asked.get("label"):
        items += [names.network_out(x) for x in (builtin or []) if x.get("Name") in ("none", "host")]
    if wanted_names:
        items = [x for x in items if any(w in x["Name"] for w in wanted_names)]
    await ctx.conn.respond_json(200, items)


@route("GET", r"/networks/(?P<ref>[^/]+)")
async def network_inspect(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    await ctx.conn.respond_json(200, ctx.names.network_out(await resolve.network(ctx, ref)))


@route("POST", r"/networks/create", writes=True)
async def network_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    body, student = pol.rewrite_network_create(
        await ctx.body(schemas.NETWORK_CREATE, where="the network config"), names=names, limits=s.limits
    )
    existing = [net for net in await s.session_networks(ctx.upstream) if net["Name"] != s.lab_network]
    if any(net["Name"] == body["Name"] for net in existing):
        raise pol.Refused(f"network with name {student} already exists", status=409)
    if len(existing) >= pol.MAX_NETWORKS:
        raise pol.Refused(f"a lab can have at most {pol.MAX_NETWORKS} networks; remove one first")
    status, created = await ctx.api("POST", "/networks/create", body=body)
    if status >= 400:
        raise pol.Refused(names.scrub((created or {}).get("message", "cannot create the network")), status=status)
    await verify.network(ctx, created["Id"])
    lab = await s.lab_info(ctx.upstream, fresh=True)
    if lab is not None:
        # The lab shell reaches the containers on every network of the session.
        await ctx.api("POST", f"/networks/{created['Id']}/connect", body={"Container": lab["id"]})
        s.forget_lab()
    await ctx.conn.respond_json(201, {"Id": created["Id"], "Warning": created.get("Warning", "")})


async def _remove(ctx: Ctx, net: dict) -> tuple[bool, str]:
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
async def network_delete(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    ok, message = await _remove(ctx, await resolve.network(ctx, ref))
    if not ok:
        raise pol.Refused(message, status=403)
    await ctx.conn.respond(204, b"", content_type=None)


@route("POST", r"/networks/(?P<ref>[^/]+)/connect")
async def network_connect(ctx: Ctx, ref: str) -> None:
    body = await ctx.body(schemas.NETWORK_CONNECT, where="the network connect config")
    net = await resolve.network(ctx, ref)
    if net["Name"] in ("none", "host"):
        raise pol.Refused(f"connecting containers to {net['Name']} is not available in this lab")
    cid, data = await resolve.container(ctx, str(body.get("Container") or ""))
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
            _, other = await resolve.container(ctx, name)
            links.append(f"{other['Name'].lstrip('/')}:{alias or name}")
        endpoint["Links"] = links
    status = await ctx.call(
        "POST", f"/networks/{net['Id']}/connect", json_body={"Container": cid, "EndpointConfig": endpoint}
    )
    if status < 300:
        await verify.container(ctx, cid)
        if ctx.session.forwarders.by_port:
            ctx.session.spawn(ctx.session.on_container_event("start", cid))


@route("POST", r"/networks/(?P<ref>[^/]+)/disconnect")
async def network_disconnect(ctx: Ctx, ref: str) -> None:
    body = await ctx.body(schemas.NETWORK_DISCONNECT, where="the network disconnect config")
    net = await resolve.network(ctx, ref)
    cid, _ = await resolve.container(ctx, str(body.get("Container") or ""), data=False)
    new_body = {"Container": cid, "Force": bool(body.get("Force"))}
    await ctx.call("POST", f"/networks/{net['Id']}/disconnect", json_body=new_body)


@route("POST", r"/networks/prune")
async def networks_prune(ctx: Ctx) -> None:
    await ctx.no_body()
    s = ctx.session
    removed = []
    for net in await s.session_networks(ctx.upstream):
        if net["Name"] == s.lab_network:
            continue
        ok, _ = await _remove(ctx, net)
        if ok:
            removed.append(ctx.names.network_student(net["Name"]))
    await ctx.conn.respond_json(200, {"NetworksDeleted": removed or None})
