"""One served session: its policy, name mapping, limits, and what the gateway tracks for it
(containers and execs made through it, port forwarders, bind mounts)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

from labs.runtime.engine import EngineAddress

from . import binds as binds_mod
from .names import KIND_STUDENT, LABEL_KIND, LABEL_SESSION, Names
from .policy import Limits, Refused
from .ports import Forwarders, forwarder_processes, kill_tree
from .upstream import Upstream

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64  # concurrent client connections per session (each holds one to the engine)


class Session:
    def __init__(self, folder: Path, policy: dict, *, engine: EngineAddress, binds_root: Path):
        self.folder = folder
        self.hex = folder.name
        self.engine = engine
        self.policy_mtime = 0.0
        self.load(policy)
        self.lab_user = "student"
        self.forwarders = Forwarders(self)
        self.binds = binds_mod.SessionBinds(binds_root, self.hex)
        # ids of containers made through this gateway (known to be the session's) -> their port labels
        self.containers: dict[str, dict] = {}
        self.execs: dict[str, str] = {}  # exec id -> container id
        self.refused_execs: set[str] = set()  # execs the engine made that broke the invariants
        self.disk_usage: int | None = None  # bytes of Docker storage, measured by the quota monitor
        self._cgroupns: str | None = None
        self.server: asyncio.AbstractServer | None = None
        self.connections: set[asyncio.Task] = set()  # at most MAX_CONNECTIONS
        self.tasks: set[asyncio.Task] = set()
        self._lab: dict | None = None
        self._lab_at = 0.0
        self._gc_handle: asyncio.TimerHandle | None = None
        self.closed = False

    def load(self, policy: dict) -> None:
        self.policy = policy
        self.session_id = str(policy.get("session_id") or "")
        self.prefix = policy["prefix"]
        self.lab_container = policy.get("lab_container") or ""
        self.lab_network = policy.get("lab_network") or ""
        self.names = Names(
            prefix=self.prefix,
            lab_network=self.lab_network,
            base_images=policy.get("base_images") or [],
            session_id=self.session_id,
            lab_container=self.lab_container,
        )
        self.limits = Limits.from_policy(policy)

    @classmethod
    def read_policy(cls, folder: Path) -> dict:
        return json.loads((folder / "policy.json").read_text())

    def upstream(self) -> Upstream:
        return Upstream(self.engine)

    @property
    def disk_quota(self) -> int:
        return int(self.policy.get("disk_quota_bytes") or 0)

    @property
    def over_quota(self) -> bool:
        return bool(self.disk_quota and self.disk_usage is not None and self.disk_usage > self.disk_quota)

    def quota_message(self) -> str:
        mib = 1024 * 1024
        return (
            f"this lab is using {(self.disk_usage or 0) // mib} MiB of Docker storage, over its quota of "
            f"{self.disk_quota // mib} MiB: remove containers, images or volumes you no longer need "
            "(docker system prune, docker rm, docker rmi, docker volume rm) and try again"
        )

    async def default_cgroupns(self, upstream: Upstream) -> str:
        """The cgroup namespace mode the engine gives a container that asks for none."""
        if self._cgroupns is None:
            status, info = await upstream.json("GET", "/info")
            version = str((info or {}).get("CgroupVersion") or "1") if status == 200 else "1"
            self._cgroupns = "private" if version == "2" else "host"
        return self._cgroupns

    def owns(self, data: dict | None) -> bool:
        labels = ((data or {}).get("Config") or {}).get("Labels") or (data or {}).get("Labels") or {}
        return labels.get(LABEL_SESSION) == self.session_id and labels.get(LABEL_KIND) == KIND_STUDENT

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # --- the lab container ------------------------------------------------------------------------
    async def lab_info(self, upstream: Upstream, *, fresh: bool = False) -> dict | None:
        """{"id", "pid", "networks"} of the running lab container (cached for a second)."""
        if not fresh and self._lab and time.monotonic() - self._lab_at < 1.0:
            return self._lab
        status, data = await upstream.json("GET", f"/containers/{self.lab_container}/json")
        if status != 200 or not (data.get("State") or {}).get("Running"):
            self._lab = None
            return None
        self._lab = {
            "id": data["Id"],
            "pid": data["State"]["Pid"],
            "networks": list(((data.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
        }
        self._lab_at = time.monotonic()
        return self._lab

    def forget_lab(self) -> None:
        self._lab = None

    async def make_bind(self, upstream: Upstream, path: str) -> str:
        lab = await self.lab_info(upstream, fresh=True)
        if lab is None:
            raise Refused("the lab container is not running")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, lambda: self.binds.make(lab_pid=lab["pid"], lab_id=lab["id"], path=path)
        )

    async def session_networks(self, upstream: Upstream) -> list[dict]:
        status, data = await upstream.json(
            "GET", "/networks", query={"filters": json.dumps({"label": [f"{LABEL_SESSION}={self.session_id}"]})}
        )
        return data if status == 200 and isinstance(data, list) else []

    async def session_containers(self, upstream: Upstream) -> list[dict]:
        status, data = await upstream.json(
            "GET",
            "/containers/json",
            query={
                "all": "1",
                "filters": json.dumps(
                    {"label": [f"{LABEL_SESSION}={self.session_id}", f"{LABEL_KIND}={KIND_STUDENT}"]}
                ),
            },
        )
        return data if status == 200 and isinstance(data, list) else []

    # --- background upkeep -------------------------------------------------------------------------
    def schedule_gc(self, delay: float = 1.0) -> None:
        """Release bind mounts no container uses any more (debounced)."""
        if self.closed:
            return
        if self._gc_handle is not None:
            self._gc_handle.cancel()
        loop = asyncio.get_running_loop()
        self._gc_handle = loop.call_later(delay, lambda: self.spawn(self.gc_binds()))

    async def gc_binds(self) -> None:
        if not self.binds.sources():
            return
        upstream = self.upstream()
        try:
            containers = await self.session_containers(upstream)
        finally:
            upstream.close()
        in_use = {m.get("Source") for c in containers for m in (c.get("Mounts") or []) if m.get("Type") == "bind"}
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: self.binds.release_unused(in_use))

    async def on_container_event(self, action: str, container_id: str, time_ns: int | None = None) -> None:
        if action == "die":
            await self.forwarders.stop_for(container_id, before_ns=time_ns)
        elif action == "start":
            upstream = self.upstream()
            try:
                status, data = await upstream.json("GET", f"/containers/{container_id}/json")
                if status == 200 and self.owns(data) and (data.get("State") or {}).get("Running"):
                    await self.forwarders.start_for(upstream, data)
            except Exception as exc:  # noqa: BLE001 - logged; the next start tries again
                log.warning("session %s: forwarders for %s: %s", self.hex, container_id[:12], exc)
            finally:
                upstream.close()
        elif action == "destroy":
            await self.forwarders.stop_for(container_id)
            self.containers.pop(container_id, None)
            self.schedule_gc()

    async def on_lab_start(self) -> None:
        """The lab container (re)started (first start, or a reset): attach it to the session's
        networks again and restart the forwarders of running containers."""
        self.forget_lab()
        await self.recover()

    async def recover(self) -> None:
        """After (re)serving: kill forwarders a previous gateway left, reconnect the lab to the
        session's networks, and forward the ports of running containers again."""
        upstream = self.upstream()
        try:
            lab = await self.lab_info(upstream, fresh=True)
            if lab is None:
                return
            loop = asyncio.get_running_loop()
            for pid, starttime in await loop.run_in_executor(None, forwarder_processes, lab["id"]):
                if not any(f.pid == pid for f in self.forwarders.by_port.values()):
                    kill_tree(pid, starttime)
            for net in await self.session_networks(upstream):
                if net["Name"] != self.lab_network and net["Name"] not in lab["networks"]:
                    await upstream.request("POST", f"/networks/{net['Id']}/connect", body={"Container": lab["id"]})
            self.forget_lab()
            for summary in await self.session_containers(upstream):
                if summary.get("State") != "running":
                    continue
                status, data = await upstream.json("GET", f"/containers/{summary['Id']}/json")
                if status == 200:
                    try:
                        await self.forwarders.start_for(upstream, data)
                    except Exception as exc:  # noqa: BLE001
                        log.warning("session %s: forwarders for %s: %s", self.hex, summary["Id"][:12], exc)
        except (OSError, ConnectionError) as exc:
            log.warning("session %s: recover: %s", self.hex, exc)
        finally:
            upstream.close()

    async def close(self) -> None:
        self.closed = True
        if self._gc_handle is not None:
            self._gc_handle.cancel()
        if self.server is not None:
            self.server.close()
        for task in list(self.connections) + list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.connections, *self.tasks, return_exceptions=True)
        self.forwarders.stop_all()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.binds.release_all)
        try:
            (self.folder / "docker.sock").unlink()
        except OSError:
            pass
