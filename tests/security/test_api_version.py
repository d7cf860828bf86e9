"""Category 3: old API versions and request bodies on endpoints that take none.

Before API 1.24 the engine took a HostConfig in the body of `POST /containers/{id}/start` and
applied it to the container (Privileged, Binds, everything a create is checked for). The engine
still serves every version down to its MinAPIVersion (1.12 here), so the gateway must refuse
versions older than 1.41 with Docker's own message, and refuse a body on start / kill / stop /
pause / restart, on a container the session made the ordinary way.
"""

from __future__ import annotations

import json

import pytest

from . import engine_view
from .raw import describe, raw, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

HOSTILE_HOST_CONFIG = json.dumps({"Privileged": True, "Binds": ["/:/host"], "PidMode": "host"})
TOO_OLD = (
    "client version {v} is too old. Minimum supported API version is 1.41, "
    "please upgrade your client to a newer version"
)


@pytest.fixture
def created(docker_lab, scratch):
    """A container the student created the ordinary way (not started): its student name."""
    name = scratch.name("made")
    client = docker_lab.client()
    try:
        client.containers.create("busybox", "true", name=name)
    finally:
        client.close()
    return name


@pytest.fixture
def running(docker_lab, scratch):
    name = scratch.name("running")
    client = docker_lab.client()
    try:
        client.containers.run("busybox", "sleep 600", name=name, detach=True)
    finally:
        client.close()
    return name


@pytest.mark.parametrize("version", ["1.23", "1.12", "1.24", "1.40"])
def test_old_api_version_start_with_host_config_is_refused(docker_lab, scratch, created, version):
    resp = raw(
        docker_lab,
        request("POST", f"/v{version}/containers/{created}/start", json_text=HOSTILE_HOST_CONFIG),
    )
    problems = []
    if resp is None or resp.status != 400:
        problems.append(f"/v{version} start with a HostConfig body: the gateway answered {describe(resp)}")
    elif resp.message != TOO_OLD.format(v=version):
        problems.append(f"/v{version}: the message is {resp.message!r}, not Docker's {TOO_OLD.format(v=version)!r}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("op", ["start", "kill", "stop", "pause", "restart"])
def test_body_on_a_bodiless_endpoint_is_refused(docker_lab, scratch, created, running, op):
    ref = created if op == "start" else running
    resp = raw(docker_lab, request("POST", f"/v1.41/containers/{ref}/{op}", json_text=HOSTILE_HOST_CONFIG))
    problems = []
    if resp is None or resp.status != 400:
        problems.append(f"{op} with a body: the gateway answered {describe(resp)}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_old_api_version_from_the_students_docker_cli(docker_lab, scratch):
    """DOCKER_API_VERSION=1.23 in the lab: the CLI itself says what the gateway answered."""
    name = scratch.name("cli-old")
    docker_lab.ok(f"docker create --name {name} busybox true")
    out = docker_lab.fails(f"DOCKER_API_VERSION=1.23 docker start {name}")
    assert "is too old" in out, out
    engine_view.assert_clean(docker_lab, scratch.since)


def test_unversioned_harmless_get_still_works(docker_lab, scratch):
    resp = raw(docker_lab, request("GET", "/containers/json"))
    assert resp is not None and resp.status == 200, describe(resp)
    assert isinstance(resp.json(), list)
    resp = raw(docker_lab, request("GET", "/_ping"))
    assert resp is not None and resp.status == 200 and resp.body == b"OK", describe(resp)
    scratch.assert_clean()
