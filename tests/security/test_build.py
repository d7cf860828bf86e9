"""Category 5: docker build.

The classic builder runs on the host: `ADD <url>` is fetched by dockerd itself (so from the
host's network namespace, whatever the build's network mode), `remote=` fetches a whole context,
`FROM` / `COPY --from` read any image on the engine, and the Dockerfile is found in the context
tar by Go's archive/tar. The gateway must refuse remote sources (403) wherever they hide (ARG,
JSON form, continuation lines, ONBUILD), refuse a context tar it may read differently from the
engine (GNU long name vs PAX path), a Dockerfile that is a link or missing (400), and images it
cannot vouch for. The test listens on 127.0.0.1 itself: nothing may reach it.
"""

from __future__ import annotations

import pytest

from . import engine_view, tars
from .raw import describe, raw, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

TAR = "application/x-tar"


@pytest.fixture
def foreign_image(scratch):
    """An image on the engine that is neither the session's nor a platform base image."""
    name = scratch.name("foreign")
    engine_view.engine().api.tag("busybox:latest", name, "latest")
    return f"{name}:latest"


def build(lab, context: bytes, query: str = "", *, timeout: float = 120):
    target = "/v1.41/build?rm=1&forcerm=1" + (f"&{query}" if query else "")
    try:
        return raw(lab, request("POST", target, body=context, content_type=TAR), timeout=timeout)
    except TimeoutError:
        return "no answer"


def _verdict(lab, scratch, resp, what, *, statuses=(400, 403), listener=None, forbidden_text=()) -> list[str]:
    problems = []
    if resp == "no answer":
        problems.append(f"{what}: no answer from the gateway")
    elif resp is None or resp.status not in statuses:
        problems.append(f"{what}: the gateway answered {describe(resp)}")
    if listener is not None and (listener.connections or listener.seen):
        problems.append(
            f"{what}: the engine connected to the test's listener ({listener.connections} connections, "
            f"requests {listener.seen})"
        )
    body = resp.body.decode(errors="replace") if resp not in (None, "no answer") else ""
    for text in forbidden_text:
        if text in body:
            problems.append(f"{what}: the build went on with {text!r}")
    problems += engine_view.problems(lab, scratch.since)
    return problems


def dockerfile(text: str) -> bytes:
    return tars.context({"Dockerfile": text, "x.txt": "x\n"})


REMOTE_DOCKERFILES = {
    "ADD-http-loopback": "FROM busybox\nADD {http} /x\n",
    "ADD-https-loopback": "FROM busybox\nADD {https} /x\n",
    "ADD-git-ssh": "FROM busybox\nADD git@127.0.0.1:{port}/repo.git /repo\n",
    "ADD-url-from-ARG": "FROM busybox\nARG SRC={http}\nADD $SRC /x\n",
    "ADD-url-json-form": 'FROM busybox\nADD ["{http}", "/x"]\n',
    "ADD-url-continuation-line": "FROM busybox\nADD \\\n  {http} \\\n  /x\n",
    "ONBUILD-ADD-url": "FROM busybox\nONBUILD ADD {http} /x\n",
}


@pytest.mark.parametrize("case", list(REMOTE_DOCKERFILES))
def test_remote_sources_in_the_dockerfile_are_refused(docker_lab, scratch, http_listener, case):
    text = REMOTE_DOCKERFILES[case].format(
        http=http_listener.url("/x"), https=http_listener.url("/x", scheme="https"), port=http_listener.port
    )
    tag = scratch.name("remote")
    resp = build(docker_lab, dockerfile(text), f"t={tag}")
    if case.startswith("ONBUILD") and resp not in (None, "no answer") and resp.status == 200:
        # the trigger runs in a child build: show what the accepted image does
        build(docker_lab, dockerfile(f"FROM {tag}\n"), f"t={scratch.name('child')}")
    problems = _verdict(docker_lab, scratch, resp, case, statuses=(403,), listener=http_listener)
    assert not problems, "\n".join(problems)


def test_remote_context_is_refused(docker_lab, scratch, http_listener):
    resp = build(docker_lab, b"", f"remote={http_listener.url('/ctx.tar')}&t={scratch.name('remotectx')}")
    problems = _verdict(docker_lab, scratch, resp, "remote=", statuses=(403,), listener=http_listener)
    assert not problems, "\n".join(problems)


def test_gnu_long_name_against_pax_path_is_refused(docker_lab, scratch, foreign_image):
    """Two members: one the gateway reads as `Dockerfile` (PAX path) and Go's archive/tar as
    `decoy.txt` (the GNU long name wins there), and one the other way round, whose FROM names an
    image the session may not use."""
    context = (
        tars.pax({"path": "Dockerfile"})
        + tars.gnu_longname("decoy.txt")
        + tars.member("a", b"FROM busybox\n")
        + tars.pax({"path": "notes.txt"})
        + tars.gnu_longname("Dockerfile")
        + tars.member("b", f"FROM {foreign_image}\nLABEL sectest=differential\n".encode())
        + tars.end()
    )
    resp = build(docker_lab, context, f"t={scratch.name('tardiff')}")
    problems = _verdict(docker_lab, scratch, resp, "GNU long name vs PAX path", forbidden_text=(foreign_image,))
    assert not problems, "\n".join(problems)


def test_dockerfile_symlink_to_etc_passwd_is_refused(docker_lab, scratch):
    context = tars.context({"x.txt": "x\n"}, symlinks={"Dockerfile": "/etc/passwd"})
    resp = build(docker_lab, context, f"t={scratch.name('symlink')}")
    problems = _verdict(docker_lab, scratch, resp, "Dockerfile -> /etc/passwd", statuses=(400,))
    assert not problems, "\n".join(problems)


def test_context_without_a_dockerfile_is_refused(docker_lab, scratch):
    resp = build(docker_lab, tars.context({"x.txt": "x\n"}), f"t={scratch.name('nodockerfile')}")
    problems = _verdict(docker_lab, scratch, resp, "no Dockerfile", statuses=(400,))
    assert not problems, "\n".join(problems)


def test_dockerfile_path_outside_the_context_is_refused(docker_lab, scratch):
    resp = build(
        docker_lab,
        dockerfile("FROM busybox\n"),
        f"dockerfile=../../etc/passwd&t={scratch.name('dotdot')}",
    )
    problems = _verdict(docker_lab, scratch, resp, "dockerfile=../../etc/passwd", statuses=(400,))
    assert not problems, "\n".join(problems)


def test_copy_from_another_sessions_image_is_refused(docker_lab, scratch, second_lab):
    other = second_lab()
    other.ok(
        "mkdir -p ~/t && printf 'FROM busybox\\nRUN echo secret > /secret\\n' > ~/t/Dockerfile && "
        "docker build -q -t theirs ~/t",
        timeout=120,
    )
    theirs = f"{other.prefix.lower()}/theirs:latest"
    assert engine_view.image_id(theirs), f"the other session's image {theirs} is not on the engine"
    text = f"FROM busybox\nCOPY --from={theirs} /secret /secret\n"
    resp = build(docker_lab, dockerfile(text), f"t={scratch.name('copyfrom')}")
    problems = _verdict(docker_lab, scratch, resp, "COPY --from another session", statuses=(403,))
    assert not problems, "\n".join(problems)


def test_add_url_from_the_students_docker_build(docker_lab, scratch, http_listener):
    """The same through the student's docker CLI in the lab (the URL is the host's loopback)."""
    out = docker_lab.fails(
        f"mkdir -p ~/addurl && printf 'FROM busybox\\nADD {http_listener.url('/x')} /x\\n' > ~/addurl/Dockerfile && "
        "DOCKER_BUILDKIT=0 docker build -t addurl ~/addurl",
        timeout=120,
    )
    problems = []
    if http_listener.connections or http_listener.seen:
        problems.append(f"the engine fetched {http_listener.seen}; docker build said: {out[-300:]}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)
