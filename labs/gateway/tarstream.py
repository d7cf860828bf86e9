"""Canonical re-packing of a tar stream: the engine only ever reads a tar the gateway wrote.

A build context (and a `docker cp` / `PUT archive` upload) is read with Python's `tarfile` in
streaming mode (`r|*`: plain, gzip, bzip2 or xz) and written again, member by member, as a new
PAX archive (`w|`) holding only what was checked: regular files, directories, symlinks and hard
links to files already written, under normalised names, with mode, mtime and uid/gid and
nothing else (no uname/gname, no PAX records or xattrs of the client's). Whatever two tar readers
might read differently in the client's bytes (a GNU long name against a PAX path, a ustar
prefix, a global header) the engine never sees: it reads names from headers we wrote.

Members named in `capture` (the Dockerfile) are held back and returned with their metadata; the
caller appends the rewritten content with `finish` and ends the archive with `close`. Refusals
(`Refused`, 400) name the member. On a refusal the output is left without its end-of-archive
blocks: the caller must drop the upstream request (the engine then reads a truncated archive).

No I/O except the two file objects passed in; no Django.
"""

from __future__ import annotations

import io
import math
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from .policy import Refused

MAX_MEMBERS = 200_000
MAX_CAPTURE = 1024 * 1024
MAX_META = 64 * 1024  # the data of one PAX / GNU long-name header (tarfile reads it in one piece)
# tarfile before 3.11.10 parses PAX data with regular expressions quadratic in its length
# (CVE-2024-6232): the sum of the squares of the extended headers' sizes is capped (about 2 s of
# matching in the worst case; a context of ordinary long names stays far below it).
MAX_META_COST = 2**30
_META_TYPES = frozenset(
    {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK}
)
_GLOBAL_REFUSED = frozenset({"path", "linkpath", "size"})  # a global header may not rename or resize members
_DRAIN = 64 * 1024
_MAX_ID = 2**32  # uid / gid
_MAX_TIME = 2**63  # mtime, seconds


@dataclass(frozen=True)
class MemberMeta:
    """What a captured member keeps when the caller writes its replacement."""

    mode: int
    mtime: int
    uid: int
    gid: int


@dataclass
class RepackResult:
    writer: tarfile.TarFile  # still open: `finish` appends to it, `close` ends the archive
    captured: dict[str, bytes] = field(default_factory=dict)  # capture name -> its content
    meta: dict[str, MemberMeta] = field(default_factory=dict)  # capture name -> its metadata
    found: list[str] = field(default_factory=list)  # the capture names present, in archive order
    members: int = 0  # members read
    finished: set[str] = field(default_factory=set)


def clean_name(name: str, *, what: str = "the build context") -> str:
    """The member name as written in the new archive: no leading "./", no "." or empty
    components, no trailing "/". Absolute names, `..` and NUL are refused. "" is the root."""
    if "\x00" in name:
        raise Refused(f"{what} has a file name with a NUL character ({name!r})", status=400)
    if name.startswith("/"):
        raise Refused(f"{what} has an absolute path ({name})", status=400)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Refused(f"{what} has a path with '..' ({name})", status=400)
    return "/".join(parts)


def _parents(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _header_class(events: list, what: str) -> type[tarfile.TarInfo]:
    """A TarInfo whose `frombuf` (called once per header block) records each block's type, or the
    header error that ended the reading (tarfile stops silently at a bad header after the first
    member, and takes two names for one member without a word), and refuses before any data is
    read: negative sizes, GNU sparse files, oversized extended headers."""
    cost = [0]

    class Header(tarfile.TarInfo):
        @classmethod
        def frombuf(cls, buf, encoding, errors):
            try:
                info = super().frombuf(buf, encoding, errors)
            except tarfile.HeaderError as exc:
                events.append(type(exc))
                raise
            if info.size < 0:
                raise Refused(f"{what} has a member with a negative size", status=400)
            if info.type == tarfile.GNUTYPE_SPARSE:
                raise Refused(f"{what} has a sparse file ({info.name}), which is not supported", status=400)
            if info.type in _META_TYPES:
                cost[0] += info.size * info.size
                if info.size > MAX_META or cost[0] > MAX_META_COST:
                    raise Refused(f"{what} has oversized extended (PAX / GNU) headers", status=400)
            events.append(info.type)
            return info

        def _proc_gnusparse_10(self, next, pax_headers, tarfile):
            # PAX sparse 1.0 reads its map from the member's data, with no bound: refuse first.
            raise Refused(f"{what} has a sparse file ({next.name}), which is not supported", status=400)

    return Header


class _Repacker:
    def __init__(self, result: RepackResult, *, capture, max_members, max_capture, max_bytes, what):
        self.result = result
        self.capture = frozenset(clean_name(c, what=what) for c in capture)
        self.max_members = max_members
        self.max_capture = max_capture
        self.max_bytes = max_bytes
        self.what = what
        self.names: set[str] = set()  # every member written or captured
        self.not_dirs: set[str] = set()  # files, links, captured members
        self.implicit_dirs: set[str] = set()  # parents of a member
        self.symlinks: set[str] = set()
        self.files: set[str] = set()  # regular files and hard links written (hard links may point at them)
        self.data_bytes = 0

    def refuse(self, message: str) -> Refused:
        return Refused(f"{self.what} {message}", status=400)

    def check_headers(self, info: tarfile.TarInfo, types: list, reader: tarfile.TarFile) -> None:
        """One name per member: tarfile and Go's archive/tar disagree when there are two."""
        pax_headers = types.count(tarfile.XHDTYPE) + types.count(tarfile.SOLARIS_XHDTYPE)
        if pax_headers > 1 or types.count(tarfile.GNUTYPE_LONGNAME) > 1 or types.count(tarfile.GNUTYPE_LONGLINK) > 1:
            raise self.refuse(f"has a member with several extended headers ({info.name})")
        if tarfile.GNUTYPE_LONGNAME in types and "path" in info.pax_headers:
            raise self.refuse(f"has a member with two names, a GNU long name and a PAX path ({info.name})")
        if tarfile.GNUTYPE_LONGLINK in types and "linkpath" in info.pax_headers:
            raise self.refuse(f"has a link with two targets, a GNU long link and a PAX linkpath ({info.name})")
        if _GLOBAL_REFUSED & set(reader.pax_headers):
            raise self.refuse("has a global PAX header that renames or resizes members")
        if info.issparse():
            raise self.refuse(f"has a sparse file ({info.name}), which is not supported")
        ids_ok = 0 <= info.uid < _MAX_ID and 0 <= info.gid < _MAX_ID
        mtime_ok = isinstance(info.mtime, int) or math.isfinite(info.mtime)
        if info.size < 0 or not ids_ok or not mtime_ok or not -_MAX_TIME < info.mtime < _MAX_TIME:
            raise self.refuse(f"has an invalid header ({info.name})")
        if "\x00" in info.linkname:
            raise self.refuse(f"has a link target with a NUL character ({info.name})")

    def add(self, info: tarfile.TarInfo, reader: tarfile.TarFile) -> None:
        self.result.members += 1
        if self.result.members > self.max_members:
            raise self.refuse(f"has more than {self.max_members} files")
        name = clean_name(info.name, what=self.what)
        if not name:
            if info.isdir():
                return  # "./": the root itself
            raise self.refuse(f"has a member with an empty name ({info.name!r})")
        for parent in _parents(name):
            if parent in self.symlinks:
                raise self.refuse(f"has a path through a symbolic link ({info.name}: {parent} is a link)")
            if parent in self.not_dirs:
                raise self.refuse(f"has a path through a file ({info.name}: {parent} is not a directory)")
        if name in self.names:
            raise self.refuse(f"has {name} twice")
        if name in self.implicit_dirs and not info.isdir():
            raise self.refuse(f"has {name} both as a directory and as a file or link")
        if name in self.capture:
            self.take(name, info, reader)
        elif info.isreg():
            self.count(info)
            out = self.out(name, info, tarfile.REGTYPE)
            out.size = info.size
            self.result.writer.addfile(out, reader.extractfile(info))
            self.files.add(name)
        elif info.isdir():
            self.result.writer.addfile(self.out(name, info, tarfile.DIRTYPE))
        elif info.issym():
            out = self.out(name, info, tarfile.SYMTYPE)
            out.linkname = info.linkname  # the engine resolves it inside the context root
            self.result.writer.addfile(out)
            self.symlinks.add(name)
        elif info.islnk():
            target = clean_name(info.linkname, what=self.what)
            if target not in self.files:
                raise self.refuse(f"has a hard link to a file not written before it ({name} -> {info.linkname})")
            out = self.out(name, info, tarfile.LNKTYPE)
            out.linkname = target
            self.result.writer.addfile(out)
            self.files.add(name)
        elif info.ischr() or info.isblk():
            raise self.refuse(f"has a device file ({name}), which is not allowed")
        elif info.isfifo():
            raise self.refuse(f"has a FIFO ({name}), which is not allowed")
        else:
            raise self.refuse(f"has a member of unsupported type {info.type!r} ({name})")
        self.names.add(name)
        if not info.isdir():
            self.not_dirs.add(name)
        self.implicit_dirs.update(_parents(name))

    def take(self, name: str, info: tarfile.TarInfo, reader: tarfile.TarFile) -> None:
        if not info.isreg():
            kind = "a symbolic link" if info.issym() else "a hard link" if info.islnk() else "not a file"
            raise Refused(f"the Dockerfile must be a regular file ({name} is {kind})", status=400)
        if info.size > self.max_capture:
            raise Refused(f"the Dockerfile is too large ({name}: at most {self.max_capture} bytes)", status=400)
        self.result.captured[name] = reader.extractfile(info).read()
        self.result.meta[name] = MemberMeta(mode=info.mode & 0o7777, mtime=int(info.mtime), uid=info.uid, gid=info.gid)
        self.result.found.append(name)

    def count(self, info: tarfile.TarInfo) -> None:
        self.data_bytes += info.size
        if self.max_bytes is not None and self.data_bytes > self.max_bytes:
            raise self.refuse(f"is larger than {self.max_bytes / 2**20:g} MiB once unpacked")

    @staticmethod
    def out(name: str, info: tarfile.TarInfo, kind: bytes) -> tarfile.TarInfo:
        out = tarfile.TarInfo(name)
        out.type = kind
        out.mode = info.mode & 0o7777
        out.mtime = int(info.mtime)
        out.uid, out.gid = info.uid, info.gid
        out.uname = out.gname = ""
        return out


class _Sink:
    """Where the writer writes: `dst`, until a refusal cuts it off."""

    def __init__(self, dst: BinaryIO):
        self.dst, self.cut = dst, False

    def write(self, data: bytes) -> int:
        if not self.cut:
            self.dst.write(data)
        return len(data)


class _FullReads:
    """`read(n)` returns n bytes unless the stream ends: tarfile detects the compression from its
    first read (bzip2 needs 10 bytes), and a pipe or socket may hand out less."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.raw.read()
        parts, wanted = [], size
        while wanted > 0:
            chunk = self.raw.read(wanted)
            if not chunk:
                break
            parts.append(chunk)
            wanted -= len(chunk)
        return b"".join(parts)


def _ended_after_data(reader: tarfile.TarFile, last: tarfile.TarInfo | None) -> bool:
    """The stream ended inside the padding of a regular file whose data was all there.

    The docker CLI sends `-f` from outside the context by appending it last (.dockerfile.<hex>)
    and closing the stream without padding it or writing the end blocks; the engine reads that."""
    if last is None or not last.isreg():
        return False
    return last.offset_data + last.size <= reader.fileobj.tell() < reader.offset


def repack(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    capture: Sequence[str] = (),
    max_members: int = MAX_MEMBERS,
    max_capture: int = MAX_CAPTURE,
    max_bytes: int | None = None,
    what: str = "the build context",
) -> RepackResult:
    """Read the tar (or gzip/bzip2/xz tar) in `src` and write a canonical PAX tar to `dst`.

    `capture` names (normalised like member names) are held back: their content and metadata
    are in the result (`found` says which were present; none is not an error here: the caller
    refuses a build without its Dockerfile). `max_bytes` caps the unpacked size of the files.
    Reads `src` to its end (what follows the end of the archive is dropped). Raises `Refused`
    (400) for anything the engine could read differently or should not get; `dst` then gets no
    end-of-archive blocks. Blocking: run it off the event loop."""
    events: list = []
    header = _header_class(events, what)
    reader: tarfile.TarFile | None
    try:  # the first member is read here
        reader = tarfile.open(
            fileobj=_FullReads(src), mode="r|*", tarinfo=header, encoding="utf-8", errors="surrogateescape"
        )
    except (tarfile.TarError, EOFError) as exc:
        if events != [tarfile.EmptyHeaderError]:
            raise Refused(f"{what} is not a valid tar archive", status=400) from exc
        reader = None  # no bytes at all: an empty archive
    sink = _Sink(dst)
    writer = tarfile.open(
        fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    )
    result = RepackResult(writer=writer)
    repacker = _Repacker(
        result, capture=capture, max_members=max_members, max_capture=max_capture, max_bytes=max_bytes, what=what
    )
    try:
        if reader is not None:
            _copy(reader, repacker, events, what)
        while src.read(_DRAIN):
            pass
    except BaseException:
        sink.cut = True  # nothing more reaches dst: no end-of-archive blocks, not even at garbage collection
        writer.close()
        raise
    finally:
        if reader is not None:
            reader.close()
    return result


def _copy(reader: tarfile.TarFile, repacker: _Repacker, events: list, what: str) -> None:
    last = None
    try:
        while True:
            if last is not None:
                events.clear()
            try:
                info = reader.next()
            except tarfile.ReadError as exc:
                if _ended_after_data(reader, last):
                    return
                raise Refused(f"{what} ended in the middle of a file", status=400) from exc
            if info is None:
                if events and events[-1] is tarfile.TruncatedHeaderError:
                    raise Refused(f"{what} ended in the middle of a file", status=400)
                if not events or events[-1] not in (tarfile.EOFHeaderError, tarfile.EmptyHeaderError):
                    raise Refused(f"{what} is not a valid tar archive", status=400)
                return
            repacker.check_headers(info, [e for e in events if isinstance(e, bytes)], reader)
            repacker.add(info, reader)
            reader.members.clear()  # tarfile keeps every member it read; nothing here needs them
            repacker.result.writer.members.clear()
            last = info
    except (tarfile.TarError, EOFError) as exc:  # data cut short, corrupt compression
        if "unexpected end of data" in str(exc):
            raise Refused(f"{what} ended in the middle of a file", status=400) from exc
        raise Refused(f"{what} is not a valid tar archive", status=400) from exc


def finish(result: RepackResult, name: str, data: bytes) -> None:
    """Append the replacement of a captured member, with the captured member's metadata."""
    if name not in result.meta or name in result.finished:
        raise ValueError(f"{name!r} was not captured, or is already written")
    meta = result.meta[name]
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode, info.mtime, info.uid, info.gid = meta.mode, meta.mtime, meta.uid, meta.gid
    result.writer.addfile(info, io.BytesIO(data))
    result.finished.add(name)


def close(result: RepackResult) -> None:
    """End the archive (end-of-archive blocks, padding) and flush it to `dst`; `dst` stays open."""
    result.writer.close()
