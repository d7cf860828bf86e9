"""A few Docker Engine API calls spoken directly over the engine's socket, for streams.

docker-py covers container lifecycle well, but its hijacked exec sockets come from a buffered
HTTP reader that may already hold the first bytes of the stream, and they block. Terminals and
checks need exact bytes and, for terminals, asyncio. So exec create/start/resize live here, as
plain HTTP/1.1 over a unix (or TCP) socket, sync and async.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlparse

from .labels import ENGINE_API_VERSION

API = f"/v{ENGINE_API_VERSION}"  # Docker Engine 20.10+; newer engines serve older versions too
_HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class EngineAddress:
    unix_path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, base_url: str) -> EngineAddress:
        url = urlparse(base_url)
        if url.scheme in ("unix", "http+unix"):
            return cls(unix_path=url.path)
        if url.scheme in ("tcp", "http"):
            return cls(host=url.hostname, port=url.port or 2375)
        raise ValueError(f"unsupported Docker engine address {base_url!r} (use unix:// or tcp://)")


class EngineHTTPError(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(f"{status}: {message}")


def _request_bytes(method: str, path: str, body: dict | None, *, upgrade: bool = False) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {API}{path} HTTP/1.1", "Host: docker", "User-Agent: berth"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    else:
        lines.append("Content-Length: 0")
    if upgrade:
        lines += ["Connection: Upgrade", "Upgrade: tcp"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return status, headers


def _error_message(body: bytes) -> str:
    try:
        return json.loads(body).get("message", body.decode(errors="replace"))
    except (ValueError, AttributeError):
        return body.decode(errors="replace").strip()


# --- sync -------------------------------------------------------------------------------------------


def connect(address: EngineAddress, timeout: float | None = 30) -> socket.socket:
    if address.unix_path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address.unix_path)
    else:
        sock = socket.create_connection((address.host, address.port), timeout=timeout)
    return sock


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("engine closed the connection")
        data += chunk
        if len(data) > _HEAD_LIMIT:
            raise ConnectionError("engine response head too large")
    head, rest = data.split(b"\r\n\r\n", 1)
    status, headers = _parse_head(head)
    return status, headers, rest


def _read_body(sock: socket.socket, headers: dict[str, str], rest: bytes) -> bytes:
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return rest[:length]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, buf = b"", rest
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return body
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            body, buf = body + buf[:size], buf[size + 2 :]
    while chunk := sock.recv(65536):
        rest += chunk
    return rest


def request(address: EngineAddress, method: str, path: str, body: dict | None = None, *, timeout: float = 30) -> object:
    """One JSON request; returns the decoded body (or None); raises EngineHTTPError on >= 400."""
    with connect(address, timeout) as sock:
        sock.sendall(_request_bytes(method, path, body))
        status, headers, rest = _read_head(sock)
        data = _read_body(sock, headers, rest)
    if status >= 400:
        raise EngineHTTPError(status, _error_message(data))
    return json.loads(data) if data.strip() else None


def exec_create(
    address: EngineAddress,
    container: str,
    cmd: list[str],
    *,
    user: str,
    tty: bool,
    stdin: bool,
    env: dict | None = None,
    workdir: str | None = None,
) -> str:
    body = {
        "AttachStdin": stdin,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": tty,
        "Cmd": cmd,
        "User": user,
        "Env": [f"{k}={v}" for k, v in (env or {}).items()],
    }
    if workdir:
        body["WorkingDir"] = workdir
    return request(address, "POST", f"/containers/{container}/exec", body)["Id"]


def exec_start(
    address: EngineAddress, exec_id: str, *, tty: bool, timeout: float | None = 30
) -> tuple[socket.socket, bytes]:
    """Start an exec and return the hijacked socket and any stream bytes already read."""
    sock = connect(address, timeout)
    try:
        sock.sendall(_request_bytes("POST", f"/exec/{exec_id}/start", {"Detach": False, "Tty": tty}, upgrade=True))
        status, headers, rest = _read_head(sock)
        if status >= 400:
            raise EngineHTTPError(status, _error_message(_read_body(sock, headers, rest)))
    except BaseException:
        sock.close()
        raise
    return sock, rest


def exec_inspect(address: EngineAddress, exec_id: str) -> dict:
    return request(address, "GET", f"/exec/{exec_id}/json")


class Demuxer:
    """Splits Docker's multiplexed (non-TTY) stream: 8-byte headers [stream, 0, 0, 0, size]."""

    def __init__(self):
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buf += data
        frames = []
        while len(self.buf) >= 8:
            stream, size = self.buf[0], struct.unpack(">I", self.buf[4:8])[0]
            if len(self.buf) < 8 + size:
                break
            frames.append((stream, self.buf[8 : 8 + size]))
            self.buf = self.buf[8 + size :]
        return frames


# --- async -------------------------------------------------------------------------------------------


async def open_connection(address: EngineAddress, *, limit: int = 256 * 1024):
    if address.unix_path:
        return await asyncio.open_unix_connection(address.unix_path, limit=limit)
    return await asyncio.open_connection(address.host, address.port, limit=limit)


async def _read_head_async(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    return _parse_head(head[:-4])


async def arequest(address: EngineAddress, method: str, path: str, body: dict | None = None) -> object:
    reader, writer = await open_connection(address)
    try:
        writer.write(_request_bytes(method, path, body))
        await writer.drain()
        status, headers = await _read_head_async(reader)
        if "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                data += await reader.readexactly(size)
                await reader.readline()
        else:
            data = await reader.read()
    finally:
        writer.close()
    if status >= 400:
        raise EngineHTTPError(status, _error_message(data))
    return json.loads(data) if data.strip() else None


async def aexec_create(
    address: EngineAddress,
    container: str,
    cmd: list[str],
    *,
    user: str,
    tty: bool = True,
    stdin: bool = True,
    env: dict | None = None,
    workdir: str | None = None,
) -> str:
    body = {
        "AttachStdin": stdin,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": tty,
        "Cmd": cmd,
        "User": user,
        "Env": [f"{k}={v}" for k, v in (env or {}).items()],
    }
    if workdir:
        body["WorkingDir"] = workdir
    return (await arequest(address, "POST", f"/containers/{container}/exec", body))["Id"]


async def aexec_start(address: EngineAddress, exec_id: str, *, tty: bool = True):
    """Start an exec; return (reader, writer) of the hijacked stream (no bytes lost)."""
    reader, writer = await open_connection(address)
    try:
        writer.write(_request_bytes("POST", f"/exec/{exec_id}/start", {"Detach": False, "Tty": tty}, upgrade=True))
        await writer.drain()
        status, headers = await _read_head_async(reader)
        if status >= 400:
            body = await reader.read(_HEAD_LIMIT)
            raise EngineHTTPError(status, _error_message(body))
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def aexec_resize(address: EngineAddress, exec_id: str, *, cols: int, rows: int) -> None:
    await arequest(address, "POST", f"/exec/{exec_id}/resize?h={rows}&w={cols}")


async def aexec_inspect(address: EngineAddress, exec_id: str) -> dict:
    return await arequest(address, "GET", f"/exec/{exec_id}/json")


def ping(address: EngineAddress, *, timeout: float = 3) -> str:
    """GET /_ping; returns the engine's API version; raises OSError/EngineHTTPError when down."""
    with connect(address, timeout) as sock:
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n")
        status, headers, rest = _read_head(sock)
        body = _read_body(sock, headers, rest)
    if status != 200:
        raise EngineHTTPError(status, body.decode(errors="replace"))
    return headers.get("api-version", "")
