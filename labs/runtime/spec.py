"""What a sandbox is (SandboxSpec) and how its hardening maps to the Docker Engine API.

Pure data and functions: no engine is touched here, so the hardening rules can be unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Hardening defaults a lab may give up by naming them in lab.yaml `relax:`. Limits (memory, CPU,
# pids, disk) are never relaxed away; a lab asks for bigger ones instead.
RELAXABLE = {
    "network": "the sandbox gets a private internal network of its own (no route off the machine) instead of none",
    "read_only_rootfs": "the root filesystem is writable (changes are lost when the sandbox ends)",
    "capabilities": "Docker's default capability set instead of none",
    "no_new_privileges": "setuid binaries may raise privileges",
    "non_root": "the shell runs as root inside the sandbox (still no host access)",
}

LAB_USER = "student"
LAB_UID = 1000
LAB_HOME = "/home/student"
GATEWAY_MOUNT = "/run/berth"  # the session's gateway folder; /var/run/docker.sock links into it


@dataclass(frozen=True)
class SandboxSpec:
    """Everything needed to start one lab sandbox. `name` is deterministic per session, which is
    what makes start idempotent: a second start with the same name finds the first container."""

    name: str
    image: str
    labels: dict[str, str]
    memory_bytes: int
    cpus: float
    pids_limit: int
    disk_bytes: int
    hostname: str = "lab"
    relax: frozenset[str] = frozenset()
    runtime: str = ""
    env: dict[str, str] = field(default_factory=dict)
    network: str | None = None  # a private internal network, made by the backend; None = no network
    cgroup_parent: str = ""  # a cgroup that holds the lab and everything it starts (docker labs)
    gateway_dir: str | None = None  # host folder holding the session's docker.sock
    nofile: int = 4096
    log_max_size: str = "1m"

    def __post_init__(self):
        unknown = set(self.relax) - RELAXABLE.keys()
        if unknown:
            raise ValueError(f"cannot relax {sorted(unknown)}")


def container_config(spec: SandboxSpec) -> dict:
    """The keyword arguments for docker-py's `containers.create` that realise `spec`.

    Defaults: no network, all capabilities dropped, no-new-privileges, pids/memory (no extra
    swap)/CPU limits, read-only root with size-limited tmpfs for /tmp and the home, non-root user,
    an init process, a nofile ulimit, a capped log, no host mounts and never the host's Docker socket.
    """
    relax = spec.relax
    tmpfs_opts = f"rw,exec,nosuid,nodev,size={spec.disk_bytes}"  # exec: students run their own scripts
    tmpfs = {
        "/tmp": f"{tmpfs_opts},mode=1777",  # noqa: S108 - inside the container
        LAB_HOME: f"{tmpfs_opts},uid={LAB_UID},gid={LAB_UID},mode=0755",
    }
    config: dict = {
        "image": spec.image,
        "name": spec.name,
        "hostname": spec.hostname,
        "labels": dict(spec.labels),
        "environment": {"HOME": LAB_HOME, "TERM": "xterm-256color", "LANG": "C.UTF-8", **spec.env},
        "working_dir": LAB_HOME,
        "user": "root" if "non_root" in relax else f"{LAB_UID}:{LAB_UID}",
        "detach": True,
        "init": True,
        "stdin_open": False,
        "tty": False,
        "mem_limit": spec.memory_bytes,
        "memswap_limit": spec.memory_bytes,  # equal: no extra swap
        "nano_cpus": int(spec.cpus * 1e9),
        "pids_limit": spec.pids_limit,
        "read_only": "read_only_rootfs" not in relax,
        "tmpfs": tmpfs,
        "ulimits": [{"Name": "nofile", "Soft": spec.nofile, "Hard": spec.nofile}],
        "log_config": {"Type": "json-file", "Config": {"max-size": spec.log_max_size, "max-file": "1"}},
        "security_opt": [] if "no_new_privileges" in relax else ["no-new-privileges"],
        "network_mode": "none",
        "restart_policy": {"Name": "no"},
        "oom_kill_disable": False,
    }
    if "capabilities" not in relax:
        config["cap_drop"] = ["ALL"]
    if spec.network:
        config["network"] = spec.network
        del config["network_mode"]
    if spec.runtime:
        config["runtime"] = spec.runtime
    if spec.cgroup_parent:
        config["cgroup_parent"] = spec.cgroup_parent
    if spec.gateway_dir:
        # The one host path a lab may see: its own gateway folder (never the engine's socket).
        config["volumes"] = {spec.gateway_dir: {"bind": GATEWAY_MOUNT, "mode": "ro"}}
        if spec.network and spec.runtime != "runsc":
            # `docker run -p 80:80` is served by a forwarder the gateway runs in the lab as the
            # student (labs.gateway.ports): let it bind low ports in the lab's own network namespace.
            config["sysctls"] = {"net.ipv4.ip_unprivileged_port_start": "0"}
    return config
