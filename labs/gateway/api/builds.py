"""docker build: the context re-packed, the Dockerfile parsed and re-written, our own query.

The classic builder resolves `FROM x` and `COPY --from=x` against every image on the host and
fetches `ADD <url>` on the host's network, so the engine gets a Dockerfile we wrote
(labs.gateway.dockerfile, on dockerfile-parse): image references mapped to the session's or the
platform's images, URLs refused, the session's labels after every FROM, in a context archive we
re-packed (labs.gateway.tarstream). Builds run with no network, no pulls, the lab's cgroup and
memory, and tags under the session's namespace.
"""

from __future__ import annotations

import asyncio
import json

from .. import dockerfile, strictjson
from .. import names as n
from .. import policy as pol
from . import resolve, uploads
from .core import Ctx, route

BLANKED_BASE_LABELS = {n.LABEL_PLATFORM_IMAGE, n.LABEL_BUILD_STAGE, n.LABEL_CGROUP, n.LABEL_NETWORK}


def progress_out(names: n.Names):
    def out(doc):
        if isinstance(doc, dict):
            for key in ("status", "stream", "error", "id"):
                if isinstance(doc.get(key), str):
                    doc[key] = names.scrub(doc[key])
            if isinstance(doc.get("errorDetail"), dict) and isinstance(doc["errorDetail"].get("message"), str):
                doc["errorDetail"]["message"] = names.scrub(doc["errorDetail"]["message"])
        return doc

    return out


def _json_query(ctx: Ctx, name: str, kind: type):
    raw = ctx.q(name)
    if not raw:
        return kind()
    value = strictjson.loads(raw.encode(), limit=256 * 1024)
    if not isinstance(value, kind):
        raise pol.Refused(f"{name} must be a JSON {'object' if kind is dict else 'list'}", status=400)
    return value


async def build_query(ctx: Ctx) -> tuple[dict, dict]:
    """The engine's query, from an allowlist; what the lab forces is set, whatever was asked."""
    names, limits = ctx.names, ctx.session.limits
    if (ctx.q("version") or "1") != "1":
        raise pol.Refused("BuildKit is not available in this lab; build with the classic builder (DOCKER_BUILDKIT=0)")
    if ctx.q("remote"):
        raise pol.Refused("building from a remote context (URL or git) is not available in this lab")
    if ctx.qbool("squash"):
        raise pol.Refused("--squash is not available in this lab")
    if ctx.q("outputs"):
        raise pol.Refused("build outputs are not available in this lab")
    tags = []
    for tag in ctx.req.query.get("t", []):
        try:
            tags.append(names.image_host(n.parse_image_ref(tag)))
        except n.BadName as exc:
            raise pol.Refused(str(exc), status=400) from exc
    build_args = _json_query(ctx, "buildargs", dict)
    if not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in build_args.items()):
        raise pol.Refused("buildargs must map names to strings", status=400)
    labels = _json_query(ctx, "labels", dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise pol.Refused("labels must map names to strings", status=400)
    labels = {k: v for k, v in labels.items() if not k.startswith(n.LABEL_PREFIX)}
    # The classic builder applies these last (one LABEL step each), over anything the Dockerfile
    # says: the session's labels are also set after every FROM (labs.gateway.dockerfile).
    for key in (n.LABEL_INSTANCE, n.LABEL_SESSION, n.LABEL_KIND):
        labels[key] = limits.labels.get(key, "")
    memory = ctx.qint("memory") or 0
    memory = limits.memory_bytes if not memory or memory > limits.memory_bytes else memory
    shm = min(ctx.qint("shmsize") or 0, memory)
    cache = []
    for ref in _json_query(ctx, "cachefrom", list):
        try:
            cache.append((await resolve.image(ctx, str(ref)))[1])
        except pol.Refused:
            continue
    query = {
        **ctx.pick(q="bool", nocache="bool", cpushares="int", cpusetcpus="str", target="str", platform="str"),
        "t": tags,
        "buildargs": json.dumps(build_args),
        "labels": json.dumps(labels),
        "memory": str(memory),
        "memswap": str(memory),
        "networkmode": "none",
        "pull": "0",
        "rm": "1",
        "forcerm": "1",
    }
    if limits.cgroup_parent:
        query["cgroupparent"] = limits.cgroup_parent
    if shm:
        query["shmsize"] = str(shm)
    if cache:
        query["cachefrom"] = json.dumps(cache)
    return query, build_args


async def image_for_build(ctx: Ctx, ref: str, extra_labels: dict) -> str:
    """The host reference a FROM / COPY --from may use; refuses anything else."""
    names = ctx.names
    try:
        kind, host, data = await resolve.image(ctx, ref)
    except pol.Refused as exc:
        if exc.status == 404:
            raise pol.Refused(
                f"FROM {ref}: this lab cannot download images; use one of the platform's images "
                f"({', '.join(sorted(names.base))}) or one you built"
            ) from exc
        raise
    config = data.get("Config") or {}
    dockerfile.check_onbuild_triggers(
        list(config.get("OnBuild") or []), lambda value: bool(names.own_tag(value) or names.is_base_tag(value))
    )
    # Platform labels a base carries that must not describe the session's image.
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


@route("POST", r"/build", writes=True)
async def build(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    query, build_args = await build_query(ctx)
    candidates = dockerfile.dockerfile_names(ctx.q("dockerfile") or "")
    async with uploads.repacked(ctx, capture=candidates) as packed:
        found = [name for name in candidates if name in packed.found]
        if not found:
            raise pol.Refused(f"Cannot locate specified Dockerfile: {candidates[0]}", status=400)
        name = found[0]
        try:
            text = packed.captured[name].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise pol.Refused("the Dockerfile is not UTF-8 text", status=400) from exc
        loop = asyncio.get_running_loop()  # parsing a hostile Dockerfile may take most of a second
        plan = await loop.run_in_executor(None, lambda: dockerfile.plan_dockerfile(text, build_args=build_args))
        mapping: dict[str, str] = {}
        extra: dict[str, dict[str, str]] = {}
        for ref in plan.image_refs:
            mapping[ref] = await image_for_build(ctx, ref, extra)
        rendered = dockerfile.render_dockerfile(plan, mapping, labels=dict(s.limits.labels), extra_labels=extra)
        await packed.finish(name, rendered.encode())
        query["dockerfile"] = name
        await ctx.call(
            "POST",
            "/build",
            query=query,
            chunks=packed.chunks(),
            content_type="application/x-tar",
            lines_out=progress_out(names),
        )


@route("POST", r"/build/prune")
async def build_prune(ctx: Ctx) -> None:
    await ctx.no_body()
    await ctx.conn.respond_json(200, {"CachesDeleted": [], "SpaceReclaimed": 0})
