"""What the engine actually made, checked against what a session may have.

`labs.gateway.policy` decides what a request may *ask*; this module checks what the engine *did*.
The gateway calls these functions on the engine's own inspect JSON after the engine has acted
(create, start, update, exec create, network and volume create) and undoes whatever has a problem
(removes the container and the volumes it made, the network, the exec's container). Because the
input is the engine's view, not the request, the check holds even when the engine reads a request
differently from the gateway (case-insensitive keys, the last of duplicate keys, HostConfig at start
for old API versions, form bodies, the next differential nobody has found yet).

Pure functions over the Engine API's JSON (API 1.41, Docker 20.10), no I/O. Each returns short
English sentences naming the field and the value, empty when every invariant holds. They fail
closed: a field that is missing, of the wrong type or unknown is a problem, never a pass.

What this engine reports (captured in tests/unit/gateway/fixtures/inspect):

- `MaskedPaths` / `ReadonlyPaths` hold the effective lists, filled in at create time: Docker's
  defaults unless asked otherwise; `--security-opt systempaths=unconfined` (the API's
  `"MaskedPaths": []`) is reported as `[]`, which unmasks /proc/kcore, /proc/keys, /sys/firmware...
- `CgroupnsMode` is filled in too: `"host"` when nothing was asked on cgroup v1.
- `PidsLimit` is `null` both when it was not set and for `--pids-limit -1` (unlimited).
- `SecurityOpt` keeps the spelling that was asked (`no-new-privileges`), and the engine adds
  `label=disable` by itself for `--pid host` / `--ipc host`.
- `CapAdd` keeps what was asked (the 28.x CLI sends `CAP_NET_ADMIN`).
- An image's labels are merged into `Config.Labels` (the gateway blanks its own org.berth.* ones).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from labs.runtime.labels import BRIDGE_PREFIX

from . import names as n

# Docker's default capability set (moby/oci/caps/defaults.go): what a container has unless told otherwise.
DEFAULT_CAPS = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    }
)


def normalize_cap(cap: str) -> str:
    cap = str(cap).strip().upper()
    return cap[4:] if cap.startswith("CAP_") else cap


# Resource limits (setrlimit) a student container may set, and the largest hard value for each.
# Everything else is never allowed; the engine applies a ulimit as root, so the container gets
# whatever is asked, beyond what the gateway (or the host) has:
# - rtprio / rttime: real-time scheduling without CAP_SYS_NICE; a SCHED_FIFO busy loop preempts
#   every normal task on its CPU, outside the CPU quota the lab's cgroup enforces.
# - nice: raise priority above the host's own processes.
# - memlock: pins memory that can never be reclaimed or swapped (and on older kernels it is the
#   budget for BPF maps and io_uring buffers, charged outside the memory cgroup).
# - msgqueue / sigpending: kernel memory (POSIX message queues, queued signals) counted per user
#   across the whole host, not per container.
# - core: core files are written into the container's layer on the host disk, which has no quota.
# - as / data / stack / fsize / cpu / rss / locks: only restrict the container; nothing a lab does
#   needs them, and an allowlist keeps the reasoning short.
# nofile: up to the kernel's default fs.nr_open (1048576), what dockerd itself runs with.
# nproc: counted per uid, but the lab's pids cgroup is the real cap; 65536 is far above any lab's.
ALLOWED_ULIMITS: Mapping[str, int] = MappingProxyType({"nofile": 1048576, "nproc": 65536})

# Docker's defaults (moby oci/defaults.go), as Docker 20.10 reports them on inspect. Newer engines
# add more (/sys/devices/virtual/powercap); the check is "at least these", so they still pass.
DEFAULT_MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
)
DEFAULT_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

STUDENT_KIND = n.KIND_STUDENT
IPC_MODES = frozenset({"", "private", "shareable", "none"})
PROPAGATIONS = frozenset({"", "private", "rprivate"})
SHARED_PROPAGATIONS = frozenset({"shared", "rshared", "slave", "rslave"})
LOG_DRIVERS = frozenset({"json-file", "none"})
NO_NEW_PRIVILEGES = "no-new-privileges"
TRUE_WORDS = frozenset({"true", "1", "t"})  # what Go's strconv.ParseBool reads as true (any case)
DEFAULT_CPU_PERIOD = 100_000
NETWORK_OPTIONS = frozenset(
    {"com.docker.network.driver.mtu", "com.docker.network.bridge.inhibit_ipv4", "com.docker.network.bridge.name"}
)
INHIBIT_IPV4 = "com.docker.network.bridge.inhibit_ipv4"
BRIDGE_NAME = "com.docker.network.bridge.name"
RESERVED_NETWORKS = frozenset({"host", "bridge", "default", "none"})


@dataclass(frozen=True)
class Scope:
    """What one session's objects may be: built by the gateway from the session's policy and objects."""

    session_id: str
    binds_dir: str  # host dir under which this session's bind sources live; a bind source must be inside it
    cgroup_parent: str  # every container's HostConfig.CgroupParent must equal this
    runtime: str  # "" = the engine default ("runc")
    memory_bytes: int
    pids_limit: int
    cpus: float
    networks: frozenset[str]  # names AND ids of networks the session may attach to
    containers: frozenset[str]  # full ids of the session's student containers (container:<id> modes, VolumesFrom)
    ulimits: Mapping[str, int] = field(default_factory=lambda: ALLOWED_ULIMITS, hash=False)
    default_cgroupns: str = "host"  # what this engine uses when none is asked (cgroup v1: host, v2: private)

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", frozenset(self.networks))
        object.__setattr__(self, "containers", frozenset(self.containers))


# --- small helpers ---------------------------------------------------------------------------------


def _show(value) -> str:
    """A value as the engine's JSON spells it (null, "host", -1)."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _int(value) -> int | None:
    """An integer from the JSON, or None (missing, null, a bool, a string, a float)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _zero(value) -> bool:
    """Unset: null, missing or 0."""
    return value is None or _int(value) == 0


def _empty(value) -> bool:
    return value is None or (isinstance(value, list | dict | str) and not value)


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _container_target(value: str) -> str | None:
    return value[len("container:") :] if value.startswith("container:") else None


def _inside(path, root: str) -> bool:
    """Is `path` strictly below `root`? Lexical only, so it refuses what could resolve elsewhere:
    not absolute, NUL, any `..` component (the kernel resolves `..` after symlinks, normpath before)."""
    root = posixpath.normpath(root or ".")
    if not root.startswith("/") or root in ("/", "//"):
        return False  # no bind directory (or the whole host): no bind is inside
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path or ".." in path.split("/"):
        return False
    return posixpath.normpath(path).startswith(root + "/")


def _split_bind(spec) -> tuple[str, str, list[str]] | None:
    """`HostConfig.Binds` entry -> (source, target, options); source "" for an anonymous volume.
    None when the engine could not have taken it (it splits on ":" into 1 to 3 parts on Linux)."""
    if not isinstance(spec, str):
        return None
    parts = spec.split(":")
    if len(parts) == 1:
        return "", parts[0], []
    if len(parts) > 3:
        return None
    return parts[0], parts[1], [o for o in (parts[2] if len(parts) == 3 else "").split(",") if o]


def _no_new_privileges(opt: str) -> bool:
    if opt == NO_NEW_PRIVILEGES:
        return True
    for sep in ("=", ":"):
        key, found, value = opt.partition(sep)
        if found and key == NO_NEW_PRIVILEGES:
            return value.lower() in TRUE_WORDS
    return False


# --- containers --------------------------------------------------------------------------------------


def container_problems(inspect: dict, scope: Scope) -> list[str]:
    """GET /containers/{id}/json of a student container: every invariant that does not hold."""
    if not isinstance(inspect, dict):
        return ["the container inspect answer is not a JSON object."]
    host = inspect.get("HostConfig")
    if not isinstance(host, dict):
        return ["the container inspect answer has no HostConfig."]
    out: list[str] = []
    _check_labels(_dict(inspect.get("Config")).get("Labels"), scope, out)
    _check_privileges(host, out)
    _check_namespaces(host, scope, out)
    _check_network(host, _dict(inspect.get("NetworkSettings")), scope, out)
    _check_security_opt(host.get("SecurityOpt"), out)
    _check_runtime(host, scope, out)
    _check_resources(host, scope, out)
    _check_ulimits(host.get("Ulimits"), scope, out)
    _check_system_paths(host, out)
    _check_logs_and_drivers(host, out)
    _check_binds(host.get("Binds"), scope, out)
    _check_reported_mounts(inspect.get("Mounts"), scope, out)
    _check_requested_mounts(host.get("Mounts"), scope, out)
    _check_volumes_from(host.get("VolumesFrom"), scope, out)
    return out


def volume_names(inspect: dict) -> list[str]:
    """The volumes a container inspect mounts (named and anonymous), in order, each once: the caller
    inspects each with `volume_problems` (a local volume with driver options can be a host mount)."""
    found: list[str] = []
    if not isinstance(inspect, dict):
        return found
    for mount in _items(inspect.get("Mounts")):
        if _dict(mount).get("Type") == "volume" and mount.get("Name"):
            found.append(str(mount["Name"]))
    host = _dict(inspect.get("HostConfig"))
    for spec in _items(host.get("Binds")):
        parsed = _split_bind(spec)
        if parsed and parsed[0] and not parsed[0].startswith("/"):
            found.append(parsed[0])
    for mount in _items(host.get("Mounts")):
        if _dict(mount).get("Type") == "volume" and mount.get("Source"):
            found.append(str(mount["Source"]))
    return list(dict.fromkeys(found))


def _check_labels(labels, scope: Scope, out: list[str]) -> None:
    labels = _dict(labels)
    if labels.get(n.LABEL_SESSION) != scope.session_id:
        out.append(f"label {n.LABEL_SESSION} is {_show(labels.get(n.LABEL_SESSION))}, not this session's.")
    if labels.get(n.LABEL_KIND) != STUDENT_KIND:
        out.append(f"label {n.LABEL_KIND} is {_show(labels.get(n.LABEL_KIND))}, not {_show(STUDENT_KIND)}.")


def _check_privileges(host: dict, out: list[str]) -> None:
    if host.get("Privileged") not in (False, None):
        out.append("Privileged is on: the container has full access to the host.")
    if not isinstance(host.get("CapAdd"), list | None):
        out.append("CapAdd is not a list.")
    for cap in _items(host.get("CapAdd")):
        if normalize_cap(cap) not in DEFAULT_CAPS:
            out.append(f"CapAdd adds {normalize_cap(cap)}, beyond Docker's default capabilities.")
    if not _empty(host.get("Capabilities")):
        out.append("Capabilities (the full capability list) is set.")
    for device in _items(host.get("Devices")):
        out.append(f"Devices maps the host's {_dict(device).get('PathOnHost') or device!s}.")
    if not isinstance(host.get("Devices"), list | None):
        out.append("Devices is not a list.")
    if not _empty(host.get("DeviceRequests")):
        out.append("DeviceRequests asks for host devices.")
    if not _empty(host.get("DeviceCgroupRules")):
        out.append(f"DeviceCgroupRules allows devices: {host.get('DeviceCgroupRules')}.")


def _check_namespaces(host: dict, scope: Scope, out: list[str]) -> None:
    pid = host.get("PidMode")
    if pid != "" and _container_target(str(pid)) not in scope.containers:
        out.append(f"PidMode is {_show(pid)}: only the container's own or one of the session's containers.")
    ipc = host.get("IpcMode")
    if ipc not in IPC_MODES and _container_target(str(ipc)) not in scope.containers:
        out.append(f"IpcMode is {_show(ipc)}: only private, shareable, none or one of the session's containers.")
    if host.get("UTSMode") != "":
        out.append(f"UTSMode is {_show(host.get('UTSMode'))}, not the container's own.")
    if host.get("UsernsMode") != "":
        out.append(f"UsernsMode is {_show(host.get('UsernsMode'))}, not the engine's default.")
    cgroupns = host.get("CgroupnsMode")
    allowed = {"", "private"} | ({"host"} if scope.default_cgroupns == "host" else set())
    if cgroupns not in allowed:
        out.append(f"CgroupnsMode is {_show(cgroupns)}: only private or the default ({scope.default_cgroupns}).")
    if host.get("Cgroup") != "":
        out.append(f"Cgroup is {_show(host.get('Cgroup'))}: the container's cgroup must be its own.")


def _check_network(host: dict, settings: dict, scope: Scope, out: list[str]) -> None:
    mode = host.get("NetworkMode")
    target = _container_target(str(mode))
    if target is not None:
        if target not in scope.containers:
            out.append(f"NetworkMode is {_show(mode)}, not one of the session's containers.")
    elif mode != "none" and (mode in RESERVED_NETWORKS or mode not in scope.networks):
        out.append(f"NetworkMode is {_show(mode)}, not one of the session's networks.")
    networks = settings.get("Networks")
    if not isinstance(networks, dict | None):
        out.append("NetworkSettings.Networks is not an object.")
        networks = {}
    for name, endpoint in (networks or {}).items():
        if name == "none" and mode == "none" and len(networks) == 1:
            continue
        if name in RESERVED_NETWORKS or name not in scope.networks:
            out.append(f"NetworkSettings.Networks has {_show(name)}, not one of the session's networks.")
            continue
        network_id = _dict(endpoint).get("NetworkID")
        if network_id and network_id not in scope.networks:
            out.append(f"NetworkSettings.Networks {_show(name)} is network {network_id}, not one of the session's.")
    for port, bindings in _dict(settings.get("Ports")).items():
        if not _empty(bindings):
            out.append(f"NetworkSettings.Ports publishes {port} on the host.")
    if not _empty(host.get("PortBindings")):
        out.append(f"PortBindings publishes {', '.join(sorted(_dict(host.get('PortBindings'))))} on the host.")
    if host.get("PublishAllPorts") not in (False, None):
        out.append("PublishAllPorts is on: ports would be published on the host.")


def _check_security_opt(opts, out: list[str]) -> None:
    opts = opts if isinstance(opts, list) else []
    if not any(_no_new_privileges(str(o)) for o in opts):
        out.append("SecurityOpt lacks no-new-privileges.")
    for opt in opts:
        if not _no_new_privileges(str(opt)):
            out.append(f"SecurityOpt has {opt!s}: only no-new-privileges is allowed.")


def _check_runtime(host: dict, scope: Scope, out: list[str]) -> None:
    runtime = scope.runtime or "runc"
    if host.get("Runtime") != runtime:
        out.append(f"Runtime is {_show(host.get('Runtime'))}, not {_show(runtime)}.")
    if host.get("Isolation") not in ("", "default", None):
        out.append(f"Isolation is {_show(host.get('Isolation'))}, not the default.")
    if host.get("CgroupParent") != scope.cgroup_parent:
        out.append(f"CgroupParent is {_show(host.get('CgroupParent'))}, not the lab's {_show(scope.cgroup_parent)}.")


def _check_resources(host: dict, scope: Scope, out: list[str]) -> None:
    pids = _int(host.get("PidsLimit"))
    if pids is None or pids <= 0:
        out.append(f"PidsLimit is {_show(host.get('PidsLimit'))} (unlimited); at most {scope.pids_limit}.")
    elif pids > scope.pids_limit:
        out.append(f"PidsLimit is {pids}, above the session's {scope.pids_limit}.")
    memory = _int(host.get("Memory"))
    if memory is None or memory <= 0:
        out.append(f"Memory is {_show(host.get('Memory'))} (unlimited); the most is {scope.memory_bytes}.")
    elif memory > scope.memory_bytes:
        out.append(f"Memory is {memory}, above the session's {scope.memory_bytes}.")
    if host.get("MemorySwap") != host.get("Memory") or _int(host.get("MemorySwap")) is None:
        swap, memory_shown = _show(host.get("MemorySwap")), _show(host.get("Memory"))
        out.append(f"MemorySwap is {swap}, not Memory ({memory_shown}): no swap beyond memory.")
    reservation = host.get("MemoryReservation")
    if not _zero(reservation) and (_int(reservation) is None or memory is None or _int(reservation) > memory):
        out.append(f"MemoryReservation is {_show(reservation)}, above Memory.")
    for key in ("KernelMemory", "KernelMemoryTCP"):
        if not _zero(host.get(key)):
            out.append(f"{key} is {_show(host.get(key))}: kernel memory limits are not used.")
    nano = host.get("NanoCpus")
    if not _zero(nano) and (_int(nano) is None or nano < 0 or nano > int(scope.cpus * 1e9)):
        out.append(f"NanoCpus is {_show(nano)}, above the session's {scope.cpus:g} CPUs.")
    quota = host.get("CpuQuota")
    if _int(quota) is None and quota is not None:
        out.append(f"CpuQuota is {_show(quota)}, not a number.")
    elif (quota or 0) > 0:
        period = _int(host.get("CpuPeriod")) or DEFAULT_CPU_PERIOD
        if quota > scope.cpus * period * (1 + 1e-9):
            out.append(f"CpuQuota {quota} per CpuPeriod {period} is above the session's {scope.cpus:g} CPUs.")
    for key in ("CpuRealtimePeriod", "CpuRealtimeRuntime"):
        if not _zero(host.get(key)):
            out.append(f"{key} is {_show(host.get(key))}: real-time CPU scheduling is not allowed.")
    if host.get("OomKillDisable") not in (False, None):
        out.append("OomKillDisable is on: the kernel could not end the container when the lab runs out of memory.")
    score = host.get("OomScoreAdj")
    if not _zero(score) and (_int(score) is None or score < 0):
        out.append(f"OomScoreAdj is {_show(score)}: below 0 would make the host's processes die first.")
    if not _empty(host.get("Sysctls")):
        out.append(f"Sysctls sets {', '.join(sorted(map(str, _dict(host.get('Sysctls')))) or host.get('Sysctls'))}.")


def _check_ulimits(ulimits, scope: Scope, out: list[str]) -> None:
    if not isinstance(ulimits, list | None):
        out.append("Ulimits is not a list.")
        return
    for ulimit in ulimits or []:
        ulimit = _dict(ulimit)
        name, soft, hard = ulimit.get("Name"), _int(ulimit.get("Soft")), _int(ulimit.get("Hard"))
        if name not in scope.ulimits:
            out.append(f"Ulimits sets {name}, which is never allowed (only {', '.join(sorted(scope.ulimits))}).")
        elif hard is None or hard < 0 or hard > scope.ulimits[name]:
            out.append(f"Ulimits {name} hard limit {_show(ulimit.get('Hard'))} is above {scope.ulimits[name]}.")
        elif soft is None or soft < 0 or soft > hard:
            out.append(f"Ulimits {name} soft limit {_show(ulimit.get('Soft'))} is above its hard limit {hard}.")


def _check_system_paths(host: dict, out: list[str]) -> None:
    for key, defaults, what in (
        ("MaskedPaths", DEFAULT_MASKED_PATHS, "unmasked"),
        ("ReadonlyPaths", DEFAULT_READONLY_PATHS, "writable"),
    ):
        paths = host.get(key)
        if not isinstance(paths, list):
            out.append(f"{key} is {_show(paths)}, not the engine's list (Docker's defaults at least).")
            continue
        missing = [p for p in defaults if p not in paths]
        if missing:
            out.append(f"{key} leaves {', '.join(missing)} {what}.")


def _check_logs_and_drivers(host: dict, out: list[str]) -> None:
    log = _dict(host.get("LogConfig")).get("Type")
    if log not in LOG_DRIVERS:
        out.append(f"LogConfig.Type is {_show(log)}, not json-file or none.")
    if host.get("VolumeDriver") not in ("", "local", None):
        out.append(f"VolumeDriver is {_show(host.get('VolumeDriver'))}, not local.")


def _check_binds(binds, scope: Scope, out: list[str]) -> None:
    if not isinstance(binds, list | None):
        out.append("Binds is not a list.")
        return
    for spec in binds or []:
        parsed = _split_bind(spec)
        if parsed is None:
            out.append(f"Binds has {_show(spec)}, which is not source:target[:options].")
            continue
        source, _target, options = parsed
        if source.startswith("/"):
            if not _inside(source, scope.binds_dir):
                out.append(f"Binds mounts the host's {source}, outside the session's bind directory.")
        elif source and not n.NAME_RE.match(source):
            out.append(f"Binds has source {_show(source)}, neither an absolute path nor a volume name.")
        shared = [o for o in options if o in SHARED_PROPAGATIONS]
        if shared:
            out.append(f"Binds entry {spec} has propagation {shared[0]}: only private.")


def _check_reported_mounts(mounts, scope: Scope, out: list[str]) -> None:
    """The top-level Mounts: what the engine mounted (binds, volumes, tmpfs) whatever the request said."""
    if not isinstance(mounts, list | None):
        out.append("Mounts is not a list.")
        return
    for mount in mounts or []:
        mount = _dict(mount)
        kind, source = mount.get("Type"), mount.get("Source")
        if kind == "bind":
            if not _inside(source, scope.binds_dir):
                out.append(f"Mounts has a bind of the host's {source}, outside the session's bind directory.")
            if mount.get("Propagation") not in PROPAGATIONS:
                out.append(f"Mounts has a bind of {source} with propagation {mount.get('Propagation')}: only private.")
        elif kind == "volume":
            if mount.get("Driver") not in ("", "local", None):
                out.append(f"Mounts has volume {mount.get('Name')} of driver {mount.get('Driver')}, not local.")
        elif kind != "tmpfs":
            out.append(f"Mounts has a mount of type {_show(kind)} ({source}): only bind, volume and tmpfs.")


def _check_requested_mounts(mounts, scope: Scope, out: list[str]) -> None:
    """HostConfig.Mounts: the same rules on the stored request (it applies again at every start)."""
    if not isinstance(mounts, list | None):
        out.append("HostConfig.Mounts is not a list.")
        return
    for mount in mounts or []:
        mount = _dict(mount)
        kind, source = mount.get("Type"), mount.get("Source")
        if kind == "bind":
            if not _inside(source, scope.binds_dir):
                out.append(f"HostConfig.Mounts binds the host's {source}, outside the session's bind directory.")
            propagation = _dict(mount.get("BindOptions")).get("Propagation")
            if propagation not in PROPAGATIONS | {None}:
                out.append(f"HostConfig.Mounts binds {source} with propagation {propagation}: only private.")
        elif kind == "volume":
            driver = _dict(_dict(mount.get("VolumeOptions")).get("DriverConfig"))
            if driver.get("Name") not in ("", "local", None) or not _empty(driver.get("Options")):
                out.append(f"HostConfig.Mounts has volume {source or '(anonymous)'} with a driver or driver options.")
        elif kind != "tmpfs":
            out.append(f"HostConfig.Mounts has a mount of type {_show(kind)} ({source}): only bind, volume and tmpfs.")


def _check_volumes_from(refs, scope: Scope, out: list[str]) -> None:
    if not isinstance(refs, list | None):
        out.append("VolumesFrom is not a list.")
        return
    for ref in refs or []:
        if str(ref).split(":")[0] not in scope.containers:
            out.append(f"VolumesFrom takes volumes from {ref}, not one of the session's containers.")


# --- volumes, networks, execs ----------------------------------------------------------------------


def volume_problems(inspect: dict, scope: Scope) -> list[str]:
    """GET /volumes/{name}: a plain local volume of this session (driver options can mount host paths)."""
    if not isinstance(inspect, dict):
        return ["the volume inspect answer is not a JSON object."]
    out: list[str] = []
    name = inspect.get("Name")
    if inspect.get("Driver") != "local":
        out.append(f"volume {name} has driver {_show(inspect.get('Driver'))}, not local.")
    options = inspect.get("Options")
    if not _empty(options):
        keys = ", ".join(sorted(map(str, _dict(options)))) or str(options)
        out.append(f"volume {name} has driver options ({keys}): a local volume with options can mount a host path.")
    labels = _dict(inspect.get("Labels"))
    if labels.get(n.LABEL_SESSION) != scope.session_id:
        out.append(f"volume {name} label {n.LABEL_SESSION} is {_show(labels.get(n.LABEL_SESSION))}, not the session's.")
    return out


def network_problems(inspect: dict, scope: Scope) -> list[str]:
    """GET /networks/{id}: an internal, IPv4-only local bridge of this session whose bridge holds no
    host address (inhibit_ipv4), so nothing on it can reach the host."""
    if not isinstance(inspect, dict):
        return ["the network inspect answer is not a JSON object."]
    out: list[str] = []
    name = inspect.get("Name")
    labels = _dict(inspect.get("Labels"))
    if labels.get(n.LABEL_SESSION) != scope.session_id:
        session = _show(labels.get(n.LABEL_SESSION))
        out.append(f"network {name} label {n.LABEL_SESSION} is {session}, not this session's.")
    if inspect.get("Driver") != "bridge":
        out.append(f"network {name} has driver {_show(inspect.get('Driver'))}, not bridge.")
    if inspect.get("Internal") is not True:
        out.append(f"network {name} is not Internal: it would route off the machine.")
    if inspect.get("EnableIPv6") not in (False, None):
        out.append(f"network {name} has EnableIPv6 on.")
    if inspect.get("Scope") != "local":
        out.append(f"network {name} has Scope {_show(inspect.get('Scope'))}, not local.")
    if inspect.get("Ingress") not in (False, None):
        out.append(f"network {name} is an Ingress network.")
    if inspect.get("ConfigOnly") not in (False, None):
        out.append(f"network {name} is ConfigOnly.")
    config_from = inspect.get("ConfigFrom")
    if not _empty(config_from) and not _empty(_dict(config_from).get("Network", config_from)):
        out.append(f"network {name} has ConfigFrom {_show(config_from)}.")
    ipam = _dict(inspect.get("IPAM"))
    if ipam.get("Driver") != "default":
        out.append(f"network {name} has IPAM.Driver {_show(ipam.get('Driver'))}, not default.")
    if not _empty(ipam.get("Options")):
        out.append(f"network {name} has IPAM.Options {_show(ipam.get('Options'))}.")
    options = inspect.get("Options")
    if not isinstance(options, dict | None):
        out.append(f"network {name} has Options that are not an object.")
        options = {}
    for key in sorted(set(options or {}) - NETWORK_OPTIONS):
        out.append(f"network {name} has option {key}.")
    if (options or {}).get(INHIBIT_IPV4) != "true":
        out.append(f"network {name} lacks {INHIBIT_IPV4}=true: its bridge would hold a host address.")
    bridge = str((options or {}).get(BRIDGE_NAME) or "")
    if not bridge.startswith(BRIDGE_PREFIX):
        out.append(f"network {name} has bridge {_show(bridge)}, not one the host's firewall closes ({BRIDGE_PREFIX}*).")
    return out


def exec_problems(inspect: dict, scope: Scope) -> list[str]:
    """GET /exec/{id}/json: not privileged, in one of the session's containers."""
    if not isinstance(inspect, dict):
        return ["the exec inspect answer is not a JSON object."]
    out: list[str] = []
    process = _dict(inspect.get("ProcessConfig"))
    if inspect.get("Privileged") not in (False, None) or process.get("privileged") not in (False, None):
        out.append("the exec is Privileged.")
    if inspect.get("ContainerID") not in scope.containers:
        out.append(f"the exec runs in container {inspect.get('ContainerID')}, not one of the session's.")
    return out
