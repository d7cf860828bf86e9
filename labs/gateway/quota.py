"""Per-session Docker storage quota: writable layers, volumes and images a student made.

overlay2 on ext4 (the usual Docker host) has no per-container hard quota, so enforcement catches
up within seconds instead: one `GET /system/df` every `interval` seconds for the whole engine
(only while some served session has a quota), summed per session label. A session over its quota
(policy `disk_quota_bytes`) has its writes refused by the API (routes marked `writes`: create,
start, run, exec, build, commit, import, tag, volume and network create, `docker cp` in) with a
message that says how to free space, and its running containers are stopped, so a `dd` that keeps
writing stops too. Removing things always works, and the next pass lifts the refusal.
"""

from __future__ import annotations

import asyncio
import logging

from .names import KIND_STUDENT, LABEL_KIND, LABEL_SESSION
from .upstream import EngineUnavailable, Upstream

log = logging.getLogger("labs.gateway")


def usage_by_session(df: dict) -> dict[str, int]:
    """Bytes of Docker storage per session id, from a /system/df answer.

    Containers count their writable layer (SizeRw), volumes their data (UsageData.Size), images
    what only they hold (Size - SharedSize; layers shared with the platform's images are free)."""
    usage: dict[str, int] = {}

    def add(labels: dict | None, size) -> None:
        labels = labels or {}
        session = labels.get(LABEL_SESSION)
        if session and isinstance(size, int) and size > 0:
            usage[session] = usage.get(session, 0) + size

    for container in df.get("Containers") or []:
        labels = container.get("Labels") or {}
        if labels.get(LABEL_KIND) == KIND_STUDENT:
            add(labels, container.get("SizeRw"))
    for volume in df.get("Volumes") or []:
        add(volume.get("Labels"), (volume.get("UsageData") or {}).get("Size"))
    for image in df.get("Images") or []:
        size, shared = image.get("Size") or 0, image.get("SharedSize")
        unique = size - shared if isinstance(shared, int) and shared >= 0 else size
        add(image.get("Labels"), unique)
    return usage


class QuotaMonitor:
    def __init__(self, server, *, interval: float = 5.0):
        self.server = server
        self.interval = interval

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - measured again on the next pass
                log.warning("disk quota pass failed: %s", exc)
            await asyncio.sleep(self.interval)

    async def check(self) -> None:
        sessions = [s for s in self.server.sessions.values() if s.disk_quota and not s.closed]
        if not sessions:
            return
        upstream = Upstream(self.server.engine)
        try:
            status, df = await upstream.json("GET", "/system/df")
            if status != 200 or not isinstance(df, dict):
                return
            usage = usage_by_session(df)
            for session in sessions:
                was_over = session.over_quota
                session.disk_usage = usage.get(session.session_id, 0)
                if session.over_quota:
                    if not was_over:
                        log.warning(
                            "session %s is over its disk quota (%d > %d bytes): writes refused",
                            session.hex,
                            session.disk_usage,
                            session.disk_quota,
                        )
                    await self._stop_running(upstream, session, df)
                elif was_over:
                    log.info("session %s is back under its disk quota", session.hex)
        except EngineUnavailable as exc:
            log.info("disk quota pass: %s", exc)
        finally:
            upstream.close()

    async def _stop_running(self, upstream: Upstream, session, df: dict) -> None:
        for container in df.get("Containers") or []:
            labels = container.get("Labels") or {}
            if (
                labels.get(LABEL_SESSION) == session.session_id
                and labels.get(LABEL_KIND) == KIND_STUDENT
                and container.get("State") == "running"
            ):
                log.warning("session %s: stopping %s (disk quota)", session.hex, container["Id"][:12])
                await upstream.request("POST", f"/containers/{container['Id']}/kill")
