"""Each hardening default, tried from inside a real lab container as the student would."""

import time

import pytest

from labs import services
from labs.models import LabSession
from labs.runtime import cgroups

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def sandbox(lab_env):
    session = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    session.refresh_from_db()
    assert session.state == LabSession.State.RUNNING, session.error
    backend = lab_env["backend"]

    def run(script: str, timeout: float = 20):
        return backend.exec(session.container_id, ["bash", "-c", script], user="student", timeout=timeout)

    run.session, run.backend = session, backend
    return run


def host_is_responsive(backend) -> float:
    started = time.monotonic()
    backend.ping()
    return time.monotonic() - started


def test_fork_bomb_hits_the_pids_limit(sandbox):
    result = sandbox(
        "ulimit -u unlimited 2>/dev/null; bomb() { bomb | bomb & }; bomb; sleep 5; "
        "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids/pids.current 2>/dev/null",
        timeout=30,
    )
    container = sandbox.backend.client.containers.get(sandbox.session.container_id)
    pids = container.attrs["HostConfig"]["PidsLimit"]
    stats = container.stats(stream=False)
    assert stats["pids_stats"]["current"] <= pids == 128
    assert host_is_responsive(sandbox.backend) < 2
    del result


def test_memory_hog_is_killed_at_the_limit(sandbox):
    # tail keeps a line-less stream in memory: it grows until the cgroup's OOM killer ends it
    result = sandbox("head -c 600m /dev/zero | tail > /dev/null; echo exit=${PIPESTATUS[1]}", timeout=60)
    assert b"exit=137" in result.output, result.output
    assert host_is_responsive(sandbox.backend) < 2
    # the container itself survives (only the hog died)
    assert sandbox("echo still here").output == b"still here\n"


def test_root_filesystem_is_read_only_and_tmp_is_bounded(sandbox):
    result = sandbox("touch /etc/evil 2>&1; touch /usr/bin/evil 2>&1")
    assert result.output.count(b"Read-only file system") == 2
    result = sandbox("dd if=/dev/zero of=/tmp/big bs=1M count=200 2>&1; du -m /tmp/big | cut -f1")
    assert b"No space left on device" in result.output
    assert int(result.output.split()[-1]) <= 64
    result = sandbox("dd if=/dev/zero of=$HOME/big bs=1M count=200 2>&1")
    assert b"No space left on device" in result.output


def test_no_network_but_loopback(sandbox):
    result = sandbox("ls /sys/class/net; curl -sS -m 3 http://1.1.1.1 2>&1; echo rc=$?")
    interfaces = result.output.split(b"\n")[0].split()
    assert interfaces == [b"lo"]
    assert b"rc=0" not in result.output


def test_no_docker_socket_and_no_privilege_escalation(sandbox):
    result = sandbox(
        "test -e /var/run/docker.sock && echo SOCKET; test -e /run/docker.sock && echo SOCKET; "
        "grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status; id -u"
    )
    out = result.output.decode()
    assert "SOCKET" not in out
    assert "CapEff:\t0000000000000000" in out and "CapPrm:\t0000000000000000" in out
    assert "NoNewPrivs:\t1" in out
    assert out.strip().endswith("1000")


def test_mount_unshare_and_raw_sockets_fail(sandbox):
    result = sandbox(
        "mount -t tmpfs none /mnt 2>&1; echo mount=$?; unshare -Ur true 2>&1; echo unshare=$?; "
        "unshare -n true 2>&1; echo unshare_net=$?; "
        "echo x | socat - IP4-SENDTO:127.0.0.1:1 2>&1; echo raw=$?"
    )
    out = result.output.decode()
    for key in ("mount", "unshare", "unshare_net", "raw"):
        assert f"{key}=0" not in out, out
    assert "Operation not permitted" in out or "permission denied" in out.lower()


def test_setuid_binaries_do_not_grant_root(sandbox):
    result = sandbox(
        "find / -xdev -perm -4000 -type f 2>/dev/null | wc -l; "
        "cp /bin/bash /tmp/sh && chmod u+s /tmp/sh && /tmp/sh -p -c 'id -u'; "
        "su -c 'id -u' root </dev/null 2>&1 | tail -1"
    )
    lines = result.output.decode().split("\n")
    assert lines[0] == "0"  # no setuid binaries in the image
    assert lines[1] == "1000"  # a setuid copy made by the student runs as the student
    assert "0" != lines[2].strip()


def test_cgroup_helpers_read_usage(tmp_path):
    # the v1 layout, as on this host
    for controller in ("memory", "pids", "cpu"):
        (tmp_path / controller).mkdir()
    cgroups.ensure_parent("/berth/x/abc", memory_bytes=1 << 30, cpus=1.5, pids=99, root=tmp_path)
    assert (tmp_path / "memory/berth/x/abc/memory.limit_in_bytes").read_text() == str(1 << 30)
    assert (tmp_path / "pids/berth/x/abc/pids.max").read_text() == "99"
    assert (tmp_path / "cpu/berth/x/abc/cpu.cfs_quota_us").read_text() == "150000"
    with pytest.raises(cgroups.CgroupError):
        cgroups.ensure_parent("/berth/../etc", memory_bytes=1, cpus=1, pids=1, root=tmp_path)
