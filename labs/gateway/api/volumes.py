"""Volumes: the session's own, local driver, no driver options."""

from __future__ import annotations

import json

from .. import names as n
from .. import policy as pol
from .. import schemas
from ..upstream import qpath
from . import resolve, verify
from .core import Ctx, route


@route("GET", r"/volumes")
async def volumes_list(ctx: Ctx) -> None:
    await ctx.no_body()
    s, names = ctx.session, ctx.names
    asked = ctx.filters()
    wanted = asked.pop("name", [])
    filters = {k: v for k, v in asked.items() if k in ("dangling", "driver", "label")}
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={s.session_id}"
    ]

    def out(doc):
        volumes = [names.volume_out(v) for v in (doc or {}).get("Volumes") or []]
        if wanted:
            volumes = [v for v in volumes if any(w in v["Name"] for w in wanted)]
        return {"Volumes": volumes, "Warnings": None}

    await ctx.call("GET", "/volumes", query={"filters": json.dumps(filters)}, json_out=out)


@route("POST", r"/volumes/create", writes=True)
async def volume_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    body = pol.rewrite_volume_create(
        await ctx.body(schemas.VOLUME_CREATE, where="the volume config"), names=names, limits=s.limits
    )
    if body.get("Name"):
        status, found = await ctx.api("GET", f"/volumes/{qpath(body['Name'])}")
        if status == 200 and (found.get("Labels") or {}).get(n.LABEL_SESSION) != s.session_id:
            raise pol.Refused(f"volume name {names.volume_student(body['Name'])} is not available", status=409)
    status, created = await ctx.api("POST", "/volumes/create", body=body)
    if status >= 300 or not isinstance(created, dict):
        raise pol.Refused(names.scrub((created or {}).get("message") or "cannot create the volume"), status=status)
    await verify.volume(ctx, created["Name"])
    await ctx.conn.respond_json(201, names.volume_out(created))


@route("GET", r"/volumes/(?P<ref>[^/]+)")
async def volume_inspect(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    await ctx.conn.respond_json(200, ctx.names.volume_out(await resolve.volume(ctx, ref)))


@route("DELETE", r"/volumes/(?P<ref>[^/]+)")
async def volume_delete(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    volume = await resolve.volume(ctx, ref)
    await ctx.call("DELETE", f"/volumes/{qpath(volume['Name'])}", query=ctx.pick(force="bool"))


@route("POST", r"/volumes/prune")
async def volumes_prune(ctx: Ctx) -> None:
    await ctx.no_body()
    filters = {k: v for k, v in ctx.filters().items() if k in ("label", "label!")}
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={ctx.session.session_id}"
    ]

    def out(doc):
        if isinstance(doc, dict) and doc.get("VolumesDeleted"):
            doc["VolumesDeleted"] = [ctx.names.volume_student(v) or v for v in doc["VolumesDeleted"]]
        return doc

    await ctx.call("POST", "/volumes/prune", query={"filters": json.dumps(filters)}, json_out=out)
