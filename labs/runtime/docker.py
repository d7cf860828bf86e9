"""DockerBackend: the sandbox contract (labs.runtime.base.Backend) on the Docker Engine API.

Lifecycle goes through docker-py; exec streams through labs.runtime.engine (exact bytes, asyncio
for terminals). Every engine error is translated into the contract's own exception types.
"""

from __future__ import annotations

import logging
import select
import socket
import time

import docker
import requests
from docker.errors import APIError, DockerException, NotFound

from . import cgroups, engine
from .base import BackendUnavailable, ExecResult, FileContent, Handle, SandboxError, SandboxGone, Stats
from .labels import (  # noqa: F401 - re-exported for the platform's callers
    KIND_LAB,
    KIND_LAB_NETWORK,
    LABEL_CGROUP,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_LAB,
    LABEL_NETWORK,
    LABEL_SESSION,
    LABEL_USER,
    isolated_network_options,
)
from .spec import SandboxSpec, container_config

log = logging.getLogger(__name__)


def _transient(exc: Exception) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError, socket.timeout)):
        return True
    return isinstance(exc, APIError) and exc.status_code in (500, 502, 503, 504) and "conflict" not in str(exc).lower()


class DockerBackend:
    def __init__(self, base_url: str, *, instance: str, timeout: float = 30):
        self.base_url = base_url
        self.instance = instance
        self.address = engine.EngineAddress.parse(base_url)
        try:
            self.client = docker.DockerClient(base_url=base_url, timeout=timeout, version="1.41")
        except DockerException as exc:  # bad URL or no socket at all
            raise BackendUnavailable(str(exc)) from exc

    # --- helpers -------------------------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotFound as exc:
            raise SandboxGone(str(exc.explanation or exc)) from exc
        except (TimeoutError, APIError, DockerException, requests.RequestException, ConnectionError) as exc:
            if _transient(exc) or not isinstance(exc, APIError):
                raise BackendUnavailable(f"Docker engine at {self.base_url}: {exc}") from exc
            raise SandboxError(str(exc.explanation or exc)) from exc

    def _handle(self, container) -> Handle:
        attrs = container.attrs
        state = attrs.get("State", {})
        networks = attrs.get("NetworkSettings", {}).get("Networks") or {}
        ip = next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")
        return Handle(
            id=container.id,
            name=container.name,
            state=state.get("Status", container.status),
            labels=dict(attrs.get("Config", {}).get("Labels") or {}),
            exit_code=state.get("ExitCode") if state.get("Status") in ("exited", "dead") else None,
            oom_killed=bool(state.get("OOMKilled")),
            ip_address=ip,
        )

    # --- contract ---------------------------------------------------------------------------------
    def ping(self) -> dict:
        try:
            version = self.client.version()
            info = self.client.info()
        except (DockerException, requests.RequestException, ConnectionError) as exc:
            raise BackendUnavailable(f"Docker engine at {self.base_url}: {exc}") from exc
        return {
            "version": version.get("Version", ""),
            "api_version": version.get("ApiVersion", ""),
            "runtimes": sorted((info.get("Runtimes") or {}).keys()),
            "cgroup_version": info.get("CgroupVersion", ""),
            "cgroup_driver": info.get("CgroupDriver", ""),
            "containers_running": info.get("ContainersRunning", 0),
        }

    def start(self, spec: SandboxSpec) -> Handle:
        container = self._find(spec.name)
        if container is None:
            self._prepare(spec)
            config = container_config(spec)
            config["labels"][LABEL_CGROUP] = spec.cgroup_parent
            config["labels"][LABEL_NETWORK] = spec.network or ""
            try:
                container = self._call(self.client.containers.create, **config)
            except SandboxGone as exc:  # 404 on create = the image is missing
                raise SandboxError(
                    f"image {spec.image} is not on this Docker host; run manage.py build_lab_images"
                ) from exc
            except SandboxError as exc:
                if "Conflict" in str(exc) or "already in use" in str(exc):
                    container = self._find(spec.name)  # a concurrent start won the race: use its container
                    if container is None:
                        raise
                else:
                    raise
        if container.status != "running":
            self._call(container.start)
            container = self._call(self.client.containers.get, container.id)
        return self._handle(container)

    def _prepare(self, spec: SandboxSpec) -> None:
        if spec.cgroup_parent:
            try:
                cgroups.ensure_parent(
                    spec.cgroup_parent, memory_bytes=spec.memory_bytes, cpus=spec.cpus, pids=spec.pids_limit
                )
            except cgroups.CgroupError as exc:
                raise SandboxError(f"cannot set up the lab's resource budget: {exc}") from exc
        if spec.network:
            self.ensure_network(spec.network, labels=spec.labels)

    def ensure_network(self, name: str, *, labels: dict[str, str]) -> None:
        """A private, internal bridge network with no host address on it (labels.isolated_network_options):
        nothing on the host answers the lab; idempotent."""
        existing = self._call(self.client.networks.list, names=[name])
        if any(n.name == name for n in existing):
            return
        try:
            self._call(
                self.client.networks.create,
                name,
                driver="bridge",
                internal=True,
                options=isolated_network_options(name),
                labels={**labels, LABEL_KIND: KIND_LAB_NETWORK},
                check_duplicate=True,
            )
        except SandboxError as exc:
            if "already exists" not in str(exc):
                raise

    def _find(self, name: str):
        try:
            return self._call(self.client.containers.get, name)
        except SandboxGone:
            return None

    def stop(self, ref: str, *, now: bool = False) -> None:
        try:
            container = self._call(self.client.containers.get, ref)
        except SandboxGone:
            return
        labels = container.labels
        try:
            if not now and container.status == "running":
                self._call(container.stop, timeout=3)
            self._call(container.remove, force=True, v=True)
        except SandboxGone:
            pass
        except SandboxError as exc:
            if "removal of container" not in str(exc) or "already in progress" not in str(exc):
                raise
        self._cleanup_owned(labels)

    def _cleanup_owned(self, labels: dict) -> None:
        network = labels.get(LABEL_NETWORK)
        if network:
            for net in self._call(self.client.networks.list, names=[network]):
                if net.name == network and net.attrs.get("Labels", {}).get(LABEL_INSTANCE) == self.instance:
                    try:
                        self._call(net.remove)
                    except (SandboxGone, SandboxError) as exc:
                        log.info("network %s not removed yet: %s", network, exc)
        if labels.get(LABEL_CGROUP):
            cgroups.remove_parent(labels[LABEL_CGROUP])

    def poll(self, ref: str) -> int | None:
        handle = self.inspect(ref)
        if handle.running or handle.state in ("created", "paused"):
            return None
        return handle.exit_code if handle.exit_code is not None else -1

    def inspect(self, ref: str) -> Handle:
        return self._handle(self._call(self.client.containers.get, ref))

    def list_managed(self) -> list[Handle]:
        filters = {"label": [f"{LABEL_INSTANCE}={self.instance}", f"{LABEL_KIND}=lab"]}
        containers = self._call(self.client.containers.list, all=True, filters=filters, sparse=False)
        return [self._handle(c) for c in containers]

    def exec(
        self,
        ref: str,
        cmd: list[str],
        *,
        user: str,
        stdin: bytes | None = None,
        timeout: float = 10,
        max_output: int = 64 * 1024,
        env: dict | None = None,
        workdir: str | None = None,
    ) -> ExecResult:
        started = time.monotonic()
        try:
            exec_id = engine.exec_create(
                self.address, ref, cmd, user=user, tty=False, stdin=stdin is not None, env=env, workdir=workdir
            )
            sock, rest = engine.exec_start(self.address, exec_id, tty=False, timeout=timeout + 5)
        except engine.EngineHTTPError as exc:
            if exc.status == 404:
                raise SandboxGone(exc.message) from exc
            if exc.status == 409:  # container not running
                raise SandboxGone(exc.message) from exc
            raise SandboxError(exc.message) from exc
        except OSError as exc:
            raise BackendUnavailable(f"Docker engine at {self.base_url}: {exc}") from exc
        output, truncated, timed_out = bytearray(), False, False
        demux = engine.Demuxer()
        try:
            if stdin is not None:
                sock.sendall(stdin)
                sock.shutdown(socket.SHUT_WR)
            deadline = started + timeout
            pending = rest
            while True:
                for _, data in demux.feed(pending):
                    room = max_output - len(output)
                    if len(data) > room:
                        truncated = True
                    output += data[:room]
                if truncated:
                    break  # stop reading: closing the stream ends a flooding process (SIGPIPE)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                ready, _, _ = select.select([sock], [], [], remaining)
                if not ready:
                    timed_out = True
                    break
                pending = sock.recv(65536)
                if not pending:
                    break
        finally:
            sock.close()
        duration = int((time.monotonic() - started) * 1000)
        if timed_out or truncated:
            return ExecResult(
                exit_code=None, output=bytes(output), duration_ms=duration, timed_out=timed_out, truncated=truncated
            )
        exit_code = None
        for _ in range(50):  # the exit code lands a moment after the stream closes
            info = engine.exec_inspect(self.address, exec_id)
            if not info.get("Running"):
                exit_code = info.get("ExitCode")
                break
            time.sleep(0.01)
        return ExecResult(exit_code=exit_code, output=bytes(output), duration_ms=duration)

    def read_file(self, ref: str, path: str, *, max_bytes: int, user: str = "student") -> FileContent:
        """Copy one file out of the sandbox through exec (the engine's archive API cannot see the
        tmpfs mounts where students work), as `user`, so only what that user may read comes out.
        Binary-safe; symbolic links are reported, not followed."""
        script = (
            'f="$1"; if [ -L "$f" ]; then printf "L%s\\n" "$(readlink -- "$f")"; exit 0; fi; '
            '[ -f "$f" ] || { echo M; exit 0; }; [ -r "$f" ] || { echo U; exit 0; }; '
            'printf "F%s\\n" "$(stat -c %s -- "$f")"; head -c "$2" -- "$f"'
        )
        result = self.exec(
            ref,
            ["sh", "-c", script, "read_file", path, str(max_bytes)],
            user=user,
            timeout=15,
            max_output=max_bytes + 256,
        )
        head, _, body = result.output.partition(b"\n")
        kind, value = head[:1], head[1:].decode(errors="replace")
        if result.exit_code != 0 or kind in (b"M", b""):
            return FileContent(path=path, content=b"", size=0, missing=True)
        if kind == b"U":
            note = b"(not readable by the lab user)"
            return FileContent(path=path, content=note, size=0, missing=True)
        if kind == b"L":
            note = f"(a link to {value}; links are not followed)".encode()
            return FileContent(path=path, content=note, size=len(note))
        size = int(value or 0)
        return FileContent(path=path, content=body[:max_bytes], size=size, truncated=size > max_bytes)

    def stats(self, ref: str, *, previous: tuple[int, int] | None = None) -> Stats:
        """A one-shot reading (fast: the engine does not wait for a second sample). CPU percent
        needs two readings: pass the (cpu_total, system_total) of the previous one, as returned
        in Stats.sample; without it cpu_percent is None."""
        raw = self._call(self.client.api.stats, ref, stream=False, one_shot=True)
        cpu = raw.get("cpu_stats", {})
        total = cpu.get("cpu_usage", {}).get("total_usage", 0)
        system = cpu.get("system_cpu_usage", 0)
        percent = None
        if previous is not None and system > previous[1]:
            online = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or []) or 1
            percent = round(max(0.0, (total - previous[0]) / (system - previous[1]) * online * 100), 1)
        mem = raw.get("memory_stats", {})
        inactive = (
            (mem.get("stats") or {}).get("total_inactive_file") or (mem.get("stats") or {}).get("inactive_file") or 0
        )
        return Stats(
            cpu_percent=percent,
            memory_bytes=max(0, mem.get("usage", 0) - inactive),
            memory_limit=mem.get("limit", 0),
            pids=raw.get("pids_stats", {}).get("current", 0),
            sample=(total, system),
        )

    def remove_session_objects(self, session_id: str) -> dict:
        """Remove every container, network, volume and image tag labelled with the session (what
        the student made through the gateway), and every image tag under the session's prefix (a
        `docker tag busybox mine` names a platform image, which carries no session label).
        Idempotent; returns counts."""
        counts = {"containers": 0, "networks": 0, "volumes": 0, "images": 0}
        filters = {"label": [f"{LABEL_SESSION}={session_id}"]}
        cgroup_parents = set()
        for container in self._call(self.client.containers.list, all=True, filters=filters):
            cgroup_parents.add((container.attrs.get("HostConfig") or {}).get("CgroupParent") or "")
            cgroup_parents.add(container.labels.get(LABEL_CGROUP) or "")
            try:
                self._call(container.remove, force=True, v=True)
                counts["containers"] += 1
            except SandboxGone:
                pass
        for parent in cgroup_parents - {""}:
            cgroups.remove_parent(parent)  # the lab's stop could not while its students' containers ran
        for network in self._call(self.client.networks.list, filters=filters):
            try:
                for attached in self._call(self.client.networks.get, network.id).attrs.get("Containers") or {}:
                    try:
                        self._call(network.disconnect, attached, force=True)
                    except (SandboxGone, SandboxError):
                        pass
                self._call(network.remove)
                counts["networks"] += 1
            except (SandboxGone, SandboxError) as exc:
                log.info("network %s not removed: %s", network.name, exc)
        for volume in self._call(self.client.volumes.list, filters=filters):
            try:
                self._call(volume.remove, force=True)
                counts["volumes"] += 1
            except (SandboxGone, SandboxError) as exc:
                log.info("volume %s not removed: %s", volume.name, exc)
        namespace = self._session_image_namespace(session_id)
        # Children before parents: a few passes (an image with dependent children refuses to go).
        for _ in range(3):
            leftovers = 0
            images = self._call(self.client.api.images, all=True)
            for image in images:
                labels = image.get("Labels") or {}
                tags = [t for t in image.get("RepoTags") or [] if t and t != "<none>:<none>"]
                own_tags = [t for t in tags if namespace and t.startswith(namespace + "/")]
                if labels.get(LABEL_SESSION) != session_id and not own_tags:
                    continue
                try:
                    if labels.get(LABEL_SESSION) == session_id and (not tags or tags == own_tags):
                        for ref in own_tags or [image["Id"]]:
                            self._call(self.client.api.remove_image, ref, force=True, noprune=False)
                    else:  # someone else's image (a platform image) that the session tagged: untag only
                        for ref in own_tags:
                            self._call(self.client.api.remove_image, ref, noprune=True)
                    counts["images"] += 1
                except SandboxGone:
                    pass
                except SandboxError as exc:
                    leftovers += 1
                    log.info("image %s not removed yet: %s", image["Id"][:19], exc)
            if not leftovers:
                break
        try:
            self._call(self.client.api.prune_builds, filters={"label": [f"{LABEL_SESSION}={session_id}"]})
        except (SandboxError, BackendUnavailable, TypeError):
            pass
        return counts

    def _session_image_namespace(self, session_id: str) -> str:
        """The repository namespace the gateway gives the session's images (labs.gateway.names)."""
        hex_id = str(session_id).replace("-", "")
        return f"{self.instance}-{hex_id[:12]}".lower() if hex_id else ""

    def remove_orphans(self, *, live_session_ids: set[str]) -> list[str]:
        """Remove student containers, networks, volumes and images of this instance whose session
        is no longer live."""
        removed = []
        instance = {"label": [f"{LABEL_INSTANCE}={self.instance}"]}
        sessions = set()
        student = {"label": [f"{LABEL_INSTANCE}={self.instance}", f"{LABEL_KIND}=student"]}
        for collection, filters in (
            (self.client.containers, {**student, "all": True}),
            (self.client.networks, instance),
            (self.client.volumes, instance),
            (self.client.images, instance),
        ):
            kwargs = {"filters": {"label": filters["label"]}}
            if filters.get("all"):
                kwargs.update(all=True, sparse=True)
            for obj in self._call(collection.list, **kwargs):
                labels = (
                    (obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels") or {}) if obj.attrs else {}
                )
                session = labels.get(LABEL_SESSION)
                if session and session not in live_session_ids:
                    sessions.add(session)
        for session in sessions:
            self.remove_session_objects(session)
            removed.append(session)
        return removed
