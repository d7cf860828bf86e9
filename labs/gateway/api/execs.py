"""Exec instances in the session's containers: create, start (a hijacked stream), resize, inspect."""

from __future__ import annotations

from .. import policy as pol
from .. import schemas
from . import resolve, verify
from .core import Ctx, hijacks, route


@route("POST", r"/containers/(?P<ref>[^/]+)/exec", writes=True)
async def exec_create(ctx: Ctx, ref: str) -> None:
    body = pol.validate_exec(await ctx.body(schemas.EXEC_CREATE, where="the exec config"))
    cid, _ = await resolve.container(ctx, ref, data=False)
    status, created = await ctx.api("POST", f"/containers/{cid}/exec", body=body)
    if status >= 300 or not isinstance(created, dict) or not created.get("Id"):
        raise pol.Refused(ctx.names.scrub((created or {}).get("message") or "exec failed"), status=status)
    ctx.session.execs[created["Id"]] = cid
    await verify.exec_instance(ctx, created["Id"])
    await ctx.conn.respond_json(201, {"Id": created["Id"]})


@route("POST", r"/exec/(?P<exec_id>[^/]+)/start")
@hijacks
async def exec_start(ctx: Ctx, exec_id: str) -> None:
    body = await ctx.body(schemas.EXEC_START, where="the exec start config")
    exec_id = await resolve.exec_instance(ctx, exec_id)
    await ctx.call("POST", f"/exec/{exec_id}/start", json_body=body, upgrade=ctx.req.upgrade)


@route("POST", r"/exec/(?P<exec_id>[^/]+)/resize")
async def exec_resize(ctx: Ctx, exec_id: str) -> None:
    await ctx.no_body()
    exec_id = await resolve.exec_instance(ctx, exec_id)
    await ctx.call("POST", f"/exec/{exec_id}/resize", query=ctx.pick(h="int", w="int"))


@route("GET", r"/exec/(?P<exec_id>[^/]+)/json")
async def exec_inspect(ctx: Ctx, exec_id: str) -> None:
    await ctx.no_body()
    exec_id = await resolve.exec_instance(ctx, exec_id)
    await ctx.call("GET", f"/exec/{exec_id}/json")
