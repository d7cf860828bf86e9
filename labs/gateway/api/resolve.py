"""Resolving what a request names among the session's own objects.

Any reference (name, id, id prefix, exec id) is looked up among the session's objects only;
anything else is Docker's own "No such ..." (404), also for the host id of another session's
container.
"""

from __future__ import annotations

from .. import names as n
from .. import policy as pol
from ..upstream import qpath
from .core import Ctx, not_found


async def container(ctx: Ctx, ref: str, *, data: bool = True) -> tuple[str, dict | None]:
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


async def image(ctx: Ctx, ref: str) -> tuple[str, str, dict]:
    """(kind, host reference, inspect data) of an image the session may use: its own (by name),
    a platform base image, or either by id. kind: "session" | "base" | "id"."""
    names = ctx.names
    try:
        parsed = n.parse_image_ref(ref)
    except n.BadName:
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


async def network(ctx: Ctx, ref: str) -> dict:
    """Inspect data of the session's network `ref` ("bridge"/"default" is the lab's own)."""
    s, names = ctx.session, ctx.names
    if ref in ("none", "host"):
        status, found = await ctx.api("GET", f"/networks/{ref}")
        if status == 200:
            return found
    try:
        host = names.network_host(ref)
    except n.BadName:
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


async def volume(ctx: Ctx, ref: str) -> dict:
    s, names = ctx.session, ctx.names
    try:
        host = names.volume_host(ref)
    except n.BadName as exc:
        raise not_found("volume", ref) from exc
    status, found = await ctx.api("GET", f"/volumes/{qpath(host)}")
    if status == 200 and (found.get("Labels") or {}).get(n.LABEL_SESSION) == s.session_id:
        return found
    raise not_found("volume", ref)


async def exec_instance(ctx: Ctx, exec_id: str) -> str:
    s = ctx.session
    if exec_id in s.refused_execs:
        raise pol.Refused(f"No such exec instance: {exec_id}", status=404)
    if exec_id in s.execs:
        return exec_id
    status, info = await ctx.api("GET", f"/exec/{qpath(exec_id)}/json")
    if status == 200 and info.get("ID") not in s.refused_execs:
        status, found = await ctx.api("GET", f"/containers/{qpath(info.get('ContainerID', ''))}/json")
        if status == 200 and s.owns(found):
            s.execs[info["ID"]] = found["Id"]
            return info["ID"]
    raise pol.Refused(f"No such exec instance: {exec_id}", status=404)
