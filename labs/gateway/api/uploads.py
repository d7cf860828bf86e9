"""Tar uploads (build contexts, `docker cp` into a container, `docker import`): received whole,
re-packed into a canonical archive by labs.gateway.tarstream, and only that archive is sent on.

The upload is spooled (memory, then a temporary file) because the engine must never see a byte we
did not check: the re-packed archive is what was checked, member by member.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .. import policy as pol
from .. import tarstream
from ..wire import BadRequest
from .core import TAR_TYPES, Ctx

MAX_UPLOAD = 512 * 1024 * 1024  # bytes of tar a session may upload in one request
MAX_UNPACKED = 2 * 1024 * 1024 * 1024  # what it may unpack to (a small gzip can expand a lot)
SPOOL_IN_MEMORY = 16 * 1024 * 1024
READ_SIZE = 256 * 1024


class Packed:
    """A re-packed archive, ready to stream to the engine."""

    def __init__(self, dst, result):
        self.dst, self.result = dst, result
        self.closed = False

    @property
    def captured(self) -> dict[str, bytes]:
        return self.result.captured

    @property
    def found(self) -> list[str]:
        return self.result.found

    async def finish(self, name: str, data: bytes) -> None:
        """Append a captured member (rewritten) with its original metadata."""
        await asyncio.get_running_loop().run_in_executor(None, tarstream.finish, self.result, name, data)

    async def close_archive(self) -> None:
        if not self.closed:
            await asyncio.get_running_loop().run_in_executor(None, tarstream.close, self.result)
            self.closed = True

    async def chunks(self) -> AsyncIterator[bytes]:
        await self.close_archive()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.dst.seek, 0)
        while data := await loop.run_in_executor(None, self.dst.read, READ_SIZE):
            yield data


@asynccontextmanager
async def repacked(ctx: Ctx, *, capture: tuple[str, ...] | list[str] = ()):
    if ctx.req.content_type not in TAR_TYPES:
        raise pol.Refused(
            f"this endpoint takes a tar archive (Content-Type application/x-tar), not {ctx.req.content_type}",
            status=400,
        )
    loop = asyncio.get_running_loop()
    src = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed below
    dst = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        total = 0
        try:
            async for chunk in ctx.conn.body_chunks():
                total += len(chunk)
                if total > MAX_UPLOAD:
                    ctx.keep = False
                    raise pol.Refused(f"the upload is larger than {MAX_UPLOAD // (1024 * 1024)}MiB", status=413)
                await loop.run_in_executor(None, src.write, chunk)
        except BadRequest:
            ctx.keep = False
            raise
        await loop.run_in_executor(None, src.seek, 0)
        result = await loop.run_in_executor(
            None, lambda: tarstream.repack(src, dst, capture=list(capture), max_bytes=MAX_UNPACKED)
        )
        yield Packed(dst, result)
    finally:
        src.close()
        dst.close()
