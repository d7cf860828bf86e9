"""What a student starts through the gateway stays inside the lab's budget: every container is
under the session's cgroup parent, whose pids and memory limits cap the sum."""

import subprocess
import time

import pytest

from labs.runtime import cgroups

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _host_is_responsive() -> float:
    started = time.monotonic()
    subprocess.run(["true"], check=True, timeout=10)
    return time.monotonic() - started


def test_fork_bomb_stays_inside_the_lab_budget(docker_lab):
    parent = docker_lab.policy["cgroup_parent"]
    limit = docker_lab.policy["pids_limit"]
    # busybox sh refuses `:` as a function name, so the classic bomb is spelled with `f`
    docker_lab.ok("docker run -d --name bomb busybox sh -c 'f(){ f|f& };f; sleep 60'")
    peak, slowest = 0, 0.0
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        peak = max(peak, cgroups.usage(parent)["pids"])
        slowest = max(slowest, _host_is_responsive())
        time.sleep(0.2)
    assert peak <= limit, f"{peak} processes in {parent}, the lab allows {limit}"
    assert peak > limit // 2, f"the bomb did not run ({peak} processes)"
    assert slowest < 1.0, f"the host took {slowest:.2f}s to run a process during the bomb"
    assert docker_lab.backend.client.ping()
    # clean up from the host side (inside the lab, fork() fails while the budget is exhausted)
    client = docker_lab.client()
    try:
        client.containers.get("bomb").remove(force=True)
    finally:
        client.close()
    deadline = time.monotonic() + 20
    while cgroups.usage(parent)["pids"] > 50 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert docker_lab.ok("echo alive").strip() == "alive"


def test_memory_hog_is_killed_inside_the_lab_budget(docker_lab):
    parent = docker_lab.policy["cgroup_parent"]
    budget = docker_lab.policy["memory_bytes"]
    # two hogs, each allowed the whole lab budget on its own: together they still get the lab's
    for name in ("hog1", "hog2"):
        docker_lab.ok(f"docker run -d --name {name} busybox sh -c 'a=x; while :; do a=\"$a$a\"; done'")
    peak = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        usage = cgroups.usage(parent)
        peak = max(peak, usage["memory_bytes"])
        states = docker_lab.ok("docker ps -a --filter name=hog --format '{{.Status}}'")
        if states.count("Exited") == 2:
            break
        time.sleep(0.2)
    assert peak <= budget, f"{peak} bytes used in {parent}, the lab allows {budget}"
    assert docker_lab.ok("docker ps -a --filter name=hog --format '{{.Status}}'").count("Exited (137)") == 2
    assert docker_lab.ok("docker inspect -f '{{.State.OOMKilled}}' hog1 hog2").split() == ["true", "true"]
    assert _host_is_responsive() < 1.0
    docker_lab.ok("docker rm -f hog1 hog2")
