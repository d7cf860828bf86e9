"""After the engine acts: inspect what it made, and undo what breaks the invariants.

The policy checks what the student asked for; this checks what the engine actually created,
through the engine's own view (inspect), against labs.gateway.invariants. A parser differential
we do not know of yet (a field the engine reads differently than our schema) ends here: the
object is removed and the student gets a 403.
"""

from __future__ import annotations

import logging

from .. import invariants as inv
from .. import policy as pol
from ..upstream import qpath
from .core import Ctx

log = logging.getLogger("labs.gateway")


async def scope(ctx: Ctx) -> inv.Scope:
    s, limits = ctx.session, ctx.session.limits
    networks = await s.session_networks(ctx.upstream)
    containers = await s.session_containers(ctx.upstream)
    return inv.Scope(
        session_id=s.session_id,
        binds_dir=str(s.binds.dir),
        cgroup_parent=limits.cgroup_parent,
        runtime=limits.runtime,
        memory_bytes=limits.memory_bytes,
        pids_limit=limits.pids_limit,
        cpus=limits.cpus,
        networks=frozenset({x["Name"] for x in networks} | {x["Id"] for x in networks} | {s.lab_network}),
        containers=frozenset(c["Id"] for c in containers),
        default_cgroupns=await s.default_cgroupns(ctx.upstream),
    )


def _refusal(what: str, problems: list[str]) -> pol.Refused:
    return pol.Refused(f"this lab does not allow the {what} the engine made ({'; '.join(problems)}); it was removed")


async def container(ctx: Ctx, cid: str) -> None:
    """Check the container the engine holds as `cid`; remove it and refuse when it breaks a rule."""
    status, data = await ctx.api("GET", f"/containers/{qpath(cid)}/json")
    if status == 404:
        return
    if status != 200:
        problems = [f"it could not be inspected (HTTP {status})"]
    else:
        found = await scope(ctx)
        problems = inv.container_problems(data, found)
        for name in inv.volume_names(data):
            vstatus, volume = await ctx.api("GET", f"/volumes/{qpath(name)}")
            problems += inv.volume_problems(volume, found) if vstatus == 200 else [f"volume {name} is unknown"]
    if problems:
        log.warning("session %s: removing container %s the engine made: %s", ctx.session.hex, cid[:12], problems)
        await ctx.api("DELETE", f"/containers/{qpath(cid)}", query={"force": "1", "v": "1"})
        ctx.session.containers.pop(cid, None)
        raise _refusal("container", problems)


async def exec_instance(ctx: Ctx, exec_id: str) -> None:
    status, data = await ctx.api("GET", f"/exec/{qpath(exec_id)}/json")
    problems = inv.exec_problems(data, await scope(ctx)) if status == 200 else [f"HTTP {status} on inspect"]
    if problems:
        log.warning("session %s: refusing exec %s: %s", ctx.session.hex, exec_id[:12], problems)
        ctx.session.refused_execs.add(exec_id)
        ctx.session.execs.pop(exec_id, None)
        raise pol.Refused(f"this lab does not allow the exec the engine made ({'; '.join(problems)})")


async def network(ctx: Ctx, network_id: str) -> None:
    status, data = await ctx.api("GET", f"/networks/{qpath(network_id)}")
    problems = inv.network_problems(data, await scope(ctx)) if status == 200 else [f"HTTP {status} on inspect"]
    if problems:
        log.warning("session %s: removing network %s: %s", ctx.session.hex, network_id[:12], problems)
        await ctx.api("DELETE", f"/networks/{qpath(network_id)}")
        raise _refusal("network", problems)


async def volume(ctx: Ctx, name: str) -> None:
    status, data = await ctx.api("GET", f"/volumes/{qpath(name)}")
    problems = inv.volume_problems(data, await scope(ctx)) if status == 200 else [f"HTTP {status} on inspect"]
    if problems:
        log.warning("session %s: removing volume %s: %s", ctx.session.hex, name, problems)
        await ctx.api("DELETE", f"/volumes/{qpath(name)}", query={"force": "1"})
        raise _refusal("volume", problems)
