"""System endpoints: ping, version, info, disk usage, events, registry login."""

from __future__ import annotations

import json

from labs.runtime.labels import GATEWAY_API_VERSION

from .. import names as n
from .. import policy as pol
from .core import Ctx, route

INFO_KEPT = (
    "Driver MemoryLimit SwapLimit KernelMemory KernelMemoryTCP CpuCfsPeriod CpuCfsQuota CPUShares CPUSet PidsLimit "
    "IPv4Forwarding BridgeNfIptables BridgeNfIp6tables OomKillDisable LoggingDriver CgroupDriver CgroupVersion "
    "KernelVersion OSType Architecture ServerVersion Isolation InitBinary ContainerdCommit RuncCommit InitCommit "
    "SecurityOptions ExperimentalBuild IndexServerAddress SystemTime"
).split()


@route("GET", r"/_ping")
@route("HEAD", r"/_ping")
async def ping(ctx: Ctx) -> None:
    await ctx.no_body()
    response = await ctx.upstream.request("GET", "/_ping")
    await ctx.conn.respond(
        response.status,
        response.body,
        content_type="text/plain; charset=utf-8",
        headers=[("Builder-Version", "1"), ("Cache-Control", "no-cache, no-store, must-revalidate")],
    )


@route("GET", r"/version")
async def version(ctx: Ctx) -> None:
    await ctx.no_body()

    def out(doc):
        doc["ApiVersion"] = GATEWAY_API_VERSION
        doc["MinAPIVersion"] = GATEWAY_API_VERSION
        for component in doc.get("Components") or []:
            if isinstance(component.get("Details"), dict) and "ApiVersion" in component["Details"]:
                component["Details"]["ApiVersion"] = GATEWAY_API_VERSION
                component["Details"]["MinAPIVersion"] = GATEWAY_API_VERSION
        return doc

    await ctx.call("GET", "/version", json_out=out)


@route("GET", r"/info")
async def info(ctx: Ctx) -> None:
    await ctx.no_body()
    s = ctx.session
    status, data = await ctx.api("GET", "/info")
    if status != 200:
        raise pol.Refused("the Docker engine is not available", status=503)
    containers = await s.session_containers(ctx.upstream)
    _, images = await ctx.api("GET", "/images/json")
    visible = [i for i in images or [] if ctx.names.image_summary_out(i)]
    running = sum(1 for c in containers if c.get("State") == "running")
    paused = sum(1 for c in containers if c.get("State") == "paused")
    out = {k: data.get(k) for k in INFO_KEPT if k in data}
    runtime = s.limits.runtime or data.get("DefaultRuntime") or "runc"
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
            "DefaultAddressPools": None,
            "Warnings": [],
        }
    )
    await ctx.conn.respond_json(200, out)


@route("GET", r"/system/df")
async def disk_usage(ctx: Ctx) -> None:
    await ctx.no_body()
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
    await ctx.conn.respond_json(
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
async def events(ctx: Ctx) -> None:
    """The session's own objects only: kind=student (never the lab container, its checks or its
    terminals), filters mapped to host names."""
    await ctx.no_body()
    s, names = ctx.session, ctx.names
    mapped: dict[str, list[str]] = {}
    for key, values in ctx.filters().items():
        if key == "container":
            mapped[key] = [v if n.HEX_RE.match(v) else names.container_host(v) for v in values]
        elif key == "image":
            out = []
            for v in values:
                try:
                    out.append(names.image_host(n.parse_image_ref(v)))
                except n.BadName:
                    out.append(v)
            mapped[key] = out
        elif key == "label":
            mapped[key] = [v for v in values if not v.startswith(n.LABEL_PREFIX)]
        elif key in ("type", "event"):
            mapped[key] = values
    mapped.setdefault("label", []).extend([f"{n.LABEL_SESSION}={s.session_id}", f"{n.LABEL_KIND}={n.KIND_STUDENT}"])
    query = {"filters": json.dumps(mapped), **ctx.pick(since="time", until="time")}

    def out(doc):
        attrs = ((doc or {}).get("Actor") or {}).get("Attributes") or {}
        if attrs.get(n.LABEL_KIND) != n.KIND_STUDENT or attrs.get(n.LABEL_SESSION) != s.session_id:
            return None  # belt and braces: the engine filtered already
        return names.event_out(doc)

    await ctx.call("GET", "/events", query=query, lines_out=out)


@route("POST", r"/auth")
async def auth(ctx: Ctx) -> None:
    raise pol.Refused("registry logins are not available in this lab (there is no registry to log in to)")
