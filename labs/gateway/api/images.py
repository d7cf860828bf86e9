"""Images: list, inspect, history, tag, remove, pull (platform images only), import, prune, save."""

from __future__ import annotations

import fnmatch
import json
import logging

from .. import names as n
from .. import policy as pol
from ..upstream import qpath
from . import resolve, uploads
from .builds import progress_out
from .core import Ctx, route

log = logging.getLogger("labs.gateway")


@route("GET", r"/images/json")
async def images_list(ctx: Ctx) -> None:
    await ctx.no_body()
    names = ctx.names
    filters = {k: v for k, v in ctx.filters().items() if k in ("dangling", "label", "before", "since", "reference")}
    reference = filters.pop("reference", [])
    if "label" in filters:
        filters["label"] = [v for v in filters["label"] if not v.startswith(n.LABEL_PREFIX)]
    for key in ("before", "since"):
        if key in filters:
            filters[key] = [(await resolve.image(ctx, v))[2]["Id"] for v in filters[key]]
    query = ctx.pick(all="bool", digests="bool")
    if filters:
        query["filters"] = json.dumps(filters)

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

    await ctx.call("GET", "/images/json", query=query, json_out=out)


@route("GET", r"/images/(?P<ref>.+)/json")
async def image_inspect(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    _, _, data = await resolve.image(ctx, ref)
    await ctx.conn.respond_json(200, ctx.names.image_inspect_out(data))


@route("GET", r"/images/(?P<ref>.+)/history")
async def image_history(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    _, _, data = await resolve.image(ctx, ref)

    def out(items):
        for item in items or []:
            item["Tags"] = ctx.names.image_tags_out(item.get("Tags")) or None
        return items

    await ctx.call("GET", f"/images/{qpath(data['Id'])}/history", json_out=out)


@route("POST", r"/images/(?P<ref>.+)/tag", writes=True)
async def image_tag(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    _, _, data = await resolve.image(ctx, ref)
    repo, tag = ctx.q("repo") or "", ctx.q("tag") or ""
    try:
        target = n.parse_image_ref(repo + (f":{tag}" if tag else ""))
    except n.BadName as exc:
        raise pol.Refused(str(exc), status=400) from exc
    query = {"repo": ctx.names.image_repo_host(target), "tag": target.tag or "latest"}
    await ctx.call("POST", f"/images/{qpath(data['Id'])}/tag", query=query)


@route("DELETE", r"/images/(?P<ref>.+)")
async def image_delete(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    names = ctx.names
    kind, host, data = await resolve.image(ctx, ref)
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

    await ctx.call("DELETE", f"/images/{qpath(target)}", query=ctx.pick(force="bool", noprune="bool"), json_out=out)


@route("POST", r"/images/create", writes=True)
async def image_create(ctx: Ctx) -> None:
    s, names = ctx.session, ctx.names
    if ctx.q("fromSrc") is not None:
        await _import(ctx)
        return
    await ctx.no_body()
    image, tag = ctx.q("fromImage") or "", ctx.q("tag") or ""
    full = image if (not tag or "@" in image) else f"{image}@{tag}" if tag.startswith("sha256:") else f"{image}:{tag}"
    try:
        ref = n.parse_image_ref(full)
    except n.BadName as exc:
        raise pol.Refused(str(exc), status=400) from exc
    if names.is_base(ref):
        body = (
            json.dumps({"status": f"{ref.tag or 'latest'}: Pulling from {ref.path}", "id": ref.tag or "latest"})
            + "\n"
            + json.dumps({"status": f"Status: Image is up to date for {ref.familiar}"})
            + "\n"
        ).encode()
        await ctx.conn.respond(200, body)
        return
    mirror = s.policy.get("registry_mirror") or ""
    if mirror and not ref.domain:
        await _pull_from_mirror(ctx, ref, mirror)
        return
    raise pol.Refused(
        f"pull access denied for {ref.repo}: this lab cannot download images. Use one of the "
        f"platform's images ({', '.join(sorted(names.base))}) or one you built with docker build"
    )


async def _import(ctx: Ctx) -> None:
    """docker import: a root filesystem tarball, re-packed, under the session's name and labels."""
    names = ctx.names
    if ctx.q("fromSrc") != "-":
        raise pol.Refused("importing from a URL is not available in this lab")
    query = {"fromSrc": "-", **ctx.pick(message="str", platform="str"), **ctx.new_image_query()}
    async with uploads.repacked(ctx) as packed:
        await ctx.call(
            "POST",
            "/images/create",
            query=query,
            chunks=packed.chunks(),
            content_type="application/x-tar",
            lines_out=progress_out(names),
        )


async def _pull_from_mirror(ctx: Ctx, ref: n.ImageRef, mirror: str) -> None:
    """Pull `ref` from the policy's registry mirror, then keep it only under the session's name."""
    names = ctx.names
    mirror = mirror.split("://", 1)[-1].rstrip("/")
    source = f"{mirror}/{ref.path if '/' in ref.path else 'library/' + ref.path}"
    tag = ref.tag or "latest"
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
    await ctx.conn.respond(200, body)


@route("POST", r"/images/(?P<ref>.+)/push")
async def image_push(ctx: Ctx, ref: str) -> None:
    raise pol.Refused("pushing images is not available in this lab (there is no registry to push to)")


@route("GET", r"/images/search")
async def image_search(ctx: Ctx) -> None:
    raise pol.Refused("searching a registry is not available in this lab")


@route("POST", r"/images/prune")
async def images_prune(ctx: Ctx) -> None:
    await ctx.no_body()
    filters = {k: v for k, v in ctx.filters().items() if k in ("dangling", "until", "label", "label!")}
    filters["label"] = [v for v in filters.get("label", []) if not v.startswith(n.LABEL_PREFIX)] + [
        f"{n.LABEL_SESSION}={ctx.session.session_id}"
    ]

    def out(doc):
        for item in (doc or {}).get("ImagesDeleted") or []:
            if "Untagged" in item:
                item["Untagged"] = ctx.names.scrub(item["Untagged"])
        return doc

    await ctx.call("POST", "/images/prune", query={"filters": json.dumps(filters)}, json_out=out)


@route("GET", r"/images/(?P<ref>.+)/get")
async def image_save(ctx: Ctx, ref: str) -> None:
    await ctx.no_body()
    _, host, _ = await resolve.image(ctx, ref)
    await ctx.call("GET", f"/images/{qpath(host)}/get")


@route("GET", r"/images/get")
async def images_save(ctx: Ctx) -> None:
    await ctx.no_body()
    hosts = [(await resolve.image(ctx, ref))[1] for ref in ctx.req.query.get("names", [])]
    await ctx.call("GET", "/images/get", query={"names": hosts})


@route("POST", r"/images/load")
async def images_load(ctx: Ctx) -> None:
    raise pol.Refused("docker load is not available in this lab; build images with docker build")
