"""labs.gateway.tarstream: the engine only reads tars the gateway wrote.

Hostile archives are built from raw header blocks here (no tar writer produces them); every
output is read back with tarfile and with `names_in`, a reader written for these tests from the
ustar layout (name + prefix fields, PAX `path` records, nothing else): both must see the same
single name for every member.
"""

import bz2
import gzip
import io
import lzma
import tarfile

import pytest

from labs.gateway import tarstream
from labs.gateway.policy import Refused

BLOCK = 512
DOCKERFILES = ("Dockerfile", "dockerfile")


# --- raw archives --------------------------------------------------------------------------------


def header(name: str, size: int = 0, *, kind: bytes = b"0", linkname: str = "", mode: int = 0o644) -> bytes:
    h = bytearray(BLOCK)
    h[0:100] = name.encode()[:100].ljust(100, b"\x00")
    h[100:108] = b"%07o\x00" % mode
    h[108:116] = b"0001750\x00"  # uid 1000
    h[116:124] = b"0001750\x00"
    h[124:136] = b"%011o\x00" % size
    h[136:148] = b"%011o\x00" % 1_700_000_000
    h[148:156] = b" " * 8
    h[156:157] = kind
    h[157:257] = linkname.encode()[:100].ljust(100, b"\x00")
    h[257:263] = b"ustar\x00"
    h[263:265] = b"00"
    h[148:156] = b"%06o\x00 " % sum(h)
    return bytes(h)


def pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % BLOCK)


def member(name: str, data: bytes = b"", **kwargs) -> bytes:
    return header(name, len(data), **kwargs) + pad(data)


def pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body)
    while len(str(length).encode() + body) != length:
        length = len(str(length).encode() + body)
    return str(length).encode() + body


def pax(records: dict[str, str], *, kind: bytes = b"x") -> bytes:
    data = b"".join(pax_record(k, v) for k, v in records.items())
    return header("PaxHeaders/x", len(data), kind=kind) + pad(data)


def gnu_longname(name: str) -> bytes:
    data = name.encode() + b"\x00"
    return header("././@LongLink", len(data), kind=b"L") + pad(data)


END = b"\x00" * (2 * BLOCK)


def negative_size(name: str) -> bytes:
    h = bytearray(header(name))
    h[124:136] = b"\xff" * 12  # base-256: -1
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\x00 " % sum(h)
    return bytes(h)


def make_tar(members, fmt=tarfile.PAX_FORMAT) -> bytes:
    """(name, kind, data) with kind file/dir/symlink/hardlink, written by tarfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 1_700_000_000, 1000, 1000, "student", "student"
            if kind == "file":
                info.size, info.mode = len(data), 0o640
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
            info.mode = 0o755
            info.linkname = data or ""
            tar.addfile(info)
    return buf.getvalue()


# --- running repack, reading the result ----------------------------------------------------------


class Trickle(io.RawIOBase):
    """A source that hands out a few bytes per read, like a socket."""

    def __init__(self, data: bytes, chunk: int):
        self.data, self.pos, self.chunk = data, 0, chunk

    def readable(self):
        return True

    def read(self, size=-1):
        size = self.chunk if size is None or size < 0 else min(size, self.chunk)
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def repack(data: bytes, *, capture=DOCKERFILES, new=b"FROM rewritten\n", chunk=None, **kwargs):
    """Repack, append `new` for the first capture name found, close; (output, result)."""
    out = io.BytesIO()
    src = Trickle(data, chunk) if chunk else io.BytesIO(data)
    result = tarstream.repack(src, out, capture=capture, **kwargs)
    chosen = next((name for name in capture if name in result.found), None)
    if chosen:
        tarstream.finish(result, chosen, new)
    tarstream.close(result)
    return out.getvalue(), result


def read_back(data: bytes) -> dict:
    """name -> (type, content or linkname) as tarfile reads it; asserts one entry per name."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar:
            assert m.name not in out, f"{m.name} twice in the output"
            out[m.name] = (m.type, tar.extractfile(m).read() if m.isreg() else m.linkname)
    return out


def names_in(data: bytes) -> list[str]:
    """An independent reader: ustar name (+ prefix), overridden by a preceding PAX `path`.
    Any GNU header or global header in our output fails the test."""
    names, pos, pax_path = [], 0, None
    while pos + BLOCK <= len(data):
        block = data[pos : pos + BLOCK]
        if block == b"\x00" * BLOCK:
            break
        assert block[257:263] == b"ustar\x00", "not a POSIX ustar/PAX header"
        kind = block[156:157]
        assert kind not in (b"L", b"K", b"g", b"S"), f"unexpected header type {kind!r}"
        size = int(block[124:136].split(b"\x00")[0].strip() or b"0", 8)
        body = data[pos + BLOCK : pos + BLOCK + size]
        pos += BLOCK + (size + BLOCK - 1) // BLOCK * BLOCK
        if kind == b"x":
            while body:
                length = int(body.split(b" ", 1)[0])
                key, _, value = body[:length].split(b" ", 1)[1][:-1].partition(b"=")
                if key == b"path":
                    pax_path = value.decode()
                body = body[length:]
            continue
        name = block[0:100].split(b"\x00")[0].decode()
        prefix = block[345:500].split(b"\x00")[0].decode()
        name = f"{prefix}/{name}" if prefix else name
        name = pax_path if pax_path is not None else name
        names.append(name[:-1] if kind == b"5" and name.endswith("/") else name)
        pax_path = None
    return names


def assert_readers_agree(out: bytes) -> None:
    assert names_in(out) == list(read_back(out))


# --- what goes through ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_repack_keeps_files_dirs_links_and_swaps_the_dockerfile(fmt):
    long_name = "deep/" + "x" * 120 + "/file.txt" if fmt != tarfile.USTAR_FORMAT else "deep/file.txt"
    data = make_tar(
        [
            ("./", "dir", None),
            ("./app", "dir", None),
            ("app/main.py", "file", b"print(1)\n" * 500),
            (long_name, "file", b"long"),
            ("Dockerfile", "file", b"FROM busybox\n"),
            ("link", "symlink", "/etc/passwd"),  # kept as is: the engine resolves it inside the context
            ("hard", "hardlink", "app/main.py"),
            ("z.bin", "file", bytes(range(256)) * 40),
        ],
        fmt,
    )
    out, result = repack(data)
    assert result.found == ["Dockerfile"] and result.captured == {"Dockerfile": b"FROM busybox\n"}
    files = read_back(out)
    assert list(files) == ["app", "app/main.py", long_name, "link", "hard", "z.bin", "Dockerfile"]
    assert files["Dockerfile"] == (tarfile.REGTYPE, b"FROM rewritten\n")
    assert files["app/main.py"] == (tarfile.REGTYPE, b"print(1)\n" * 500)
    assert files[long_name] == (tarfile.REGTYPE, b"long")
    assert files["link"] == (tarfile.SYMTYPE, "/etc/passwd")
    assert files["hard"] == (tarfile.LNKTYPE, "app/main.py")
    assert files["z.bin"][1] == bytes(range(256)) * 40
    assert_readers_agree(out)


def test_repack_keeps_mode_mtime_and_ids_and_drops_everything_else():
    data = (
        pax({"path": "tool", "uname": "root", "SCHILY.xattr.security.capability": "x", "comment": "hi"})
        + member("tool-ustar-name", b"#!/bin/sh\n", mode=0o104755)
        + member("Dockerfile", b"FROM busybox\n", mode=0o600)
        + END
    )
    out, result = repack(data)
    assert result.meta["Dockerfile"] == tarstream.MemberMeta(mode=0o600, mtime=1_700_000_000, uid=1000, gid=1000)
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        members = {m.name: m for m in tar}
    tool, dockerfile = members["tool"], members["Dockerfile"]
    assert tool.mode == 0o4755 and tool.mtime == 1_700_000_000 and (tool.uid, tool.gid) == (1000, 1000)
    assert tool.uname == tool.gname == "" and tool.pax_headers == {}
    assert dockerfile.mode == 0o600 and (dockerfile.uid, dockerfile.mtime) == (1000, 1_700_000_000)
    assert_readers_agree(out)


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress, lambda b: b])
def test_compressed_contexts_are_read_and_the_output_is_a_plain_tar(compress):
    data = make_tar([("sub/Dockerfile.dev", "file", b"FROM myapp\n" + b"#" * 3000), ("x", "file", b"x")])
    out, result = repack(compress(data), capture=["sub/Dockerfile.dev"], chunk=7)
    assert result.captured["sub/Dockerfile.dev"].startswith(b"FROM myapp")
    assert read_back(out) == {
        "x": (tarfile.REGTYPE, b"x"),
        "sub/Dockerfile.dev": (tarfile.REGTYPE, b"FROM rewritten\n"),
    }
    assert out[:2] != b"\x1f\x8b" and len(out) % BLOCK == 0


def test_an_empty_archive_is_not_an_error_and_reports_no_dockerfile():
    for data in (END, b"", gzip.compress(END)):
        out, result = repack(data)
        assert result.found == [] and result.captured == {} and read_back(out) == {}


def test_both_names_are_reported_in_archive_order():
    data = make_tar([("dockerfile", "file", b"FROM a\n"), ("Dockerfile", "file", b"FROM b\n")])
    out, result = repack(data)
    assert result.found == ["dockerfile", "Dockerfile"]
    assert read_back(out) == {"Dockerfile": (tarfile.REGTYPE, b"FROM rewritten\n")}  # only what finish() wrote


def test_an_unpadded_last_dockerfile_from_the_docker_cli_is_read():
    # `docker build -f ../elsewhere/Dockerfile .`: the CLI appends .dockerfile.<hex> last, without
    # padding its data and without end-of-archive blocks.
    body = make_tar([("data.txt", "file", b"data\n")], tarfile.USTAR_FORMAT).rstrip(b"\x00")
    body += b"\x00" * (-len(body) % BLOCK)
    dockerfile = b"FROM busybox\nCOPY data.txt /\n"
    body += header(".dockerfile.0123abcd", len(dockerfile)) + dockerfile
    out, result = repack(body, capture=[".dockerfile.0123abcd"])
    assert result.captured == {".dockerfile.0123abcd": dockerfile}
    assert read_back(out)[".dockerfile.0123abcd"] == (tarfile.REGTYPE, b"FROM rewritten\n")


def test_a_dockerfile_reached_only_through_a_symlink_is_not_found():
    # -f sub/Dockerfile with sub -> real: the engine would read real/Dockerfile, which is not
    # captured (not rewritten). It is not "found": the caller refuses the build.
    data = make_tar([("real", "dir", None), ("real/Dockerfile", "file", b"FROM evil\n"), ("sub", "symlink", "real")])
    out, result = repack(data, capture=["sub/Dockerfile"])
    assert result.found == [] and read_back(out)["sub"] == (tarfile.SYMTYPE, "real")


def test_what_follows_the_end_of_the_archive_is_read_and_dropped():
    src = io.BytesIO(make_tar([("a", "file", b"a")]) + b"junk after the end" * 100)
    result = tarstream.repack(src, io.BytesIO())
    assert src.read() == b"" and result.members == 1


def test_hard_links_may_chain_and_capture_names_are_normalised():
    data = make_tar(
        [("a", "file", b"a"), ("b", "hardlink", "a"), ("c", "hardlink", "./b"), ("Dockerfile", "file", b"x")]
    )
    out, result = repack(data, capture=["./Dockerfile"])
    assert result.found == ["Dockerfile"]
    assert read_back(out)["c"] == (tarfile.LNKTYPE, "b")


def test_finish_only_appends_captured_members_once():
    _, result = repack(make_tar([("Dockerfile", "file", b"FROM a\n")]))
    with pytest.raises(ValueError):
        tarstream.finish(result, "Dockerfile", b"again")
    with pytest.raises(ValueError):
        tarstream.finish(result, "other", b"x")


# --- one name per member -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        # PAX path first: tarfile names it "Dockerfile", Go's archive/tar "decoy.txt" (GNU name wins)
        pax({"path": "Dockerfile"}) + gnu_longname("decoy.txt") + member("a", b"FROM busybox\n"),
        # GNU name first: tarfile names it "Dockerfile", Go's archive/tar too, but the PAX path disagrees
        gnu_longname("Dockerfile") + pax({"path": "notes.txt"}) + member("b", b"FROM evil\n"),
        # two GNU long names (tarfile takes the first, Go the last)
        gnu_longname("Dockerfile") + gnu_longname("notes.txt") + member("c", b"FROM evil\n"),
        # two PAX headers (tarfile takes the first record, Go the last header)
        pax({"path": "Dockerfile"}) + pax({"path": "notes.txt"}) + member("d", b"FROM evil\n"),
        # a global header renaming what follows (Go ignores it for names)
        pax({"path": "Dockerfile"}, kind=b"g") + member("e", b"FROM evil\n"),
    ],
)
def test_a_member_with_two_names_is_refused(raw):
    data = member("x.txt", b"x\n") + raw + END
    with pytest.raises(Refused, match="two names|several extended headers|global PAX header") as exc:
        repack(data)
    assert exc.value.status == 400


def test_the_security_suites_differential_context_is_refused():
    # tests/security/test_build.py::test_gnu_long_name_against_pax_path_is_refused, byte for byte
    data = (
        pax({"path": "Dockerfile"})
        + gnu_longname("decoy.txt")
        + member("a", b"FROM busybox\n")
        + pax({"path": "notes.txt"})
        + gnu_longname("Dockerfile")
        + member("b", b"FROM foreign\nLABEL sectest=differential\n")
        + END
    )
    with pytest.raises(Refused, match="two names"):
        repack(data)


def test_names_tar_readers_agree_on_come_out_as_one_name():
    # A PAX path over a different ustar name, and a ustar prefix: one name each, in both readers,
    # and the captured Dockerfile is the member tarfile named Dockerfile.
    data = (
        pax({"path": "Dockerfile"})
        + member("decoy.txt", b"FROM busybox\n")
        + member("Dockerfile.ustar-name-only", b"FROM other\n")
        + header("file.txt", 3)[:345]
        + b"some/dir".ljust(155, b"\x00")
        + b"\x00" * 12
    )
    fixed = bytearray(data[-BLOCK:])
    fixed[148:156] = b" " * 8
    fixed[148:156] = b"%06o\x00 " % sum(fixed)
    data = data[:-BLOCK] + bytes(fixed) + pad(b"abc") + END
    out, result = repack(data)
    assert result.captured == {"Dockerfile": b"FROM busybox\n"}
    assert names_in(out) == list(read_back(out)) == ["Dockerfile.ustar-name-only", "some/dir/file.txt", "Dockerfile"]


# --- what is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (make_tar([("Dockerfile", "symlink", "/etc/passwd")]), r"must be a regular file \(Dockerfile is a symbolic"),
        (make_tar([("Dockerfile", "dir", None)]), "must be a regular file"),
        (make_tar([("x", "file", b"x"), ("Dockerfile", "hardlink", "x")]), "must be a regular file"),
        (make_tar([("a", "symlink", "/"), ("a/etc/x", "file", b"x")]), "through a symbolic link"),
        (make_tar([("d", "symlink", "."), ("d/Dockerfile", "file", b"FROM evil\n")]), "through a symbolic link"),
        (make_tar([("f", "file", b""), ("f/x", "file", b"")]), "through a file"),
        (member("../x", b"x") + END, r"'\.\.' \(\.\./x\)"),
        (member("a/../../x", b"x") + END, r"'\.\.'"),
        (member("/abs", b"x") + END, r"absolute path \(/abs\)"),
        (pax({"path": "a\x00b"}) + member("x") + END, "NUL"),
        (member("x", b"1") + member("./x", b"2") + END, "has x twice"),
        (member("x/", kind=b"5") + member("x", b"2") + END, "has x twice"),
        (member("x/y", b"1") + member("x", b"2") + END, "both as a directory and as a file"),
        (member("x/y", b"1") + member("x", kind=b"2", linkname="/") + END, "both as a directory"),
        (member("Dockerfile", b"a") + member("Dockerfile", b"b") + END, "has Dockerfile twice"),
        (member("fifo", kind=b"6") + END, r"FIFO \(fifo\)"),
        (member("tty", kind=b"3") + END, r"device file \(tty\)"),
        (member("sda", kind=b"4") + END, r"device file \(sda\)"),
        (member("vol", kind=b"V") + END, "unsupported type"),
        (member("h", kind=b"1", linkname="later") + member("later", b"x") + END, "hard link to a file not written"),
        (member("x", b"x") + member("h", kind=b"1", linkname="Dockerfile") + END, "hard link to a file not"),
        (member("sparse", kind=b"S") + END, "sparse file"),
        (pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "s"}) + member("s") + END, "sparse"),
        (member("file.txt", b"x") + b"\x01" * BLOCK + END, "not a valid tar archive"),
        (b"FROM busybox\n" + b"\x01" * 600, "not a valid tar archive"),
        (gzip.compress(b"not a tar at all" * 100), "not a valid tar archive"),
        (make_tar([("Dockerfile", "file", b"FROM busybox\n" * 100)])[:700], "ended in the middle of a file"),
        (member("x", b"data")[: BLOCK + 2], "ended in the middle of a file"),
        (member("x", b"x") + member("y", b"y")[:300], "ended in the middle of a file"),
        (pax({"comment": "1" * 40_000}) + member("x") + END, "oversized extended"),
        (negative_size("x") + END, "negative size"),
        (pax({"mtime": "inf"}) + member("x") + END, r"invalid header \(x\)"),
        (pax({"uid": "99999999999"}) + member("x") + END, "invalid header"),
        (pax({"linkpath": "a\x00b"}) + member("l", kind=b"2") + END, "link target with a NUL"),
    ],
)
def test_hostile_archives_are_refused(data, message):
    with pytest.raises(Refused, match=message) as exc:
        repack(data)
    assert exc.value.status == 400


def test_a_refused_archive_is_left_unterminated():
    # What was written before the refusal reached dst; no end-of-archive blocks ever follow, not
    # even when the writer is garbage-collected: the engine cannot take it for a whole context.
    out = io.BytesIO()
    data = make_tar([("big", "file", b"a" * 50_000), ("b", "symlink", "/"), ("b/c", "file", b"")])
    with pytest.raises(Refused, match="through a symbolic link"):
        tarstream.repack(io.BytesIO(data), out)
    written = out.getvalue()
    assert len(written) >= 40_000 and not written.endswith(b"\x00" * BLOCK)
    with pytest.raises(tarfile.ReadError):
        read_back(written)


def test_limits():
    many = make_tar([(f"f{i}", "file", b"") for i in range(11)])
    with pytest.raises(Refused, match="more than 10 files"):
        repack(many, max_members=10)
    repack(many, max_members=11)
    with pytest.raises(Refused, match="Dockerfile is too large"):
        repack(make_tar([("Dockerfile", "file", b"#" * 101)]), max_capture=100)
    with pytest.raises(Refused, match="larger than 1 MiB once unpacked"):
        repack(gzip.compress(make_tar([("zeros", "file", b"\x00" * (1024 * 1024 + 1))])), max_bytes=1024 * 1024)


def test_docker_cp_uploads_use_their_own_wording():
    with pytest.raises(Refused, match="^the archive has an absolute path"):
        tarstream.repack(io.BytesIO(member("/etc/x", b"x") + END), io.BytesIO(), what="the archive")


def test_clean_name():
    assert tarstream.clean_name("./a//b/./c/") == "a/b/c"
    assert tarstream.clean_name("././") == ""
    for bad in ("/x", "..", "a/../b", "a\x00"):
        with pytest.raises(Refused):
            tarstream.clean_name(bad)
