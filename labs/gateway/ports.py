"""Published ports without publishing anything on the host.

`docker run -d -p 8080:80 nginx` must make `curl localhost:8080` work in the lab shell. The engine
gets no port bindings at all (the gateway keeps what was asked in the container's label
org.berth.ports); when the container starts the gateway runs, in the lab container, as the
student, a detached

    socat TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr TCP:<container ip>:80

through the engine's exec API (the lab container is attached to every network of the session, so
the container's address is reachable from it), waits until it listens, and stops it (SIGTERM to
the exact process, checked by its start time) when the container stops or is removed.
Ports below 1024 work because docker labs start with net.ipv4.ip_unprivileged_port_start=0 in
their own network namespace (labs.runtime.spec).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from dataclasses import dataclass

from . import names as n

log = logging.getLogger(__name__)

LISTEN_TIMEOUT = 3.0


@dataclass
class Forwarder:
    container_id: str
    proto: str
    port: int
    target: str
    pid: int
    starttime: str
    exec_id: str
    started_ns: int = 0  # wall clock, to compare with the engine's event times


def _stat_starttime(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode(errors="replace")
    except OSError:
        return None
    return data.rsplit(")", 1)[-1].split()[19] if ")" in data else None


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    out += [int(x) for x in fh.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return out


def kill_tree(pid: int, starttime: str | None) -> None:
    """SIGTERM the process (if it is still the one we started) and the children it forked."""
    if starttime is not None and _stat_starttime(pid) != starttime:
        return
    for child in _children(pid):
        try:
            os.kill(child, signal.SIGTERM)
        except OSError:
            pass
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        pass
    return inodes


def listening(pid: int, proto: str, port: int, *, own: bool = False) -> bool:
    """Whether the network namespace of `pid` has a socket bound to `port` (LISTEN for tcp);
    with own=True, only a socket of that very process counts (not a student's server on the port)."""
    inodes = _socket_inodes(pid) if own else None
    files = ("tcp", "tcp6") if proto == "tcp" else ("udp", "udp6")
    for name in files:
        try:
            with open(f"/proc/{pid}/net/{name}") as fh:
                next(fh, None)
                for line in fh:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if int(local.rsplit(":", 1)[1], 16) != port or (proto == "tcp" and state != "0A"):
                        continue
                    if inodes is None or fields[9] in inodes:
                        return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def forwarder_processes(lab_id: str) -> list[tuple[int, str]]:
    """(pid, starttime) of the gateway's socat forwarders running in the lab container (after a restart)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\x00")
            if not argv or not argv[0].endswith(b"socat") or len(argv) < 3:
                continue
            if b",bind=127.0.0.1,fork,reuseaddr" not in argv[1]:
                continue
            with open(f"/proc/{pid}/cgroup") as fh:
                if lab_id not in fh.read():
                    continue
        except OSError:
            continue
        found.append((pid, _stat_starttime(pid) or ""))
    return found


def target_address(container: dict, lab_networks: set[str], peers: dict[str, dict] | None = None) -> str | None:
    """The container's address on a network the lab container is attached to."""
    mode = (container.get("HostConfig") or {}).get("NetworkMode") or ""
    if mode.startswith("container:") and peers:
        other = peers.get(mode[len("container:") :])
        return target_address(other, lab_networks) if other else None
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    for name, settings in networks.items():
        if name in lab_networks and (settings or {}).get("IPAddress"):
            return settings["IPAddress"]
    return None


def socat_argv(proto: str, port: int, target: str, target_port: int) -> list[str]:
    if proto == "udp":
        return ["socat", f"UDP4-RECVFROM:{port},bind=127.0.0.1,fork,reuseaddr", f"UDP4-SENDTO:{target}:{target_port}"]
    return ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr", f"TCP:{target}:{target_port}"]


class PortsError(Exception):
    pass


class Forwarders:
    """The forwarders of one session (keyed by (proto, host port))."""

    def __init__(self, session):
        self.session = session
        self.by_port: dict[tuple[str, int], Forwarder] = {}
        self.lock = asyncio.Lock()

    def used(self) -> set[tuple[str, int]]:
        return set(self.by_port)

    def conflict(self, container_id: str, ports: dict) -> tuple[str, int] | None:
        for key, bindings in (ports or {}).items():
            proto = key.split("/")[1] if "/" in key else "tcp"
            for binding in bindings or []:
                host_port = int(binding.get("HostPort") or 0)
                existing = self.by_port.get((proto, host_port))
                if existing and existing.container_id != container_id and self._alive(existing):
                    return proto, host_port
        return None

    @staticmethod
    def _alive(fwd: Forwarder) -> bool:
        return _stat_starttime(fwd.pid) == fwd.starttime

    async def start_for(self, upstream, container: dict) -> None:
        """(Re)start the forwarders of a running container; idempotent."""
        labels = (container.get("Config") or {}).get("Labels") or {}
        ports = n.json_label(labels, n.LABEL_PORTS, {}) or {}
        if not ports:
            return
        session = self.session
        lab = await session.lab_info(upstream)
        if lab is None:
            raise PortsError("the lab container is not running")
        peers = {}
        mode = (container.get("HostConfig") or {}).get("NetworkMode") or ""
        if mode.startswith("container:"):
            status, other = await upstream.json("GET", f"/containers/{mode[len('container:') :]}/json")
            if status == 200:
                peers[mode[len("container:") :]] = other
        address = target_address(container, set(lab["networks"]), peers)
        if not address:
            return  # --network none: nothing to forward to (Docker would not publish either)
        async with self.lock:
            for key, bindings in ports.items():
                port_s, _, proto = key.partition("/")
                proto = proto or "tcp"
                for binding in bindings or []:
                    host_port = int(binding.get("HostPort") or 0)
                    if not host_port:
                        continue
                    current = self.by_port.get((proto, host_port))
                    target = f"{address}:{port_s}"
                    if (
                        current
                        and current.container_id == container["Id"]
                        and current.target == target
                        and self._alive(current)
                    ):
                        continue
                    if current:
                        kill_tree(current.pid, current.starttime)
                        self.by_port.pop((proto, host_port), None)
                    fwd = await self._spawn(upstream, lab, container["Id"], proto, host_port, address, int(port_s))
                    self.by_port[(proto, host_port)] = fwd

    async def _spawn(
        self, upstream, lab: dict, container_id: str, proto: str, port: int, address: str, target_port: int
    ) -> Forwarder:
        argv = socat_argv(proto, port, address, target_port)
        status, created = await upstream.json(
            "POST",
            f"/containers/{lab['id']}/exec",
            body={
                "Cmd": argv,
                "User": self.session.lab_user,
                "AttachStdin": False,
                "AttachStdout": False,
                "AttachStderr": False,
                "Tty": False,
            },
        )
        if status != 201:
            raise PortsError(f"cannot start the port forwarder: {created}")
        exec_id = created["Id"]
        response = await upstream.request("POST", f"/exec/{exec_id}/start", body={"Detach": True, "Tty": False})
        if response.status >= 400:
            raise PortsError(f"cannot start the port forwarder: {response.message}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LISTEN_TIMEOUT
        pid = 0
        while loop.time() < deadline:
            status, info = await upstream.json("GET", f"/exec/{exec_id}/json")
            if status != 200:
                break
            pid = info.get("Pid") or 0
            if not info.get("Running") and info.get("ExitCode") is not None and pid == 0:
                break
            if not info.get("Running") and pid:
                if port < 1024:
                    raise PortsError(
                        f"cannot publish port {port} in this lab session (low ports need a lab "
                        "started with this version of Berth: reset the lab)"
                    )
                raise PortsError(f"Bind for 0.0.0.0:{port} failed: port is already allocated (in your lab)")
            if pid and listening(pid, proto, port, own=True):
                return Forwarder(
                    container_id=container_id,
                    proto=proto,
                    port=port,
                    target=f"{address}:{target_port}",
                    pid=pid,
                    starttime=_stat_starttime(pid) or "",
                    exec_id=exec_id,
                    started_ns=time.time_ns(),
                )
            await asyncio.sleep(0.005)
        if pid:
            kill_tree(pid, None)
        raise PortsError(f"the port forwarder for {port} did not start")

    async def stop_for(self, container_id: str, *, before_ns: int | None = None) -> None:
        """Stop the container's forwarders (only those started before `before_ns`, for an engine
        `die` event that may arrive after a `docker restart` already made new ones)."""
        async with self.lock:
            for key, fwd in list(self.by_port.items()):
                if fwd.container_id != container_id:
                    continue
                if before_ns is not None and fwd.started_ns > before_ns:
                    continue
                kill_tree(fwd.pid, fwd.starttime)
                self.by_port.pop(key, None)

    def stop_all(self) -> None:
        for fwd in self.by_port.values():
            kill_tree(fwd.pid, fwd.starttime)
        self.by_port.clear()
