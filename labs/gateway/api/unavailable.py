"""What a lab does not have: swarm, plugins, registry lookups. Refused with a reason."""

from __future__ import annotations

from .. import policy as pol
from .core import Ctx, route

for _prefix in ("swarm", "nodes", "services", "tasks", "secrets", "configs"):
    for _method in ("GET", "POST", "DELETE"):

        @route(_method, rf"/{_prefix}(?:/.*)?")
        async def swarm(ctx: Ctx) -> None:
            raise pol.Refused("swarm mode is not available in this lab")


for _method in ("GET", "POST", "DELETE"):

    @route(_method, r"/plugins(?:/.*)?")
    async def plugins(ctx: Ctx) -> None:
        raise pol.Refused("plugins are not available in this lab")


@route("GET", r"/distribution/.*")
async def distribution(ctx: Ctx) -> None:
    raise pol.Refused("registry lookups are not available in this lab")


@route("POST", r"/session")
async def buildkit_session(ctx: Ctx) -> None:
    raise pol.Refused("BuildKit is not available in this lab; build with the classic builder (DOCKER_BUILDKIT=0)")
