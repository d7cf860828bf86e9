"""What the engine really holds for a session, checked against the lab's rules by someone other
than the gateway.

Independent on purpose: it reads the host engine with docker-py (`docker.from_env()`), never the
gateway's own code (labs.gateway.policy / invariants), so a gateway bug cannot hide itself here.

Which objects are looked at, for a session and a timestamp `since` the test took first:

- every container, volume and network labelled `org.berth.session=<session id>`, and
- every container, volume and network created on the engine at or after `since`, labelled or not:
  an object made by a smuggled request carries no label at all.

Left out: the lab container itself (the platform's, hardened differently; its execs ARE checked:
nothing the student does may add a privileged exec to it) and objects labelled with another
session or with `org.berth.test` (another session's world, and other test harnesses' fixtures).

    since = engine_view.mark()
    ... hostile requests ...
    engine_view.assert_clean(lab, since)
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path

import docker
from docker.errors import APIError, NotFound

LABEL_SESSION = "org.berth.session"
LABEL_KIND = "org.berth.kind"
LABEL_TEST = "org.berth.test"
LABEL_PREFIX = "org.berth."
# moby/oci/caps/defaults.go: what a container has unless told otherwise.
DOCKER_DEFAULT_CAPS = frozenset(
    "CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE "
    "SYS_CHROOT KILL AUDIT_WRITE".split()
)
NAMESPACE_MODES = ("PidMode", "IpcMode", "UTSMode", "UsernsMode", "NetworkMode")
FORBIDDEN_ULIMITS = frozenset({"rtprio", "memlock"})
SCRATCH_PREFIX = "sectest-"  # names the hostile payloads of these tests use for what they try to make

_client: docker.DockerClient | None = None


def engine() -> docker.DockerClient:
    global _client
    if _client is None:
        _client = docker.from_env(version="1.41", timeout=60)
    return _client


def mark() -> float:
    """The timestamp to take before the first hostile request (a little early: the engine's
    container timestamps are whole seconds)."""
    return time.time() - 1


def _ts(value) -> float:
    """Engine timestamps: unix seconds (container lists) or RFC 3339 with up to nanoseconds."""
    if isinstance(value, (int, float)):
        return float(value)
    if not value:
        return 0.0
    text = str(value).strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def binds_dir(lab) -> Path:
    """`<gateway root>/../gateway-binds/<session hex>`: the only host paths a session may bind."""
    folder = Path(lab.folder).resolve()
    return folder.parent.parent / "gateway-binds" / folder.name


def _inside(path: str, root: Path) -> bool:
    clean = os.path.normpath(path)
    return clean.startswith(str(root) + "/")


def _foreign(labels: dict, session_id: str) -> bool:
    other = labels.get(LABEL_SESSION)
    return bool(other and other != session_id) or LABEL_TEST in labels


class View:
    """One look at the engine for a session; `problems()` lists every broken rule."""

    def __init__(self, lab, since: float):
        self.lab = lab
        self.since = float(int(since))  # container timestamps are whole seconds
        self.session_id = str(lab.session_id)
        self.policy = dict(lab.policy)
        self.api = engine().api
        self.binds = binds_dir(lab)

    # --- what belongs to the session ------------------------------------------------------
    def _wanted(self, labels: dict | None, created: float) -> bool:
        labels = labels or {}
        if labels.get(LABEL_SESSION) == self.session_id:
            return True
        return created >= self.since and not _foreign(labels, self.session_id)

    def containers(self) -> list[dict]:
        """Inspect data of the session's containers and of every container made since (not the lab)."""
        out = []
        for summary in self.api.containers(all=True):
            if summary["Id"] == self.lab.container_id:
                continue
            if not self._wanted(summary.get("Labels"), _ts(summary.get("Created"))):
                continue
            try:
                out.append(self.api.inspect_container(summary["Id"]))
            except NotFound:
                continue
        return out

    def volumes(self) -> list[dict]:
        # unlabelled (anonymous) volumes of another session's or harness's containers are theirs
        theirs = set()
        for summary in self.api.containers(all=True):
            if _foreign(summary.get("Labels") or {}, self.session_id):
                theirs |= {m.get("Name") for m in summary.get("Mounts") or [] if m.get("Type") == "volume"}
        out = []
        for volume in self.api.volumes().get("Volumes") or []:
            mine = (volume.get("Labels") or {}).get(LABEL_SESSION) == self.session_id
            if not mine and volume.get("Name") in theirs:
                continue
            if self._wanted(volume.get("Labels"), _ts(volume.get("CreatedAt"))):
                out.append(volume)
        return out

    def networks(self) -> list[dict]:
        out = []
        for network in self.api.networks():
            if network.get("Name") in ("bridge", "host", "none"):
                continue
            if self._wanted(network.get("Labels"), _ts(network.get("Created"))):
                out.append(network)
        return out

    def execs(self, containers: list[dict]) -> list[tuple[str, dict]]:
        """(container name, exec inspect) of every exec the engine still holds for these
        containers and for the lab container."""
        ids = [(c.get("Name", ""), c.get("ExecIDs") or []) for c in containers]
        try:
            lab = self.api.inspect_container(self.lab.container_id)
            ids.append(("(the lab container)", lab.get("ExecIDs") or []))
        except NotFound:
            pass
        out = []
        for name, exec_ids in ids:
            for exec_id in exec_ids:
                try:
                    out.append((name, self.api.exec_inspect(exec_id)))
                except (NotFound, APIError):
                    continue
        return out

    # --- the rules -----------------------------------------------------------------------------
    def container_problems(self, c: dict) -> list[str]:
        name = c.get("Name", "?").lstrip("/")
        hc = c.get("HostConfig") or {}
        labels = (c.get("Config") or {}).get("Labels") or {}
        out = []

        def bad(text: str) -> None:
            out.append(f"container {name} ({c['Id'][:12]}): {text}")

        if not labels.get(LABEL_SESSION):
            bad("carries no session label (made by a request the gateway did not check)")
        if hc.get("Privileged"):
            bad("is privileged")
        caps = {str(x).upper().removeprefix("CAP_") for x in hc.get("CapAdd") or []}
        if caps - DOCKER_DEFAULT_CAPS:
            bad(f"adds capabilities beyond Docker's defaults: {sorted(caps - DOCKER_DEFAULT_CAPS)}")
        if hc.get("Capabilities"):
            bad(f"sets the full capability list {hc['Capabilities']}")
        if hc.get("Devices") or hc.get("DeviceRequests") or hc.get("DeviceCgroupRules"):
            bad(f"has devices {hc.get('Devices') or hc.get('DeviceRequests') or hc.get('DeviceCgroupRules')}")
        for key in NAMESPACE_MODES:
            value = str(hc.get(key) or "")
            if value == "host":
                bad(f"{key} is host")
            elif value.startswith("container:"):
                target = value.split(":", 1)[1]
                if not self._own_student_container(target):
                    bad(f"{key} joins {target}, which is not one of the session's containers")
        for spec in hc.get("Binds") or []:
            source = str(spec).split(":", 1)[0]
            if source.startswith("/") and not _inside(source, self.binds):
                bad(f"binds host path {source}")
        for mount in hc.get("Mounts") or []:
            kind = str(mount.get("Type") or "").lower()
            if kind == "bind" and not _inside(str(mount.get("Source") or ""), self.binds):
                bad(f"mounts host path {mount.get('Source')} (HostConfig.Mounts)")
            driver = (mount.get("VolumeOptions") or {}).get("DriverConfig") or {}
            if driver.get("Options") or (driver.get("Name") or "local") != "local":
                bad(f"mounts a volume with driver options {driver}")
        for mount in c.get("Mounts") or []:
            if mount.get("Type") == "bind" and not _inside(str(mount.get("Source") or ""), self.binds):
                bad(f"has a bind mount of host path {mount.get('Source')} at {mount.get('Destination')}")
        for opt in hc.get("SecurityOpt") or []:
            key = re.split(r"[=:]", str(opt), maxsplit=1)[0].strip().lower()
            value = str(opt)[len(key) + 1 :].strip().lower() if len(str(opt)) > len(key) else "true"
            if key != "no-new-privileges" or value not in ("", "true", "1"):
                bad(f"has security option {opt}")
        expected_parent = self.policy.get("cgroup_parent") or ""
        if (hc.get("CgroupParent") or "") != expected_parent:
            bad(f"cgroup parent is {hc.get('CgroupParent')!r}, not the lab's {expected_parent!r}")
        pids = hc.get("PidsLimit")
        limit = int(self.policy.get("pids_limit") or 0)
        if not isinstance(pids, int) or not 1 <= pids <= limit:
            bad(f"PidsLimit is {pids!r} (the lab allows 1..{limit})")
        for ulimit in hc.get("Ulimits") or []:
            if str(ulimit.get("Name") or "").lower() in FORBIDDEN_ULIMITS:
                bad(f"has ulimit {ulimit}")
        memory = hc.get("Memory")
        budget = int(self.policy.get("memory_bytes") or 0)
        if not isinstance(memory, int) or not 0 < memory <= budget:
            bad(f"Memory is {memory!r} (the lab allows at most {budget})")
        if hc.get("Sysctls"):
            bad(f"has sysctls {hc['Sysctls']}")
        if hc.get("OomKillDisable"):
            bad("has the OOM killer disabled")
        runtime = hc.get("Runtime") or "runc"
        if runtime != (self.policy.get("runtime") or "runc"):
            bad(f"runs with runtime {runtime}, not the lab's")
        return out

    def _own_student_container(self, ref: str) -> bool:
        try:
            data = self.api.inspect_container(ref)
        except NotFound:
            return False
        labels = (data.get("Config") or {}).get("Labels") or {}
        return (
            data["Id"] != self.lab.container_id
            and labels.get(LABEL_SESSION) == self.session_id
            and labels.get(LABEL_KIND) == "student"
        )

    @staticmethod
    def volume_problems(volume: dict) -> list[str]:
        out = []
        if (volume.get("Driver") or "local") != "local":
            out.append(f"volume {volume['Name']}: driver {volume.get('Driver')}")
        if volume.get("Options"):
            out.append(f"volume {volume['Name']}: driver options {volume['Options']} (a host mount)")
        return out

    @staticmethod
    def network_problems(network: dict) -> list[str]:
        name = network.get("Name")
        out = []
        if network.get("Driver") != "bridge":
            out.append(f"network {name}: driver {network.get('Driver')}")
        if not network.get("Internal"):
            out.append(f"network {name}: not internal")
        if network.get("EnableIPv6"):
            out.append(f"network {name}: IPv6")
        if network.get("Ingress") or network.get("ConfigOnly") or (network.get("Scope") or "local") != "local":
            out.append(f"network {name}: swarm or config-only")
        return out

    def problems(self) -> list[str]:
        containers = self.containers()
        out = []
        for c in containers:
            out += self.container_problems(c)
        for name, info in self.execs(containers):
            if info.get("Privileged") or (info.get("ProcessConfig") or {}).get("privileged"):
                out.append(
                    f"exec {info.get('ID', '?')[:12]} in {name.lstrip('/')}: privileged ({info.get('ProcessConfig')})"
                )
        for volume in self.volumes():
            out += self.volume_problems(volume)
        for network in self.networks():
            out += self.network_problems(network)
        return out


def problems(lab, since: float) -> list[str]:
    return View(lab, since).problems()


def assert_clean(lab, since: float) -> None:
    """Every container, exec, volume and network of the session (or made since `since`) keeps
    the lab's rules."""
    found = problems(lab, since)
    assert not found, "the engine holds what the lab forbids:\n  " + "\n  ".join(found)


# --- looking things up and cleaning up -----------------------------------------------------------------


def container_named(name: str) -> dict | None:
    """Inspect data of the container called exactly `name` on the engine, if any."""
    try:
        return engine().api.inspect_container(name)
    except NotFound:
        return None


def containers_named_like(fragment: str) -> list[str]:
    return [
        (c.get("Names") or ["?"])[0].lstrip("/")
        for c in engine().api.containers(all=True)
        if any(fragment in n for n in c.get("Names") or [])
    ]


def image_id(ref: str) -> str | None:
    try:
        return engine().images.get(ref).id
    except (NotFound, APIError):
        return None


def _own_or_scratch(labels: dict | None, name: str, session_id: str) -> bool:
    labels = labels or {}
    if labels.get(LABEL_SESSION) == session_id:
        return labels.get(LABEL_KIND) == "student"
    return not any(k.startswith(LABEL_PREFIX) for k in labels) and name.lstrip("/").startswith(SCRATCH_PREFIX)


def cleanup(lab, since: float, *, names: tuple[str, ...] = ()) -> None:
    """Remove what a test made: the session's student containers, volumes and networks made since
    `since`, anything unlabelled made since whose name starts with `sectest-`, and the containers
    called `names`. The lab container, its network and everything made before stay."""
    api = engine().api
    since = float(int(since))
    session_id = str(lab.session_id)
    for summary in api.containers(all=True):
        name = (summary.get("Names") or [""])[0].lstrip("/")
        if summary["Id"] == lab.container_id:
            continue
        if name in names or (
            _ts(summary.get("Created")) >= since and _own_or_scratch(summary.get("Labels"), name, session_id)
        ):
            try:
                api.remove_container(summary["Id"], force=True, v=True)
            except (NotFound, APIError):
                pass
    lab_network = lab.policy.get("lab_network")
    for network in api.networks():
        labels = network.get("Labels") or {}
        mine = labels.get(LABEL_SESSION) == session_id and labels.get(LABEL_KIND) != "lab-network"
        scratch = not labels and str(network.get("Name", "")).startswith(SCRATCH_PREFIX)
        if network.get("Name") == lab_network or _ts(network.get("Created")) < since or not (mine or scratch):
            continue
        try:
            for cid in (api.inspect_network(network["Id"]).get("Containers") or {}).keys():
                api.disconnect_container_from_network(cid, network["Id"], force=True)
            api.remove_network(network["Id"])
        except (NotFound, APIError):
            pass
    for volume in api.volumes().get("Volumes") or []:
        labels = volume.get("Labels") or {}
        if _ts(volume.get("CreatedAt")) < since:
            continue
        if labels.get(LABEL_SESSION) == session_id or (
            not labels and str(volume.get("Name", "")).startswith(SCRATCH_PREFIX)
        ):
            try:
                api.remove_volume(volume["Name"], force=True)
            except (NotFound, APIError):
                pass
    for image in api.images(all=True):
        for tag in image.get("RepoTags") or []:
            if tag.startswith(SCRATCH_PREFIX) or ":" + SCRATCH_PREFIX in tag:
                try:
                    api.remove_image(tag, noprune=False)
                except (NotFound, APIError):
                    pass
