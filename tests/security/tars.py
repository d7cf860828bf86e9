"""Build contexts made by hand: plain tars (tarfile) and the odd ones no tool writes (struct)."""

from __future__ import annotations

import io
import tarfile
import time

BLOCK = 512


def context(files: dict[str, bytes | str], *, symlinks: dict[str, str] | None = None) -> bytes:
    """A plain (ustar/PAX as tarfile sees fit) tar of regular files and symlinks."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            info.mtime = int(time.time())
            tar.addfile(info)
    return buf.getvalue()


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % BLOCK)


def header(name: str, size: int, *, kind: bytes = b"0", linkname: str = "") -> bytes:
    """One ustar header block with a correct checksum."""
    h = bytearray(BLOCK)
    h[0:100] = name.encode()[:100].ljust(100, b"\x00")
    h[100:108] = b"0000644\x00"
    h[108:116] = b"0000000\x00"
    h[116:124] = b"0000000\x00"
    h[124:136] = b"%011o\x00" % size
    h[136:148] = b"%011o\x00" % int(time.time())
    h[148:156] = b" " * 8
    h[156:157] = kind
    h[157:257] = linkname.encode()[:100].ljust(100, b"\x00")
    h[257:263] = b"ustar\x00"
    h[263:265] = b"00"
    checksum = sum(h)
    h[148:156] = b"%06o\x00 " % checksum
    return bytes(h)


def member(name: str, data: bytes) -> bytes:
    return header(name, len(data)) + _pad(data)


def pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body)
    while True:
        record = str(length).encode() + body
        if len(record) == length:
            return record
        length = len(record)


def pax(records: dict[str, str]) -> bytes:
    data = b"".join(pax_record(k, v) for k, v in records.items())
    return header("PaxHeaders/x", len(data), kind=b"x") + _pad(data)


def gnu_longname(name: str) -> bytes:
    data = name.encode() + b"\x00"
    return header("././@LongLink", len(data), kind=b"L") + _pad(data)


def end() -> bytes:
    return b"\x00" * (2 * BLOCK)
