"""A cgroup that holds a lab and every container it starts, so one budget covers all of them.

Docker (cgroupfs driver) puts a container with `cgroup_parent=/berth/<id>` at
`<hierarchy>/berth/<id>/<container id>`; the limits written on `berth/<id>` cap the sum. This
runs next to the engine (the worker and the gateway live on the Docker host) and needs write
access to /sys/fs/cgroup. cgroup v1 and v2 are both handled.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("BERTH_CGROUP_ROOT", "/sys/fs/cgroup"))


class CgroupError(Exception):
    pass


def is_v2(root: Path = ROOT) -> bool:
    return (root / "cgroup.controllers").exists()


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror}") from exc


def ensure_parent(parent: str, *, memory_bytes: int, cpus: float, pids: int, root: Path = ROOT) -> None:
    """Create the cgroup `parent` (e.g. "/berth/ab12") with the given budget; idempotent."""
    rel = parent.strip("/")
    if not rel or ".." in rel.split("/"):
        raise CgroupError(f"bad cgroup parent {parent!r}")
    period = 100_000
    quota = max(1000, int(cpus * period))
    if is_v2(root):
        # Enable the controllers down the path, then set the limits on the leaf.
        current = root
        for part in rel.split("/"):
            control = current / "cgroup.subtree_control"
            enabled = control.read_text().split() if control.exists() else []
            for ctl in ("memory", "pids", "cpu"):
                if ctl not in enabled:
                    _write(control, f"+{ctl}")
            current = current / part
            current.mkdir(exist_ok=True)
        _write(current / "memory.max", str(memory_bytes))
        if (current / "memory.swap.max").exists():
            _write(current / "memory.swap.max", "0")
        _write(current / "pids.max", str(pids))
        _write(current / "cpu.max", f"{quota} {period}")
        return
    settings = {
        "memory": {"memory.limit_in_bytes": str(memory_bytes)},
        "pids": {"pids.max": str(pids)},
        "cpu": {"cpu.cfs_period_us": str(period), "cpu.cfs_quota_us": str(quota)},
    }
    for controller, files in settings.items():
        base = root / controller
        if not base.is_dir():
            raise CgroupError(f"cgroup v1 controller {controller} is not mounted at {base}")
        path = base / rel
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CgroupError(f"cannot create {path}: {exc.strerror}") from exc
        for name, value in files.items():
            _write(path / name, value)
        if controller == "memory" and (path / "memory.memsw.limit_in_bytes").exists():
            _write(path / "memory.memsw.limit_in_bytes", str(memory_bytes))


def remove_parent(parent: str, root: Path = ROOT) -> None:
    """Remove the (empty) cgroup; missing is fine, busy ones are left for the reconciler."""
    rel = parent.strip("/")
    if not rel or ".." in rel.split("/"):
        return
    bases = [root] if is_v2(root) else [root / c for c in ("memory", "pids", "cpu")]
    for base in bases:
        path = base / rel
        try:
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            pass  # still has processes or children; the next reconcile tries again


def usage(parent: str, root: Path = ROOT) -> dict:
    """Current memory use and process count of the cgroup (for dashboards and tests)."""
    rel = parent.strip("/")
    if is_v2(root):
        path = root / rel
        return {
            "memory_bytes": int((path / "memory.current").read_text()),
            "pids": int((path / "pids.current").read_text()),
            "oom_kills": _oom_v2(path),
        }
    mem = root / "memory" / rel
    return {
        "memory_bytes": int((mem / "memory.usage_in_bytes").read_text()),
        "pids": int((root / "pids" / rel / "pids.current").read_text()),
        "oom_kills": int(_kv(mem / "memory.oom_control").get("oom_kill", 0)),
    }


def _kv(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        out[key] = value
    return out


def _oom_v2(path: Path) -> int:
    events = path / "memory.events"
    return int(_kv(events).get("oom_kill", 0)) if events.exists() else 0
