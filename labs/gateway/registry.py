"""How the platform tells the gateway about Docker lab sessions: a folder per session.

`session_register` writes `<BERTH_GATEWAY_DIR>/<session hex>/policy.json` (atomically); the
gateway process (labs.gateway.server) notices it and serves a Docker API socket `docker.sock` in
that folder, which the lab container sees at /run/berth/docker.sock (and /var/run/docker.sock
links there). `session_unregister` removes the folder; the gateway closes the socket.
The folder is the contract: the gateway needs no database and survives restarts.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

from django.conf import settings

from labs.runtime.labels import session_prefix


def root() -> Path:
    return Path(settings.BERTH_GATEWAY_DIR)


def session_dir(session_id) -> Path:
    hex_id = session_id.hex if hasattr(session_id, "hex") else str(session_id).replace("-", "")
    return root() / hex_id


def session_policy(*, session, spec) -> dict:
    from labs.runtime.images import ALLOWED_IMAGES

    lab = session.lab
    return {
        "session_id": str(session.id),
        "instance": settings.BERTH_INSTANCE,
        "prefix": session_prefix(settings.BERTH_INSTANCE, session.id.hex),
        "labels": dict(spec.labels),
        "lab_container": spec.name,
        "lab_network": spec.network,
        "cgroup_parent": spec.cgroup_parent,
        "memory_bytes": lab.memory_bytes,
        "cpus": lab.cpus,
        "pids_limit": lab.pids_limit,
        "base_images": list(ALLOWED_IMAGES),
        "runtime": settings.BERTH_STUDENT_CONTAINER_RUNTIME,
        "registry_mirror": settings.BERTH_REGISTRY_MIRROR,
        "disk_quota_bytes": settings.BERTH_DOCKER_DISK_QUOTA_BYTES,
    }


def session_register(*, session, spec) -> Path:
    folder = session_dir(session.id)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)  # noqa: S103 - the lab user must reach the socket inside
    tmp = folder / ".policy.json.tmp"
    tmp.write_text(json.dumps(session_policy(session=session, spec=spec), indent=2))
    os.replace(tmp, folder / "policy.json")
    return folder


def session_unregister(session_id) -> None:
    shutil.rmtree(session_dir(session_id), ignore_errors=True)


def wait_ready(session_id, *, timeout: float = 10) -> None:
    """Wait until the gateway answers on the session's socket; raise LabUnavailable if it does not."""
    from labs.errors import LabUnavailable

    path = session_dir(session_id) / "docker.sock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(2)
                    _connect(sock, path)
                    sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
        time.sleep(0.05)
    raise LabUnavailable("The Docker API gateway is not running (start it with `manage.py run_gateway`).")


def _connect(sock: socket.socket, path: Path) -> None:
    """connect() to a unix socket; paths longer than sun_path allows go through /proc/self/fd."""
    if len(os.fsencode(str(path))) < 100:
        sock.connect(str(path))
        return
    dir_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{dir_fd}/{path.name}")
    finally:
        os.close(dir_fd)
