"""What a session may ask the engine to do, and what is forced on everything it makes.

Pure functions over the Engine API's JSON bodies; no I/O. The gateway calls them in two steps for
a container create: `validate_create` refuses what is never allowed and lists the references the
body makes (containers, networks, volumes, bind sources, the image); the gateway resolves those
against the engine (the session's own objects only), then `rewrite_create` produces the body the
engine gets: the session's names, labels, cgroup parent and limits.

A refusal is a `Refused` (HTTP 403 with Docker's `{"message": ...}`), worded so the CLI's
"Error response from daemon: ..." reads as a sentence a student understands.
"""

from __future__ import annotations

import copy
import json
import posixpath
from dataclasses import dataclass, field

from labs.runtime.labels import NETWORK_OPTION_MTU, isolated_network_options

from . import names as n
from .invariants import ALLOWED_ULIMITS, DEFAULT_CAPS, normalize_cap  # noqa: F401 - re-exported

MAX_RESTARTS = 5
LOG_CONFIG = {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}}
BIND_ROOTS = ("/home/student", "/tmp")  # noqa: S108 - paths inside the lab container
BIND_REFUSED = "bind mounts are limited to your lab's home and /tmp"
BIND_OPTIONS = {"ro", "rw", "nocopy", "consistent", "cached", "delegated", "private", "rprivate"}
MAX_NETWORKS = 8  # networks a session may create (each takes an address pool on the host)
# Endpoint fields the engine fills in itself (or a driver reads): never taken from a student.
ENDPOINT_INTERNAL = frozenset({"NetworkID", "EndpointID", "DriverOpts", "Gateway", "IPAddress"})

# HostConfig's resource fields (also what `docker update` may send).
RESOURCE_KEYS = frozenset(
    """CpuShares Memory NanoCpus CgroupParent BlkioWeight BlkioWeightDevice BlkioDeviceReadBps
    BlkioDeviceWriteBps BlkioDeviceReadIOps BlkioDeviceWriteIOps CpuPeriod CpuQuota CpuRealtimePeriod
    CpuRealtimeRuntime CpusetCpus CpusetMems Devices DeviceCgroupRules DeviceRequests KernelMemory
    KernelMemoryTCP MemoryReservation MemorySwap MemorySwappiness OomKillDisable PidsLimit Ulimits CpuCount
    CpuPercent IOMaximumIOps IOMaximumBandwidth""".split()
)
# HostConfig fields the gateway understands. Anything else that is set is refused: a newer client
# must not smuggle an option past checks that do not know it.
HOST_CONFIG_KEYS = RESOURCE_KEYS | frozenset(
    """Binds ContainerIDFile LogConfig NetworkMode PortBindings RestartPolicy AutoRemove VolumeDriver
    VolumesFrom CapAdd CapDrop CgroupnsMode Dns DnsOptions DnsSearch ExtraHosts GroupAdd IpcMode Cgroup Links
    OomScoreAdj PidMode Privileged PublishAllPorts ReadonlyRootfs SecurityOpt StorageOpt Tmpfs UTSMode
    UsernsMode ShmSize Sysctls Runtime ConsoleSize Isolation Mounts MaskedPaths ReadonlyPaths Init
    Capabilities Annotations""".split()
)
UPDATE_KEYS = RESOURCE_KEYS | {"RestartPolicy"}


class Refused(Exception):
    """The request is not allowed (or not valid); `status` and `message` become Docker's error body."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Limits:
    """What policy.json says about every container the session makes."""

    memory_bytes: int
    pids_limit: int
    cpus: float
    cgroup_parent: str
    runtime: str
    labels: dict[str, str]  # the session's labels, kind=student

    @classmethod
    def from_policy(cls, policy: dict) -> Limits:
        return cls(
            memory_bytes=int(policy.get("memory_bytes") or 512 * 1024 * 1024),
            pids_limit=int(policy.get("pids_limit") or 256),
            cpus=float(policy.get("cpus") or 1.0),
            cgroup_parent=policy.get("cgroup_parent") or "",
            runtime=policy.get("runtime") or "",
            labels=session_labels(policy),
        )


def session_labels(policy: dict) -> dict[str, str]:
    labels = policy.get("labels") or {}
    out = {
        n.LABEL_INSTANCE: policy.get("instance") or labels.get(n.LABEL_INSTANCE, ""),
        n.LABEL_SESSION: policy.get("session_id") or labels.get(n.LABEL_SESSION, ""),
        n.LABEL_USER: labels.get(n.LABEL_USER, ""),
        n.LABEL_KIND: n.KIND_STUDENT,
    }
    if labels.get("org.berth.lab"):
        out["org.berth.lab"] = labels["org.berth.lab"]
    return out


# --- small parsers ------------------------------------------------------------------------------


def check_bind_source(path: str) -> str:
    """A host path a student gave as a bind source: absolute, no `..`, inside their home or /tmp.

    Returns the normalized path (the walk in labs.gateway.binds then refuses symlinks)."""
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        raise Refused(f"{BIND_REFUSED}: {path}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Refused(f"{BIND_REFUSED} (no '..' in paths): {path}")
    clean = "/" + "/".join(parts)
    if not any(clean == root or clean.startswith(root + "/") for root in BIND_ROOTS):
        raise Refused(f"{BIND_REFUSED}: {path}")
    return clean


@dataclass
class BindSpec:
    """One `HostConfig.Binds` entry: `source:target[:options]`."""

    source: str
    target: str
    options: list[str]

    @property
    def is_host_path(self) -> bool:
        return self.source.startswith("/")

    def render(self, source: str) -> str:
        return ":".join([source, self.target] + ([",".join(self.options)] if self.options else []))


def parse_bind(spec: str) -> BindSpec:
    parts = str(spec).split(":")
    if len(parts) == 1:
        return BindSpec(source="", target=parts[0], options=[])
    if len(parts) == 2:
        if parts[1].startswith("/"):
            return BindSpec(source=parts[0], target=parts[1], options=[])
        return BindSpec(source="", target=parts[0], options=[o for o in parts[1].split(",") if o])  # "/data:ro"
    if len(parts) == 3:
        return BindSpec(source=parts[0], target=parts[1], options=[o for o in parts[2].split(",") if o])
    raise Refused(f"invalid volume specification: '{spec}'", status=400)


def _security_opt_refusal(opt: str) -> str | None:
    """None when the option is fine to keep; a message when it is refused."""
    key, sep, value = opt.partition("=")
    if not sep:
        key, sep, value = opt.partition(":")
    key = key.strip().lower()
    if key == "no-new-privileges":
        return None
    if key == "seccomp":
        if value.strip() == "unconfined":
            return (
                "--security-opt seccomp=unconfined is not available in this lab (the default seccomp profile stays on)"
            )
        return "custom seccomp profiles are not available in this lab (the default profile stays on)"
    if key == "apparmor":
        return f"--security-opt apparmor={value} is not available in this lab"
    if key == "label":
        return f"--security-opt label={value} is not available in this lab"
    if key == "systempaths":
        return "--security-opt systempaths=unconfined is not available in this lab"
    return f"--security-opt {opt} is not available in this lab"


def _mode_target(value: str | None) -> str | None:
    if value and value.startswith("container:"):
        return value[len("container:") :]
    return None


# --- containers -----------------------------------------------------------------------------------


@dataclass
class CreateRefs:
    """What a create body refers to, to be resolved against the session's own objects."""

    image: str = ""
    containers: set[str] = field(default_factory=set)
    networks: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    binds: list[str] = field(default_factory=list)  # normalized host paths the student gave


@dataclass
class Resolved:
    image: str  # the host reference (or image id) to create from
    image_config: dict = field(default_factory=dict)  # the image's Config (Labels, Volumes, ExposedPorts)
    containers: dict[str, tuple[str, str]] = field(default_factory=dict)  # ref -> (host id, host name)
    networks: dict[str, str] = field(default_factory=dict)  # student name -> host name
    volumes: dict[str, str] = field(default_factory=dict)  # student name -> host name
    binds: dict[str, str] = field(default_factory=dict)  # student path -> host path (gateway-binds)
    ports: dict = field(default_factory=dict)  # "80/tcp" -> [{"HostIp", "HostPort"}], host ports chosen


def validate_host_config(host: dict, *, limits: Limits, keys=HOST_CONFIG_KEYS) -> None:
    """Refuse what no lab container may have. Shared by create and update."""
    for key, value in host.items():
        if key not in keys and value not in (None, "", [], {}, 0, False):
            raise Refused(f"the container option {key} is not available in this lab")
    if host.get("Privileged"):
        raise Refused(
            "privileged containers are not available in this lab (--privileged would give "
            "the container full access to the host)"
        )
    for cap in host.get("CapAdd") or []:
        name = normalize_cap(cap)
        if name == "ALL" or name not in DEFAULT_CAPS:
            raise Refused(
                f"--cap-add {name} is not available in this lab; containers can have Docker's default capabilities only"
            )
    if host.get("Capabilities"):
        raise Refused("setting the full capability list is not available in this lab")
    if host.get("Devices") or host.get("DeviceRequests") or host.get("DeviceCgroupRules"):
        device = ((host.get("Devices") or [{}])[0] or {}).get("PathOnHost", "")
        raise Refused(
            f"devices are not available in this lab{': ' + device if device else ''} "
            "(containers cannot use the host's devices)"
        )
    for key, flag in (
        ("PidMode", "--pid"),
        ("IpcMode", "--ipc"),
        ("UTSMode", "--uts"),
        ("UsernsMode", "--userns"),
        ("CgroupnsMode", "--cgroupns"),
    ):
        if (host.get(key) or "") == "host":
            raise Refused(f"{flag}=host is not available in this lab (containers cannot share the host's namespaces)")
    if host.get("UTSMode") or host.get("UsernsMode"):
        raise Refused("--uts and --userns can only be left at their defaults in this lab")
    if host.get("Cgroup"):
        raise Refused("--cgroup=container:... is not available in this lab")
    if (host.get("NetworkMode") or "") == "host":
        raise Refused("--network host is not available in this lab (containers cannot use the host's network)")
    for opt in host.get("SecurityOpt") or []:
        message = _security_opt_refusal(str(opt))
        if message:
            raise Refused(message)
    if host.get("Sysctls"):
        raise Refused(f"sysctls are not available in this lab: {', '.join(sorted(host['Sysctls']))}")
    runtime = host.get("Runtime") or ""
    if runtime and runtime != (limits.runtime or "runc"):
        raise Refused(f"--runtime {runtime} is not available in this lab")
    if host.get("CgroupParent"):
        raise Refused("--cgroup-parent is set by the lab (every container counts against the lab's budget)")
    if host.get("OomKillDisable"):
        raise Refused("--oom-kill-disable is not available in this lab")
    for ulimit in host.get("Ulimits") or []:
        name, soft, hard = ulimit.get("Name") or "", ulimit.get("Soft"), ulimit.get("Hard")
        most = ALLOWED_ULIMITS.get(name)
        if most is None:
            allowed = ", ".join(sorted(ALLOWED_ULIMITS))
            raise Refused(f"--ulimit {name} is not available in this lab (only {allowed})")
        if not (isinstance(soft, int) and isinstance(hard, int) and 0 <= soft <= hard <= most):
            raise Refused(f"--ulimit {name}={soft}:{hard} is not available in this lab (at most {most}, soft <= hard)")
    if host.get("CpuRealtimePeriod") or host.get("CpuRealtimeRuntime"):
        raise Refused("real-time CPU scheduling is not available in this lab")
    if host.get("MaskedPaths") is not None or host.get("ReadonlyPaths") is not None:
        raise Refused("changing masked or read-only system paths is not available in this lab")
    if host.get("VolumeDriver") not in (None, "", "local"):
        raise Refused(f"volume driver {host['VolumeDriver']} is not available in this lab")
    log = host.get("LogConfig") or {}
    if (log.get("Type") or "") not in ("", "json-file", "local", "none"):
        raise Refused(f"log driver {log['Type']} is not available in this lab (logs stay in json-file)")
    restart = host.get("RestartPolicy") or {}
    if (restart.get("Name") or "") not in ("", "no", "always", "unless-stopped", "on-failure"):
        raise Refused(f"invalid restart policy {restart.get('Name')}", status=400)


def validate_create(body: dict, *, limits: Limits) -> CreateRefs:
    """Refuse what is never allowed; return what the body refers to."""
    if not isinstance(body, dict):
        raise Refused("the request body must be a JSON object", status=400)
    host = body.get("HostConfig") or {}
    if not isinstance(host, dict):
        raise Refused("HostConfig must be an object", status=400)
    validate_host_config(host, limits=limits)
    refs = CreateRefs(image=str(body.get("Image") or ""))
    if not refs.image:
        raise Refused("an image is required (Config.Image)", status=400)
    for key in ("PidMode", "IpcMode"):
        target = _mode_target(host.get(key))
        if target:
            refs.containers.add(target)
    network_mode = host.get("NetworkMode") or "default"
    target = _mode_target(network_mode)
    if target:
        refs.containers.add(target)
    elif network_mode != "none":
        refs.networks.add(network_mode)
    for net in (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}:
        if net in ("host",):
            raise Refused("--network host is not available in this lab (containers cannot use the host's network)")
        if net != "none":
            refs.networks.add(net)
    for ref in host.get("VolumesFrom") or []:
        refs.containers.add(str(ref).split(":")[0])
    for link in host.get("Links") or []:
        refs.containers.add(str(link).split(":")[0].lstrip("/"))
    for endpoint in ((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}).values():
        for link in (endpoint or {}).get("Links") or []:
            refs.containers.add(str(link).split(":")[0].lstrip("/"))
    for raw in host.get("Binds") or []:
        spec = parse_bind(raw)
        bad = [o for o in spec.options if o not in BIND_OPTIONS]
        if bad:
            raise Refused(f"volume option {bad[0]} is not available in this lab")
        if spec.is_host_path:
            refs.binds.append(check_bind_source(spec.source))
        elif spec.source:
            refs.volumes.add(spec.source)
    for mount in host.get("Mounts") or []:
        kind = (mount or {}).get("Type") or "volume"
        source = (mount or {}).get("Source") or ""
        if kind == "bind":
            propagation = (mount.get("BindOptions") or {}).get("Propagation") or ""
            if propagation not in ("", "private", "rprivate"):
                raise Refused(f"bind propagation {propagation} is not available in this lab")
            refs.binds.append(check_bind_source(source))
        elif kind == "volume":
            options = mount.get("VolumeOptions") or {}
            driver = options.get("DriverConfig") or {}
            if (driver.get("Name") or "local") != "local" or driver.get("Options"):
                raise Refused("volume driver options are not available in this lab")
            if source:
                refs.volumes.add(source)
        elif kind == "tmpfs":
            continue
        else:
            raise Refused(f"mounts of type {kind} are not available in this lab")
    return refs


def plan_ports(body: dict, image_config: dict, used: set[tuple[str, int]], *, first_free: int = 32768) -> dict:
    """The host port bindings the student asked for, with free ports chosen for `-p 80` and `-P`.

    `used` holds (proto, port) pairs already served in the lab. Returns {"80/tcp": [{"HostIp", "HostPort"}]}."""
    host = body.get("HostConfig") or {}
    planned: dict[str, list[dict]] = {}
    taken = set(used)

    def pick(proto: str) -> int:
        port = first_free
        while (proto, port) in taken:
            port += 1
        taken.add((proto, port))
        return port

    for key, bindings in (host.get("PortBindings") or {}).items():
        key = key if "/" in key else f"{key}/tcp"
        proto = key.split("/")[1]
        for binding in bindings or [{}]:
            binding = binding or {}
            host_port = str(binding.get("HostPort") or "")
            if "-" in host_port:
                host_port = host_port.split("-")[0]
            if not host_port:
                host_port = str(pick(proto))
            elif not host_port.isdigit() or not 0 < int(host_port) < 65536:
                raise Refused(f"invalid host port {host_port}", status=400)
            taken.add((proto, int(host_port)))
            planned.setdefault(key, []).append({"HostIp": binding.get("HostIp") or "", "HostPort": host_port})
    if host.get("PublishAllPorts"):
        exposed = set((body.get("ExposedPorts") or {}).keys()) | set((image_config.get("ExposedPorts") or {}).keys())
        for key in sorted(exposed):
            key = key if "/" in key else f"{key}/tcp"
            if key not in planned:
                planned[key] = [{"HostIp": "", "HostPort": str(pick(key.split("/")[1]))}]
    return planned


def clamp_resources(host: dict, *, limits: Limits, warnings: list[str], create: bool) -> None:
    """Memory, swap, pids and CPU within the lab's budget (the cgroup parent caps the sum anyway)."""
    memory = host.get("Memory") or 0
    if create and not memory:
        host["Memory"] = limits.memory_bytes
    elif memory > limits.memory_bytes:
        host["Memory"] = limits.memory_bytes
        warnings.append(f"memory limit lowered to the lab's {limits.memory_bytes // (1024 * 1024)}MiB")
    if host.get("Memory"):
        host["MemorySwap"] = host["Memory"]  # no swap beyond memory
        if (host.get("MemoryReservation") or 0) > host["Memory"]:
            host["MemoryReservation"] = host["Memory"]
    elif host.get("MemorySwap"):
        host.pop("MemorySwap")
    pids = host.get("PidsLimit")
    if (create and not pids) or (pids is not None and pids <= 0):
        host["PidsLimit"] = limits.pids_limit  # 0 and -1 mean "unlimited" to the engine: the lab's limit
    elif pids and pids > limits.pids_limit:
        host["PidsLimit"] = limits.pids_limit
        warnings.append(f"pids limit lowered to the lab's {limits.pids_limit}")
    nano = host.get("NanoCpus") or 0
    if nano > int(limits.cpus * 1e9):
        host["NanoCpus"] = int(limits.cpus * 1e9)
        warnings.append(f"CPU limit lowered to the lab's {limits.cpus:g}")
    if (host.get("ShmSize") or 0) > limits.memory_bytes:
        host["ShmSize"] = limits.memory_bytes
    if (host.get("OomScoreAdj") or 0) < 0:
        host["OomScoreAdj"] = 0
        warnings.append("a negative OOM score adjustment is not available in this lab; using 0")
    for key in ("KernelMemory", "KernelMemoryTCP", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth"):
        host.pop(key, None)
    restart = host.get("RestartPolicy")
    if restart:
        name = restart.get("Name") or ""
        count = int(restart.get("MaximumRetryCount") or 0)
        if name in ("always", "unless-stopped"):
            host["RestartPolicy"] = {"Name": "on-failure", "MaximumRetryCount": MAX_RESTARTS}
            warnings.append(f"restart policy {name} runs here as on-failure:{MAX_RESTARTS}")
        elif name == "on-failure" and (count == 0 or count > MAX_RESTARTS):
            host["RestartPolicy"] = {"Name": "on-failure", "MaximumRetryCount": MAX_RESTARTS}


def _volume_labels(limits: Limits) -> dict:
    return dict(limits.labels)


def rewrite_create(
    body: dict, *, names: n.Names, limits: Limits, resolved: Resolved, student_name: str
) -> tuple[dict, list[str]]:
    """The body the engine gets. Call after validate_create and resolving its references."""
    body = copy.deepcopy(body)
    warnings: list[str] = []
    host = dict(body.get("HostConfig") or {})
    body["HostConfig"] = host
    body["Image"] = resolved.image

    # Labels: the student's (never org.berth.*), neutralise the platform labels an image carries,
    # then the session's own.
    labels = {k: v for k, v in (body.get("Labels") or {}).items() if not k.startswith(n.LABEL_PREFIX)}
    for key in resolved.image_config.get("Labels") or {}:
        if key.startswith(n.LABEL_PREFIX):
            labels[key] = ""
    labels.update(limits.labels)

    # Ports: nothing is published on the host; the lab serves them (labels.ports -> forwarders).
    if resolved.ports:
        labels[n.LABEL_PORTS] = json.dumps(resolved.ports, sort_keys=True)
        exposed = dict(body.get("ExposedPorts") or {})
        for key in resolved.ports:
            exposed.setdefault(key, {})
        body["ExposedPorts"] = exposed
    host["PortBindings"] = {}
    host["PublishAllPorts"] = False

    restart = host.get("RestartPolicy") or {}
    clamp_resources(host, limits=limits, warnings=warnings, create=True)
    if (host.get("RestartPolicy") or {}) != restart and restart:
        labels[n.LABEL_RESTART] = json.dumps(restart, sort_keys=True)

    host["CgroupParent"] = limits.cgroup_parent
    host["SecurityOpt"] = [
        o for o in (host.get("SecurityOpt") or []) if not str(o).lower().startswith("no-new-privileges")
    ] + ["no-new-privileges"]
    if ((host.get("LogConfig") or {}).get("Type") or "") != "none":
        host["LogConfig"] = copy.deepcopy(LOG_CONFIG)
    if limits.runtime:
        host["Runtime"] = limits.runtime
    else:
        host.pop("Runtime", None)
    host.pop("ContainerIDFile", None)

    # Namespaces shared with another container: only the session's own.
    for key in ("PidMode", "IpcMode"):
        target = _mode_target(host.get(key))
        if target:
            host[key] = f"container:{resolved.containers[target][0]}"

    # Networks: "bridge"/"default" is the session's own network; names get the prefix.
    mode = host.get("NetworkMode") or "default"
    target = _mode_target(mode)
    endpoints = dict((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
    if target:
        host["NetworkMode"] = f"container:{resolved.containers[target][0]}"
        primary = None
    elif mode == "none":
        host["NetworkMode"] = "none"
        primary = None
    else:
        primary = resolved.networks[mode]
        host["NetworkMode"] = primary
    new_endpoints = {}
    for net, cfg in endpoints.items():
        if net == "none":
            continue
        cfg = {k: v for k, v in (cfg or {}).items() if k not in ENDPOINT_INTERNAL}
        cfg["Links"] = [_link(resolved, link) for link in cfg.get("Links") or []] or None
        aliases = list(cfg.get("Aliases") or [])
        if student_name and student_name not in aliases:
            aliases.append(student_name)
        cfg["Aliases"] = aliases or None
        new_endpoints[resolved.networks[net]] = cfg
    if primary and primary not in new_endpoints and (student_name or host.get("Links")):
        new_endpoints[primary] = {"Aliases": [student_name] if student_name else None}
    if host.get("Links"):
        if primary is None:
            raise Refused("--link needs a network (not --network none or container:...)", status=400)
        cfg = new_endpoints.setdefault(primary, {})
        cfg["Links"] = list(cfg.get("Links") or []) + [_link(resolved, link) for link in host["Links"]]
        host["Links"] = None
    if new_endpoints or body.get("NetworkingConfig") is not None:
        body["NetworkingConfig"] = {"EndpointsConfig": new_endpoints}

    host["VolumesFrom"] = [
        ":".join([resolved.containers[str(ref).split(":")[0]][0]] + str(ref).split(":")[1:])
        for ref in host.get("VolumesFrom") or []
    ] or None

    # Volumes and binds: binds go through the gateway's own mount of the exact directory; named
    # volumes are the session's; anonymous ones are labelled (so they are found and removed).
    binds_label: dict[str, str] = {}
    new_binds: list[str] = []
    mounts: list[dict] = []
    targets: set[str] = set()
    for raw in host.get("Binds") or []:
        spec = parse_bind(raw)
        targets.add(posixpath.normpath(spec.target))
        if spec.is_host_path:
            clean = check_bind_source(spec.source)
            host_path = resolved.binds[clean]
            binds_label[host_path] = spec.source
            new_binds.append(spec.render(host_path))
        elif spec.source:
            new_binds.append(spec.render(resolved.volumes[spec.source]))
        else:
            mounts.append(
                {
                    "Type": "volume",
                    "Target": spec.target,
                    "ReadOnly": "ro" in spec.options,
                    "VolumeOptions": {"Labels": _volume_labels(limits)},
                }
            )
    host["Binds"] = new_binds or None
    for mount in host.get("Mounts") or []:
        mount = copy.deepcopy(mount)
        kind = mount.get("Type") or "volume"
        if mount.get("Target"):
            targets.add(posixpath.normpath(mount["Target"]))
        if kind == "bind":
            clean = check_bind_source(mount.get("Source") or "")
            mount["Source"] = resolved.binds[clean]
            binds_label[mount["Source"]] = clean
        elif kind == "volume":
            options = dict(mount.get("VolumeOptions") or {})
            if mount.get("Source"):
                mount["Source"] = resolved.volumes[mount["Source"]]
            options["Labels"] = {
                **{k: v for k, v in (options.get("Labels") or {}).items() if not k.startswith(n.LABEL_PREFIX)},
                **_volume_labels(limits),
            }
            options.pop("DriverConfig", None)
            mount["VolumeOptions"] = options
        mounts.append(mount)
    declared = set((body.get("Volumes") or {}).keys()) | set((resolved.image_config.get("Volumes") or {}).keys())
    for target in sorted(declared):
        if posixpath.normpath(target) not in targets:
            mounts.append({"Type": "volume", "Target": target, "VolumeOptions": {"Labels": _volume_labels(limits)}})
            targets.add(posixpath.normpath(target))
    host["Mounts"] = mounts or None
    if binds_label:
        labels[n.LABEL_BINDS] = json.dumps(binds_label, sort_keys=True)
    body["Labels"] = labels
    return body, warnings


def _link(resolved: Resolved, link: str) -> str:
    name, _, alias = str(link).lstrip("/").partition(":")
    host_name = resolved.containers[name][1].lstrip("/")
    return f"{host_name}:{alias or name}"


def rewrite_update(body: dict, *, limits: Limits) -> tuple[dict, list[str], dict | None]:
    """POST /containers/{id}/update: the same caps as create. Returns (body, warnings, restart asked)."""
    if not isinstance(body, dict):
        raise Refused("the request body must be a JSON object", status=400)
    validate_host_config(body, limits=limits, keys=UPDATE_KEYS)
    body = copy.deepcopy(body)
    warnings: list[str] = []
    restart = body.get("RestartPolicy")
    clamp_resources(body, limits=limits, warnings=warnings, create=False)
    body.pop("CgroupParent", None)
    return body, warnings, restart if restart != body.get("RestartPolicy") else None


def validate_exec(body: dict) -> dict:
    if not isinstance(body, dict):
        raise Refused("the request body must be a JSON object", status=400)
    if body.get("Privileged"):
        raise Refused("privileged exec is not available in this lab")
    return body


# --- networks and volumes ------------------------------------------------------------------------------


def rewrite_network_create(body: dict, *, names: n.Names, limits: Limits) -> tuple[dict, str]:
    """POST /networks/create: an internal bridge under the session prefix. Returns (body, student name)."""
    if not isinstance(body, dict):
        raise Refused("the request body must be a JSON object", status=400)
    name = str(body.get("Name") or "")
    if name in ("bridge", "host", "none", "default"):
        raise Refused(f"{name} is a pre-defined network and cannot be created")
    try:
        host_name = names.network_host(name)
    except n.BadName as exc:
        raise Refused(str(exc), status=400) from exc
    driver = body.get("Driver") or "bridge"
    if driver != "bridge":
        raise Refused(f"network driver {driver} is not available in this lab (only bridge)")
    if (
        body.get("Ingress")
        or (body.get("Scope") or "local") != "local"
        or body.get("ConfigOnly")
        or body.get("ConfigFrom")
    ):
        raise Refused("swarm networks are not available in this lab")
    ipam = body.get("IPAM") or {}
    if (ipam.get("Driver") or "default") != "default" or ipam.get("Config") or ipam.get("Options"):
        raise Refused("custom subnets (IPAM) are not available in this lab; Docker picks the addresses")
    if body.get("EnableIPv6"):
        raise Refused("IPv6 networks are not available in this lab")
    options = body.get("Options") or {}
    extra = [k for k in options if k != NETWORK_OPTION_MTU]
    if extra:
        raise Refused(f"network option {extra[0]} is not available in this lab")
    options = {**options, **isolated_network_options(host_name)}
    labels = {k: v for k, v in (body.get("Labels") or {}).items() if not k.startswith(n.LABEL_PREFIX)}
    labels.update(limits.labels)
    labels[n.LABEL_INTERNAL] = "true" if body.get("Internal") else "false"
    out = {
        "Name": host_name,
        "CheckDuplicate": True,
        "Driver": "bridge",
        "Internal": True,
        "Attachable": bool(body.get("Attachable")),
        "EnableIPv6": False,
        "Options": options,
        "Labels": labels,
    }
    return out, name


def rewrite_volume_create(body: dict, *, names: n.Names, limits: Limits) -> dict:
    if not isinstance(body, dict):
        raise Refused("the request body must be a JSON object", status=400)
    if (body.get("Driver") or "local") != "local":
        raise Refused(f"volume driver {body['Driver']} is not available in this lab")
    if body.get("DriverOpts"):
        raise Refused("volume driver options are not available in this lab (they could mount host paths)")
    name = str(body.get("Name") or "")
    labels = {k: v for k, v in (body.get("Labels") or {}).items() if not k.startswith(n.LABEL_PREFIX)}
    labels.update(limits.labels)
    out = {"Driver": "local", "DriverOpts": {}, "Labels": labels}
    if name:
        try:
            out["Name"] = names.volume_host(name)
        except n.BadName as exc:
            raise Refused(str(exc), status=400) from exc
    return out


# --- image changes (docker commit -c, docker import -c) ------------------------------------------

CHANGE_KEYWORDS = frozenset(
    {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)


def checked_changes(changes: list[str]) -> list[str]:
    """`changes` are Dockerfile instructions the engine applies to a committed or imported image.
    Each must be one instruction of the kinds the engine takes, never ONBUILD (a trigger would run
    in a later build) and never a platform label; returned re-written, one line each."""
    out = []
    for change in changes:
        text = str(change)
        if "\n" in text or "\r" in text or len(text) > 4096:
            raise Refused("each --change must be a single Dockerfile instruction", status=400)
        keyword, _, rest = text.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "ONBUILD":
            raise Refused("ONBUILD is not available in --change in this lab")
        if keyword not in CHANGE_KEYWORDS:
            raise Refused(f"{keyword} is not a valid change command", status=400)
        if keyword == "LABEL" and n.LABEL_PREFIX in rest:
            raise Refused("labels starting with org.berth. are the platform's")
        out.append(f"{keyword} {rest.strip()}")
    return out
