"""The sandbox backend contract. Services call these methods; only labs/runtime talks to an engine.

Conventions (after JupyterHub's Spawner): `start` is idempotent for one spec.name; "already gone"
is success for `stop`; `poll` returns None while running and the exit status once it is not;
errors are the types below, never an engine library's own exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .spec import SandboxSpec


class LabRuntimeError(Exception):
    """Base of every backend error."""


class BackendUnavailable(LabRuntimeError):
    """The engine did not answer (down, restarting, overloaded): worth retrying later."""


class SandboxGone(LabRuntimeError):
    """The sandbox does not exist (removed, or never created)."""


class SandboxError(LabRuntimeError):
    """The engine refused or failed an operation on the sandbox (bad image, bad config, ...)."""


@dataclass(frozen=True)
class Handle:
    """A sandbox as the engine reports it."""

    id: str
    name: str
    state: str  # created | running | paused | restarting | exited | dead | removing
    labels: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    oom_killed: bool = False
    ip_address: str = ""

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting")


@dataclass(frozen=True)
class ExecResult:
    exit_code: int | None  # None when it had to be killed (timeout) or could not run
    output: bytes  # stdout and stderr interleaved, at most max_output bytes
    duration_ms: int
    timed_out: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class FileContent:
    path: str
    content: bytes
    size: int
    truncated: bool = False
    missing: bool = False


@dataclass(frozen=True)
class Stats:
    cpu_percent: float | None  # None until a previous sample is known
    memory_bytes: int
    memory_limit: int
    pids: int
    sample: tuple[int, int] = (0, 0)  # (cpu total, system total): pass back as `previous` next time


class Backend(Protocol):
    def ping(self) -> dict:
        """Engine facts (version, runtimes); raises BackendUnavailable when it does not answer."""

    def start(self, spec: SandboxSpec) -> Handle:
        """Create and start the sandbox named spec.name, or return the one that already exists
        (starting it if it was created but not started). Never makes a second sandbox."""

    def stop(self, ref: str, *, now: bool = False) -> None:
        """Stop and remove the sandbox (id or name) and what belongs to it. Gone already = fine."""

    def poll(self, ref: str) -> int | None:
        """None while running; the exit status once stopped. Raises SandboxGone if it is gone."""

    def inspect(self, ref: str) -> Handle:
        """The sandbox's current state; raises SandboxGone."""

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
        """Run cmd in the sandbox, feeding stdin, killing it after `timeout` seconds."""

    def read_file(self, ref: str, path: str, *, max_bytes: int, user: str = "student") -> FileContent:
        """Copy one file out of the sandbox as `user` (binary-safe, at most max_bytes, links not followed)."""

    def stats(self, ref: str, *, previous: tuple[int, int] | None = None) -> Stats:
        """A one-shot CPU and memory reading; CPU percent relative to a previous sample."""

    def list_managed(self) -> list[Handle]:
        """Every sandbox that carries this platform instance's labels."""
