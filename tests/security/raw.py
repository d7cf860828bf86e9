"""Raw HTTP/1.1 on a session's gateway socket: the bytes a hostile student would write.

Nothing here parses leniently on the test's behalf: `raw()` writes exactly the bytes it is given
and reads back what the gateway answers (status, headers, body; Content-Length, chunked, or until
the connection closes). A gateway that closes the connection without an answer gives `None`.

    resp = raw(lab, request("POST", "/v1.41/containers/create?name=x", json_text='{"Image": "busybox"}'))
    assert resp is None or 400 <= resp.status < 500

`request()` takes the body as TEXT so that tests can write duplicate or case-folded JSON keys
verbatim (a dict would lose them).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT = 15.0


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def lines(self) -> list:
        """A JSON-lines body (events, build progress) as documents."""
        out = []
        for line in self.body.splitlines():
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append(line.decode(errors="replace"))
        return out

    @property
    def message(self) -> str:
        data = self.json()
        if isinstance(data, dict) and "message" in data:
            return str(data["message"])
        return self.body.decode(errors="replace")

    def __repr__(self) -> str:
        return f"<{self.status} {self.reason} {self.body[:300]!r}>"


def socket_path(lab_or_path) -> Path:
    return Path(getattr(lab_or_path, "socket", lab_or_path))


def connect(lab_or_path, timeout: float = TIMEOUT) -> socket.socket:
    """A connected unix socket (paths longer than sun_path go through /proc/self/fd)."""
    path = socket_path(lab_or_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if len(os.fsencode(str(path))) < 100:
        sock.connect(str(path))
        return sock
    dir_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{dir_fd}/{path.name}")
    finally:
        os.close(dir_fd)
    return sock


def request(
    method: str,
    target: str,
    *,
    json_text: str | None = None,
    body: bytes | str | None = None,
    headers: list[tuple[str, str]] | dict | None = None,
    content_type: str | None = None,
    content_length: bool = True,
) -> bytes:
    """One well-framed HTTP/1.1 request (Host: docker). `json_text` is sent verbatim as the body
    with Content-Type application/json; `body` as given (with `content_type` when set)."""
    if json_text is not None:
        payload = json_text.encode()
        content_type = content_type or "application/json"
    elif body is not None:
        payload = body.encode() if isinstance(body, str) else body
    else:
        payload = b""
    items: list[tuple[str, str]] = [("Host", "docker"), ("User-Agent", "berth-security-tests")]
    if content_type:
        items.append(("Content-Type", content_type))
    items += list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in items}
    if content_length and "content-length" not in names and "transfer-encoding" not in names:
        if payload or method in ("POST", "PUT"):
            items.append(("Content-Length", str(len(payload))))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n"
    return head.encode("latin-1") + payload


def chunked(*chunks: bytes | str) -> bytes:
    """A chunked body (well-formed) made of the given chunks, with the final 0 chunk."""
    out = b""
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        if data:
            out += b"%x\r\n" % len(data) + data + b"\r\n"
    return out + b"0\r\n\r\n"


class _Reader:
    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False
        self.deadline = deadline

    def _fill(self) -> bool:
        if self.eof:
            return False
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete answer from the gateway in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def until(self, sep: bytes) -> bytes | None:
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                out = bytes(self.buf[: index + len(sep)])
                del self.buf[: index + len(sep)]
                return out
            if not self._fill():
                return None

    def exactly(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._fill():
                return None
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self) -> bytes:
        while self._fill():
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _read_response(reader: _Reader, method: str = "GET") -> Response | None:
    head = reader.until(b"\r\n\r\n")
    if head is None:
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
        raise AssertionError(f"not an HTTP response from the gateway: {head[:200]!r}")
    status = int(status_line[1])
    reason = status_line[2] if len(status_line) > 2 else ""
    headers = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    resp = Response(status=status, reason=reason, headers=headers)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return resp
    te = (resp.header("transfer-encoding") or "").lower()
    length = resp.header("content-length")
    if "chunked" in te:
        body = bytearray()
        while True:
            line = reader.until(b"\r\n")
            if line is None:
                break
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    trailer = reader.until(b"\r\n")
                    if trailer in (None, b"\r\n"):
                        break
                break
            data = reader.exactly(size + 2)
            if data is None:
                body += reader.rest()
                break
            body += data[:size]
        resp.body = bytes(body)
    elif length is not None and length.isdigit():
        resp.body = reader.exactly(int(length)) or bytes(reader.rest())
    else:
        resp.body = reader.rest()
    return resp


def raw_all(
    lab_or_path, data: bytes, *, timeout: float = TIMEOUT, methods: list[str] | None = None, idle: float = 3.0
) -> list[Response]:
    """Write `data` and read every answer until the gateway closes the connection, or no further
    answer starts within `idle` seconds, or `timeout` passes. For pipelined and smuggled requests."""
    out: list[Response] = []
    sock = connect(lab_or_path, timeout)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        reader = _Reader(sock, deadline)
        while True:
            reader.deadline = min(deadline, time.monotonic() + idle) if out else deadline
            try:
                resp = _read_response(
                    reader, (methods or [])[len(out)] if methods and len(out) < len(methods) else "GET"
                )
            except TimeoutError:
                if out:
                    break
                raise
            if resp is None:
                break
            out.append(resp)
    finally:
        sock.close()
    return out


def raw(lab_or_path, data: bytes, *, timeout: float = TIMEOUT, method: str | None = None) -> Response | None:
    """Write `data` and read the first answer; None when the gateway closed without answering."""
    if method is None:
        method = data.split(b" ", 1)[0].decode("latin-1", "replace")
    sock = connect(lab_or_path, timeout)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_response(_Reader(sock, time.monotonic() + timeout), method)
    finally:
        sock.close()


def send(lab_or_path, method: str, target: str, *, timeout: float = TIMEOUT, **kwargs) -> Response | None:
    """request() then raw()."""
    return raw(lab_or_path, request(method, target, **kwargs), timeout=timeout, method=method)


# --- what counts as a refusal ---------------------------------------------------------------------


def refused(resp: Response | None, statuses=range(400, 500)) -> bool:
    """A Docker-style refusal: a 4xx answer."""
    return resp is not None and resp.status in statuses


def refused_or_closed(resp: Response | None) -> bool:
    """Malformed HTTP: a 400-class answer (501 for a transfer coding it does not implement), or the
    connection closed without any answer."""
    return resp is None or 400 <= resp.status < 500 or resp.status == 501


def describe(resp: Response | None) -> str:
    return "connection closed without an answer" if resp is None else repr(resp)
