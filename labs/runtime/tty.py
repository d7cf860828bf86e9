"""An interactive TTY in a sandbox over the engine's exec API, for asyncio (no threads).

tty = await open_tty(base_url, container_id, ["tmux", "new-session", "-A", "-s", "main"],
                     user="student", cols=120, rows=32)
data = await tty.read()          # b"" at end of stream
await tty.write(b"ls\\r")
await tty.resize(cols=100, rows=30)
await tty.close()
"""

from __future__ import annotations

import asyncio
import contextlib

from . import engine
from .base import BackendUnavailable, SandboxError, SandboxGone


class AsyncTty:
    def __init__(
        self, address: engine.EngineAddress, exec_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ):
        self.address, self.exec_id = address, exec_id
        self._reader, self._writer = reader, writer
        self.closed = False

    async def read(self, limit: int = 65536) -> bytes:
        """The next chunk of terminal output (raw bytes, never decoded); b"" when it ends."""
        try:
            return await self._reader.read(limit)
        except (ConnectionError, OSError):
            return b""

    async def write(self, data: bytes) -> None:
        if self.closed:
            return
        self._writer.write(data)
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.drain()

    async def resize(self, *, cols: int, rows: int) -> None:
        with contextlib.suppress(engine.EngineHTTPError, OSError):
            await engine.aexec_resize(self.address, self.exec_id, cols=cols, rows=rows)

    async def exit_code(self) -> int | None:
        try:
            info = await engine.aexec_inspect(self.address, self.exec_id)
        except (engine.EngineHTTPError, OSError):
            return None
        return None if info.get("Running") else info.get("ExitCode")

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


async def open_tty(
    base_url: str,
    container: str,
    cmd: list[str],
    *,
    user: str,
    cols: int,
    rows: int,
    env: dict | None = None,
    workdir: str | None = None,
) -> AsyncTty:
    address = engine.EngineAddress.parse(base_url)
    try:
        exec_id = await engine.aexec_create(
            address, container, cmd, user=user, tty=True, stdin=True, env=env, workdir=workdir
        )
        reader, writer = await engine.aexec_start(address, exec_id, tty=True)
    except engine.EngineHTTPError as exc:
        if exc.status in (404, 409):
            raise SandboxGone(exc.message) from exc
        raise SandboxError(exc.message) from exc
    except OSError as exc:
        raise BackendUnavailable(str(exc)) from exc
    tty = AsyncTty(address, exec_id, reader, writer)
    await tty.resize(cols=cols, rows=rows)
    return tty
