"""Category 6: limits a student may try to lift.

Pids: `docker update --pids-limit 0` and `-1` both mean "unlimited" to the engine (moby treats
any value <= 0 on update as unlimited), so the gateway must keep a limit within the lab's.
Ulimits: rtprio and memlock give real-time scheduling and unswappable memory; nofile far above
the lab's is refused. Memory above the lab's is clamped. Disk: the gateway reads
`disk_quota_bytes` from the session's policy.json (reloaded when its mtime changes); past the
quota, new containers, volumes and builds are refused with a message naming the quota, the
container that filled it is stopped, and removing it brings the lab back.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from . import engine_view
from .raw import describe, raw, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024


def host_config(ref: str) -> dict:
    return engine_view.engine().api.inspect_container(ref)["HostConfig"]


@pytest.fixture
def target(docker_lab, scratch):
    """A running container made with the student's docker CLI: (student name, host id)."""
    name = scratch.name("limits")
    docker_lab.ok(f"docker run -d --name {name} busybox sleep 600")
    cid = docker_lab.ok(f"docker inspect -f '{{{{.Id}}}}' {name}").strip()
    return name, cid


def _pids_problems(lab, cid: str, what: str) -> list[str]:
    pids = host_config(cid).get("PidsLimit")
    limit = lab.policy["pids_limit"]
    if not isinstance(pids, int) or not 1 <= pids <= limit:
        return [f"{what}: the engine's PidsLimit is {pids!r}, the lab allows 1..{limit}"]
    return []


@pytest.mark.parametrize("how", ["cli", "api"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_update_pids_limit_keeps_the_labs_limit(docker_lab, scratch, target, value, how):
    """`docker update --pids-limit` from the CLI, and the same update body sent on the socket
    (the CLI leaves 0 out of the body; any API client can send it)."""
    name, cid = target
    if how == "cli":
        docker_lab.sh(f"docker update --pids-limit {value} {name}")  # refused or clamped: both fine
    else:
        resp = raw(
            docker_lab, request("POST", f"/v1.41/containers/{name}/update", json_text=f'{{"PidsLimit": {value}}}')
        )
        assert resp is not None and resp.status < 500, describe(resp)
    problems = _pids_problems(docker_lab, cid, f"update PidsLimit {value} ({how})")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_create_with_pids_limit_zero_is_clamped(docker_lab, scratch):
    name = scratch.name("pids0")
    body = json.dumps({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"PidsLimit": 0}})
    resp = raw(docker_lab, request("POST", f"/v1.41/containers/create?name={name}", json_text=body))
    problems = []
    if resp is None or resp.status >= 500:
        problems.append(f"create with PidsLimit 0: {describe(resp)}")
    elif resp.status == 201:
        problems += _pids_problems(docker_lab, resp.json()["Id"], "create with PidsLimit 0")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


ULIMITS = {
    "rtprio=99": {"Name": "rtprio", "Soft": 99, "Hard": 99},
    "memlock=unlimited": {"Name": "memlock", "Soft": -1, "Hard": -1},
    "nofile=99999999": {"Name": "nofile", "Soft": 99999999, "Hard": 99999999},
}


@pytest.mark.parametrize("ulimit", list(ULIMITS))
def test_dangerous_ulimits_are_refused(docker_lab, scratch, ulimit):
    name = scratch.name("ulimit")
    body = json.dumps({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Ulimits": [ULIMITS[ulimit]]}})
    resp = raw(docker_lab, request("POST", f"/v1.41/containers/create?name={name}", json_text=body))
    problems = [] if resp is not None and resp.status == 403 else [f"--ulimit {ulimit}: {describe(resp)}"]
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_ulimit_from_the_students_docker_cli_is_refused(docker_lab, scratch):
    name = scratch.name("cli-ulimit")
    docker_lab.fails(f"docker create --name {name} --ulimit rtprio=99 busybox true")
    engine_view.assert_clean(docker_lab, scratch.since)


def test_memory_above_the_labs_is_clamped(docker_lab, scratch, target):
    budget = docker_lab.policy["memory_bytes"]
    name = scratch.name("bigmem")
    body = json.dumps({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Memory": budget * 4, "MemorySwap": -1}})
    resp = raw(docker_lab, request("POST", f"/v1.41/containers/create?name={name}", json_text=body))
    problems = []
    if resp is None or resp.status >= 500:
        problems.append(f"create with 4x the lab's memory: {describe(resp)}")
    elif resp.status == 201:
        memory = host_config(resp.json()["Id"]).get("Memory")
        if not 0 < memory <= budget:
            problems.append(f"create: the engine's Memory is {memory}, the lab's is {budget}")
    # and the same through docker update
    tname, cid = target
    docker_lab.sh(f"docker update --memory {budget * 4} --memory-swap -1 {tname}")
    memory = host_config(cid).get("Memory")
    if not 0 < memory <= budget:
        problems.append(f"update: the engine's Memory is {memory}, the lab's is {budget}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


# --- disk quota -------------------------------------------------------------------------------


def write_policy(path, policy: dict | str) -> None:
    """Atomically, as the platform does: a temporary file in the folder, then os.replace."""
    mode = os.stat(path).st_mode & 0o7777
    tmp = path.parent / ".policy.json.sectest.tmp"
    tmp.write_text(policy if isinstance(policy, str) else json.dumps(policy, indent=2))
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _refused_for_quota(lab, command: str) -> tuple[bool, str]:
    result = lab.sh(command, timeout=120)
    text = result.output.decode(errors="replace")
    return result.exit_code not in (0, None) and "quota" in text.lower(), text


@pytest.mark.slow
def test_disk_quota_refuses_new_work_and_stops_the_filler(docker_lab, scratch):
    path = docker_lab.folder / "policy.json"
    original = path.read_text()
    filler = "filler"
    attempts = {
        "docker run": "docker run --rm busybox true",
        "docker volume create": f"docker volume create {scratch.name('quotavol')}",
        "docker build": (
            "mkdir -p ~/quota && printf 'FROM busybox\\nRUN echo x > /x\\n' > ~/quota/Dockerfile && "
            "DOCKER_BUILDKIT=0 docker build -t quota ~/quota"
        ),
    }
    try:
        write_policy(path, {**json.loads(original), "disk_quota_bytes": 64 * MiB})
        docker_lab.ok(
            f"docker run -d --name {filler} busybox sh -c 'dd if=/dev/zero of=/big bs=1M count=100; sleep 600'"
        )
        refused, said = {}, {}
        filler_running = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for what, command in attempts.items():
                if what not in refused:
                    ok, text = _refused_for_quota(docker_lab, command)
                    said[what] = text[-300:]
                    if ok:
                        refused[what] = text
            state = docker_lab.sh(f"docker inspect -f '{{{{.State.Running}}}}' {filler}").output.decode().strip()
            filler_running = state == "true"
            if len(refused) == len(attempts) and not filler_running:
                break
            time.sleep(1)
        problems = [
            f"{what} over the quota was not refused with a quota message: {said.get(what)!r}"
            for what in attempts
            if what not in refused
        ]
        if filler_running:
            problems.append("the container that filled the quota is still running")
        assert not problems, "\n".join(problems)

        docker_lab.ok(f"docker rm -f {filler}")  # removing must stay allowed over the quota
        deadline = time.monotonic() + 30
        while True:
            result = docker_lab.sh("docker run --rm busybox true", timeout=60)
            if result.exit_code == 0:
                break
            assert time.monotonic() < deadline, (
                "30 s after removing the filler, docker run is still refused: " + result.output.decode(errors="replace")
            )
            time.sleep(1)
        scratch.assert_clean()
    finally:
        write_policy(path, original)
        engine_view.cleanup(docker_lab, scratch.since, names=(f"{docker_lab.prefix}-{filler}",))
