"""The gateway process: it survives restarts (re-serving the session folders and adopting the port
forwarders), closes a session's socket when its folder goes, and releases its bind mounts."""

import socket
import time

import pytest

from labs.gateway import binds as binds_mod
from labs.gateway import registry

from .conftest import start_docker_lab, stop_docker_lab

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def _answers(path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def test_restart_re_serves_sessions_and_keeps_ports_and_binds(docker_lab, gateway):
    docker_lab.ok(
        "mkdir -p ~/site && echo before > ~/site/index.html && "
        "docker run -d --name web -p 8080:80 -v ~/site:/usr/share/nginx/html nginx"
    )
    assert docker_lab.ok("curl -sf localhost:8080").strip() == "before"
    gateway.stop()
    assert not _answers(docker_lab.socket)
    assert docker_lab.ok("curl -sf localhost:8080").strip() == "before"  # the containers do not care
    gateway.start()
    deadline = time.monotonic() + 5
    while not _answers(docker_lab.socket) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert docker_lab.ok("docker ps --format '{{.Names}} {{.Ports}}'").strip() == "web 0.0.0.0:8080->80/tcp"
    docker_lab.ok("echo after > ~/site/index.html")
    assert docker_lab.ok("curl -sf localhost:8080").strip() == "after"
    # the forwarder was adopted: exactly one listens, and it goes away with the container
    assert docker_lab.ok("pgrep -c -f 'TCP-LISTEN:8080,'").strip() == "1"
    docker_lab.ok("docker rm -f web")
    deadline = time.monotonic() + 5
    while docker_lab.sh("pgrep -f 'TCP-LISTEN:8080,'").exit_code == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert docker_lab.sh("pgrep -f 'TCP-LISTEN:8080,'").exit_code == 1


def test_removed_folder_closes_the_socket_and_releases_binds(gateway, transactional_db):
    lab = start_docker_lab()
    try:
        lab.ok("mkdir -p ~/d && docker run -d --name keep -v ~/d:/d busybox sleep 600")
        binds = binds_mod.SessionBinds(binds_mod.binds_root(lab.folder.parent), lab.folder.name)
        assert len(binds.sources()) == 1
        assert _answers(lab.socket)
        registry.session_unregister(lab.session.id)
        deadline = time.monotonic() + 5
        while binds.sources() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not binds.sources() and not binds.dir.exists()
        assert not lab.socket.exists()
        assert lab.sh("docker ps").exit_code != 0  # the lab has no Docker API any more
    finally:
        stop_docker_lab(lab)
