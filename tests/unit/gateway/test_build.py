import gzip
import io
import tarfile

import pytest

from labs.gateway import build
from labs.gateway.policy import Refused

LABELS = {"org.berth.session": "s-1"}


def plan(text, **kwargs):
    return build.plan_dockerfile(text, **kwargs)


def test_froms_stages_scratch_and_copy_from():
    p = plan(
        "FROM busybox AS base\n"
        "RUN echo hi\n"
        "FROM myapp:1\n"
        "COPY --from=base /a /a\n"
        "COPY --from=0 /b /b\n"
        "COPY --chown=1:1 --from=other/img /c /c\n"
        "from BASE\n"
        "FROM scratch\n"
    )
    assert [(f.image, f.kind, f.stage) for f in p.froms] == [
        ("busybox", "image", "base"),
        ("myapp:1", "image", None),
        ("BASE", "stage", None),
        ("scratch", "scratch", None),
    ]
    assert p.image_refs == ["busybox", "myapp:1", "other/img"]


def test_arg_expansion_in_from():
    text = "ARG TAG=1.35\nARG REPO\nFROM ${REPO:-busybox}:${TAG}\nARG LATE=x\nFROM $REPO\n"
    assert plan(text, build_args={"REPO": "nginx"}).image_refs == ["nginx:1.35", "nginx"]
    assert plan(text.replace("FROM $REPO\n", ""), build_args={}).image_refs == ["busybox:1.35"]
    assert plan('FROM "busy"box\n').image_refs == ["busybox"]  # quotes go, as in moby's lexer
    assert plan("ARG X=1\nFROM busybox:${X:+latest}\n").image_refs == ["busybox:latest"]
    with pytest.raises(Refused, match="empty"):
        plan("FROM $NOPE\n")


def test_parser_follows_continuations_comments_and_the_escape_directive():
    text = (
        "# escape=`\nFROM `\n  # a comment inside the instruction\n\n  myapp `\n  AS built\nRUN echo C:\\path\nFR\\\n"
    )
    p = plan(text)
    assert p.escape == "`" and [f.image for f in p.froms] == ["myapp"] and p.froms[0].stage == "built"
    # with the default escape a backslash continues the line
    p = plan("FROM \\\n   busybox\n")
    assert p.image_refs == ["busybox"]
    # a comment line is not an instruction, even if it says FROM
    assert plan("# FROM evil\nFROM busybox\n").image_refs == ["busybox"]


def test_onbuild_and_bad_froms():
    assert plan("FROM busybox\nONBUILD COPY --from=helper /x /x\n").image_refs == ["busybox", "helper"]
    with pytest.raises(Refused, match="one or three arguments"):
        plan("FROM busybox extra\n")
    with pytest.raises(Refused, match="ONBUILD trigger"):
        plan("FROM busybox\nONBUILD FROM evil\n")
    with pytest.raises(Refused):
        plan("FROM busybox AS 1bad\n")


def test_extract_flags_like_moby():
    assert build.extract_flags("--platform=linux/amd64 busybox AS b") == ("busybox AS b", ["--platform=linux/amd64"])
    assert build.extract_flags('--from="my img" /a /b') == ("/a /b", ["--from=my img"])
    assert build.extract_flags("-- busybox") == (" busybox", [])


def test_render_replaces_references_and_labels_every_stage():
    p = plan(
        "# syntax comment\nFROM busybox AS b\nRUN true\nFROM \\\n  myapp\nCOPY --from=b /x /x\n"
        "COPY --from=lib:1 /y /y\n"
    )
    out = build.render_dockerfile(
        p,
        {"busybox": "busybox", "myapp": "ns/myapp:latest", "lib:1": "ns/lib:1"},
        labels=LABELS,
        extra_labels={"busybox": {"org.berth.platform-image": ""}},
    )
    assert out.splitlines() == [
        "# syntax comment",
        "FROM busybox AS b",
        'LABEL "org.berth.platform-image"="" "org.berth.session"="s-1"',
        "RUN true",
        "FROM ns/myapp:latest",
        'LABEL "org.berth.session"="s-1"',
        "COPY --from=b /x /x",
        "COPY --from=ns/lib:1 /y /y",
    ]


def make_tar(members, fmt=tarfile.GNU_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)
    return buf.getvalue()


def rewrite(data: bytes, targets=frozenset({"Dockerfile", "dockerfile"}), chunk=333, new=b"FROM rewritten\n"):
    rewriter = build.TarRewriter(set(targets))
    decompress = build.Decompressor()
    out = bytearray()
    seen = []

    def emit(items):
        for item in items:
            if isinstance(item, build.Captured):
                seen.append(item.data)
                out.extend(rewriter.render(item, new))
            else:
                out.extend(item)

    for i in range(0, len(data), chunk):
        emit(rewriter.feed(decompress.feed(data[i : i + chunk])))
    emit(rewriter.feed(decompress.flush()))
    emit(rewriter.finish())
    return bytes(out), seen, rewriter


def read_tar(data: bytes) -> dict:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: (tar.extractfile(m).read() if m.isfile() else m.type) for m in tar}


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_tar_rewriter_swaps_only_the_dockerfile(fmt):
    long_name = "deep/" + "x" * 120 + "/file.txt" if fmt != tarfile.USTAR_FORMAT else "deep/file.txt"
    members = [
        ("app", "dir", None),
        ("app/main.py", "file", b"print(1)\n" * 500),
        (long_name, "file", b"long"),
        ("Dockerfile", "file", b"FROM busybox\n"),
        ("z.bin", "file", bytes(range(256)) * 40),
    ]
    data = make_tar(members, fmt)
    out, seen, rewriter = rewrite(data)
    assert seen == [b"FROM busybox\n"] and rewriter.found == 1
    files = read_tar(out)
    assert files["Dockerfile"] == b"FROM rewritten\n"
    assert files["app/main.py"] == b"print(1)\n" * 500 and files[long_name] == b"long"
    assert files["z.bin"] == bytes(range(256)) * 40


def test_tar_rewriter_pax_size_and_custom_path_and_gzip():
    data = make_tar(
        [("sub/Dockerfile.dev", "file", b"FROM myapp\n" + b"#" * 3000), ("x", "file", b"x")], tarfile.PAX_FORMAT
    )
    out, seen, _ = rewrite(gzip.compress(data), targets=build.dockerfile_names("./sub//Dockerfile.dev"), chunk=50)
    assert seen[0].startswith(b"FROM myapp")
    assert read_tar(out)["sub/Dockerfile.dev"] == b"FROM rewritten\n"


@pytest.mark.parametrize(
    "members, targets, message",
    [
        ([("Dockerfile", "symlink", "/etc/passwd")], None, "regular file"),
        (
            [("real", "dir", None), ("real/Dockerfile", "file", b"FROM x\n"), ("sub", "symlink", "real")],
            {"sub/Dockerfile"},
            "link",
        ),
        ([("d", "symlink", "."), ("d/Dockerfile", "file", b"FROM evil\n")], None, "through a symbolic link"),
        ([("Dockerfile", "dir", None)], None, "regular file"),
    ],
)
def test_tar_rewriter_refuses_what_the_engine_would_read_differently(members, targets, message):
    with pytest.raises(Refused, match=message):
        rewrite(make_tar(members), targets=targets or {"Dockerfile", "dockerfile"})


def test_tar_rewriter_refuses_garbage_and_truncation():
    with pytest.raises(Refused, match="not a valid tar"):
        rewrite(b"FROM busybox\n" + b"\x01" * 600)
    data = make_tar([("Dockerfile", "file", b"FROM busybox\n" * 100)])
    with pytest.raises(Refused, match="ended in the middle"):
        rewrite(data[:700])


def test_dockerfile_names():
    assert build.dockerfile_names("") == {"Dockerfile", "dockerfile"}
    assert build.dockerfile_names("Dockerfile") == {"Dockerfile", "dockerfile"}
    assert build.dockerfile_names(".dockerfile.abc") == {".dockerfile.abc"}
    assert build.dockerfile_names("/ci/Dockerfile") == {"ci/Dockerfile"}


def test_tar_rewriter_completes_an_unpadded_last_dockerfile():
    # What the docker CLI sends for `-f` outside the context: the Dockerfile appended last as
    # .dockerfile.<hex>, its data not padded to a block and no end-of-archive blocks.
    body = make_tar([("data.txt", "file", b"data\n")], tarfile.USTAR_FORMAT)
    body = body.rstrip(b"\x00")  # drop the end blocks
    body += b"\x00" * (-len(body) % 512)
    info = tarfile.TarInfo(".dockerfile.0123abcd")
    dockerfile = b"FROM busybox\nCOPY data.txt /\n"
    info.size = len(dockerfile)
    body += info.tobuf(format=tarfile.USTAR_FORMAT) + dockerfile  # unpadded, no end blocks
    out, seen, rewriter = rewrite(body, targets={".dockerfile.0123abcd"})
    assert seen == [dockerfile] and rewriter.ended
    files = read_tar(out)
    assert files[".dockerfile.0123abcd"] == b"FROM rewritten\n" and files["data.txt"] == b"data\n"
    assert out.endswith(b"\x00" * 1024) and len(out) % 512 == 0


def test_tar_rewriter_still_refuses_a_truncated_member():
    body = make_tar([("Dockerfile", "file", b"FROM busybox\n" * 100)], tarfile.USTAR_FORMAT)[:700]
    with pytest.raises(build.Refused, match="ended in the middle of a file"):
        rewrite(body)
