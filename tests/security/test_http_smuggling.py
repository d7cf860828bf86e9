"""Category 1: HTTP request smuggling on the session socket.

The gateway must parse requests with a strict HTTP/1.1 parser and never forward the client's
bytes: anything a lenient parser (the engine's Go net/http, say) could read differently from the
gateway is refused (400) or the connection is closed. Each request below carries a second,
smuggled request (a privileged container create with a unique name); whatever happens, no
container with that name may exist anywhere on the engine afterwards, and nothing the engine
holds for the session may break the lab's rules.
"""

from __future__ import annotations

import json

import pytest

from . import engine_view
from .raw import describe, raw_all, refused, refused_or_closed, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

PRIVILEGED = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Privileged": True, "Binds": ["/:/host"]}}
BENIGN = {"Image": "busybox", "Cmd": ["true"]}


def smuggled(name: str, body: dict = PRIVILEGED) -> bytes:
    """The request a hostile student wants the engine to run behind the gateway's back."""
    text = json.dumps(body)
    return (
        f"POST /v1.41/containers/create?name={name} HTTP/1.1\r\nHost: docker\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(text)}\r\n\r\n{text}"
    ).encode()


def head(lines: list[str], *, target: str = "GET /v1.41/version") -> bytes:
    return (f"{target} HTTP/1.1\r\n" + "".join(lines) + "\r\n").encode("latin-1")


# Each case: name -> function(smuggled request bytes, name) -> the bytes written on the socket.
def _bare_lf_te(inner: bytes, name: str) -> bytes:
    body = b"0\r\n\r\n" + inner
    return (
        head(["Host: docker\r\n", "X-Note: a\nTransfer-Encoding: chunked\r\n", f"Content-Length: {len(body)}\r\n"])
        + body
    )


def _obs_fold(inner: bytes, name: str) -> bytes:
    body = b"0\r\n\r\n" + inner
    return (
        head(
            ["Host: docker\r\n", "X-Note: a\r\n", " Transfer-Encoding: chunked\r\n", f"Content-Length: {len(body)}\r\n"]
        )
        + body
    )


def _cl_and_te(inner: bytes, name: str) -> bytes:
    body = b"0\r\n\r\n" + inner
    return head(["Host: docker\r\n", f"Content-Length: {len(body)}\r\n", "Transfer-Encoding: chunked\r\n"]) + body


def _two_content_lengths(inner: bytes, name: str) -> bytes:
    return head(["Host: docker\r\n", "Content-Length: 0\r\n", f"Content-Length: {len(inner)}\r\n"]) + inner


def _invalid_chunk_size(inner: bytes, name: str) -> bytes:
    # Python's int(x, 16) reads "0x0" as 0; llhttp (and RFC 9112) refuse it
    return head(["Host: docker\r\n", "Transfer-Encoding: chunked\r\n"]) + b"0x0\r\n\r\n" + inner


def _chunk_ext_bare_lf(inner: bytes, name: str) -> bytes:
    return head(["Host: docker\r\n", "Transfer-Encoding: chunked\r\n"]) + b"1;ext=a\nb\r\nX\r\n0\r\n\r\n" + inner


def _gzip_chunked(inner: bytes, name: str) -> bytes:
    text = json.dumps(BENIGN).encode()
    body = b"%x\r\n" % len(text) + text + b"\r\n0\r\n\r\n"
    return (
        head(
            ["Host: docker\r\n", "Content-Type: application/json\r\n", "Transfer-Encoding: gzip, chunked\r\n"],
            target=f"POST /v1.41/containers/create?name={name}",
        )
        + body
        + inner
    )


def _two_transfer_encodings(inner: bytes, name: str) -> bytes:
    return (
        head(["Host: docker\r\n", "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: identity\r\n"])
        + b"0\r\n\r\n"
        + inner
    )


def _space_before_colon(inner: bytes, name: str) -> bytes:
    return head(["Host: docker\r\n", f"Content-Length : {len(inner)}\r\n"]) + inner


def _signed_content_length(inner: bytes, name: str) -> bytes:
    return head(["Host: docker\r\n", f"Content-Length: +{len(inner)}\r\n"]) + inner


def _bare_cr_in_value(inner: bytes, name: str) -> bytes:
    body = b"0\r\n\r\n" + inner
    return (
        head(["Host: docker\r\n", "X-Note: a\rTransfer-Encoding: chunked\r\n", f"Content-Length: {len(body)}\r\n"])
        + body
    )


def _nul_in_target(inner: bytes, name: str) -> bytes:
    text = json.dumps(BENIGN)
    return request("POST", f"/v1.41/containers/create\x00/../create?name={name}", json_text=text) + inner


def _absolute_form(inner: bytes, name: str) -> bytes:
    return request("POST", f"http://docker/v1.41/containers/create?name={name}", json_text=json.dumps(BENIGN)) + inner


CASES = {
    "bare-lf-then-transfer-encoding": _bare_lf_te,
    "obs-fold": _obs_fold,
    "content-length-and-transfer-encoding": _cl_and_te,
    "two-content-lengths": _two_content_lengths,
    "invalid-chunk-size-0x0": _invalid_chunk_size,
    "chunk-extension-with-bare-lf": _chunk_ext_bare_lf,
    "transfer-encoding-gzip-chunked": _gzip_chunked,
    "two-transfer-encoding-headers": _two_transfer_encodings,
    "space-before-colon": _space_before_colon,
    "signed-content-length": _signed_content_length,
    "bare-cr-in-header-value": _bare_cr_in_value,
    "nul-in-target": _nul_in_target,
    "absolute-form-target": _absolute_form,
}


def _made(*names: str) -> list[str]:
    return [found for name in names for found in engine_view.containers_named_like(name)]


def _verdict(lab, scratch, answers, names, what: str) -> list[str]:
    """Every way the attempt succeeded, in one list (empty: the hole is closed)."""
    problems = []
    first = answers[0] if answers else None
    if not refused_or_closed(first):
        problems.append(f"{what}: the gateway answered {describe(first)}")
    for later in answers[1:]:
        if later.status < 400:
            problems.append(f"{what}: a further request on the connection was served: {later}")
    made = _made(*names)
    if made:
        problems.append(f"{what}: the engine now has {made}")
    problems += engine_view.problems(lab, scratch.since)
    return problems


@pytest.mark.parametrize("case", list(CASES))
def test_ambiguous_framing_is_refused_and_nothing_is_smuggled(docker_lab, scratch, case):
    outer_name = scratch.name("outer")
    inner_name = scratch.name("smuggled")
    answers = raw_all(docker_lab, CASES[case](smuggled(inner_name), outer_name))
    problems = _verdict(docker_lab, scratch, answers, [outer_name, inner_name], case)
    assert not problems, "\n".join(problems)
    scratch.assert_clean()


def test_pipelined_request_after_a_refusal_is_not_served(docker_lab, scratch):
    refused_name = scratch.name("refused")
    second_name = scratch.name("pipelined")
    first = request("POST", f"/v1.41/containers/create?name={refused_name}", json_text=json.dumps(PRIVILEGED))
    second = request("POST", f"/v1.41/containers/create?name={second_name}", json_text=json.dumps(BENIGN))
    answers = raw_all(docker_lab, first + second)
    assert answers and refused(answers[0]), f"the privileged create was answered {answers[:1]}"
    problems = _verdict(docker_lab, scratch, answers, [refused_name, second_name], "pipelined")
    assert not problems, "\n".join(problems)
    scratch.assert_clean()


def test_absolute_form_target_from_curl_in_the_lab(docker_lab, scratch):
    """The student's own curl, on the lab's /var/run/docker.sock."""
    name = scratch.name("curl-absolute")
    code = docker_lab.ok(
        "curl -s -o /dev/null -w '%{http_code}' --unix-socket /var/run/docker.sock "
        '-H \'Content-Type: application/json\' -d \'{"Image": "busybox", "Cmd": ["true"]}\' '
        f"--request-target 'http://docker/v1.41/containers/create?name={name}' http://docker/ || true"
    ).strip()
    problems = [] if code == "000" or code.startswith("4") else [f"curl got HTTP {code} for an absolute-form target"]
    problems += [f"the engine now has {m}" for m in _made(name)] + engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)
    scratch.assert_clean()


def test_bare_lf_header_from_inside_the_lab(docker_lab, scratch):
    """The bare-LF smuggle written from the lab shell itself (python3 on /var/run/docker.sock)."""
    name = scratch.name("lab-smuggled")
    body = "0\r\n\r\n" + smuggled(name).decode()
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect('/var/run/docker.sock')\n"
        f"body = {body!r}\n"
        "head = 'GET /v1.41/version HTTP/1.1\\r\\nHost: docker\\r\\nX-Note: a\\nTransfer-Encoding: chunked\\r\\n'\n"
        "head += 'Content-Length: %d\\r\\n\\r\\n' % len(body)\n"
        "s.sendall((head + body).encode())\n"
        "s.settimeout(5)\n"
        "data = b''\n"
        "try:\n"
        "    while True:\n"
        "        d = s.recv(65536)\n"
        "        if not d:\n"
        "            break\n"
        "        data += d\n"
        "except OSError:\n"
        "    pass\n"
        "sys.stdout.write(data[:12].decode('latin-1') or 'CLOSED')\n"
    )
    out = docker_lab.ok(f"python3 - <<'EOF'\n{script}EOF", timeout=30).strip()
    problems = [] if out == "CLOSED" or out.startswith("HTTP/1.1 4") else [f"the gateway answered {out!r}"]
    problems += [f"the engine now has {m}" for m in _made(name)] + engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)
    scratch.assert_clean()
