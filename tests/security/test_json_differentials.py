"""Category 2: JSON the gateway and the engine read differently.

The engine decodes request bodies with Go's encoding/json: object keys match struct fields
case-insensitively, a repeated key is decoded again into the same field (for a pointer to a
struct, the second object is MERGED into the first), unknown keys are ignored. A gateway that
checks a Python dict and forwards it can be walked around with `hostconfig` beside `HostConfig`,
`privileged` beside `Privileged`, a `type` after `Type`... Every such body must be refused
(400 or 403), and nothing the engine holds for the session may break the lab's rules.
"""

from __future__ import annotations

import pytest

from . import engine_view
from .raw import describe, raw, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

IMG = '"Image": "busybox", "Cmd": ["true"]'
ETC_OPTS = '{"type": "none", "o": "bind", "device": "/etc"}'

# name -> (method, target with {name} / {target}, body text written verbatim)
CASES = {
    "hostconfig-beside-HostConfig": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{}}, "hostconfig": {{"Privileged": true, "Binds": ["/:/host"]}}}}',
    ),
    "HOSTCONFIG-pid-host": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Memory": 67108864}}, "HOSTCONFIG": {{"PidMode": "host"}}}}',
    ),
    "duplicate-HostConfig-last-privileged": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{}}, "HostConfig": {{"Privileged": true}}}}',
    ),
    "duplicate-HostConfig-first-privileged": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Privileged": true, "Binds": ["/:/host"]}}, "HostConfig": {{}}}}',
    ),
    "HostConfig-privileged-lowercase": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"privileged": true}}}}',
    ),
    "mount-lowercase-bind-of-root": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Mounts": [{{"type": "bind", "source": "/", "target": "/host"}}]}}}}',
    ),
    "mount-volume-driver-options-device-etc": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Mounts": [{{"Type": "volume", "Source": "x", "Target": "/x", '
        f'"VolumeOptions": {{"DriverConfig": {{"Options": {ETC_OPTS}}}}}}}]}}}}',
    ),
    "mount-anonymous-volume-lowercase-driverconfig": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Mounts": [{{"Type": "volume", "Target": "/x", '
        f'"VolumeOptions": {{"driverconfig": {{"Options": {ETC_OPTS}}}}}}}]}}}}',
    ),
    "mount-Type-volume-then-type-bind-and-null-volumeoptions": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Mounts": [{{"Type": "volume", "VolumeOptions": {{}}, "type": "bind", '
        f'"source": "/", "target": "/host", "volumeoptions": null}}]}}}}',
    ),
    "HostConfig-Capadd-SYS_ADMIN": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Capadd": ["SYS_ADMIN"]}}}}',
    ),
    "unknown-top-level-field": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "Privileged": true, "HostConfig": {{}}}}',
    ),
    "NaN-memory": (
        "POST",
        "/v1.41/containers/create?name={name}",
        f'{{{IMG}, "HostConfig": {{"Memory": NaN}}}}',
    ),
    "exec-privileged-lowercase": ("POST", "/v1.41/containers/{target}/exec", '{"Cmd": ["id"], "privileged": true}'),
    "exec-Privileged-false-then-privileged-true": (
        "POST",
        "/v1.41/containers/{target}/exec",
        '{"Cmd": ["id"], "Privileged": false, "privileged": true}',
    ),
    "update-pidslimit-minus-one": ("POST", "/v1.41/containers/{target}/update", '{"pidslimit": -1}'),
    "update-PidsLimit-then-pidsLimit-zero": (
        "POST",
        "/v1.41/containers/{target}/update",
        '{"PidsLimit": 100, "pidsLimit": 0}',
    ),
    "network-internal-false-and-Internal-true": (
        "POST",
        "/v1.41/networks/create",
        '{"Name": "{name}", "internal": false, "Internal": true}',
    ),
    "volume-driveropts-lowercase": (
        "POST",
        "/v1.41/volumes/create",
        '{"Name": "{name}", "driveropts": ' + ETC_OPTS + "}",
    ),
}


@pytest.fixture
def target(docker_lab, scratch):
    """A running container the student made the ordinary way (for exec and update)."""
    name = scratch.name("target")
    client = docker_lab.client()
    try:
        client.containers.run("busybox", "sleep 600", name=name, detach=True)
    finally:
        client.close()
    return name


@pytest.mark.parametrize("case", list(CASES))
def test_differential_json_is_refused(docker_lab, scratch, target, case):
    method, path, body = CASES[case]
    name = scratch.name("json")
    path = path.replace("{name}", name).replace("{target}", target)
    body = body.replace("{name}", name)
    resp = raw(docker_lab, request(method, path, json_text=body))
    problems = []
    if resp is None or resp.status not in (400, 403):
        problems.append(f"{case}: the gateway answered {describe(resp)}")
    made = engine_view.containers_named_like(name)
    if made:
        problems.append(f"{case}: the engine now has {made}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_differential_json_from_the_students_curl(docker_lab, scratch):
    """The same walk-around typed in the lab: curl on /var/run/docker.sock."""
    name = scratch.name("curl-json")
    body = '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {}, "hostconfig": {"Privileged": true}}'
    code = docker_lab.ok(
        "curl -s -o /dev/null -w '%{http_code}' --unix-socket /var/run/docker.sock "
        f"-H 'Content-Type: application/json' -d '{body}' "
        f"'http://docker/v1.41/containers/create?name={name}'"
    ).strip()
    problems = [] if code in ("400", "403") else [f"curl got HTTP {code}"]
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)
