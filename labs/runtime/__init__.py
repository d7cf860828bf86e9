"""The sandbox runtime: the only package that talks to a container engine.

`get_backend(base_url)` returns one shared DockerBackend per engine address (docker-py clients
are thread-safe for our use and hold a connection pool).
"""

from __future__ import annotations

import threading

from .base import (
    Backend,
    BackendUnavailable,
    ExecResult,
    FileContent,
    Handle,
    LabRuntimeError,
    SandboxError,
    SandboxGone,
    Stats,
)
from .spec import RELAXABLE, SandboxSpec

__all__ = [
    "RELAXABLE",
    "Backend",
    "BackendUnavailable",
    "ExecResult",
    "FileContent",
    "Handle",
    "LabRuntimeError",
    "SandboxError",
    "SandboxGone",
    "SandboxSpec",
    "Stats",
    "get_backend",
]

_backends: dict[tuple[str, str], Backend] = {}
_lock = threading.Lock()


def get_backend(base_url: str | None = None) -> Backend:
    from django.conf import settings

    from .docker import DockerBackend

    url = base_url or settings.BERTH_DOCKER_URL
    key = (url, settings.BERTH_INSTANCE)
    with _lock:
        if key not in _backends:
            _backends[key] = DockerBackend(url, instance=settings.BERTH_INSTANCE)
        return _backends[key]
