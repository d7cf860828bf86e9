import os
import socket

from labs.gateway import ports


def test_socat_argv():
    assert ports.socat_argv("tcp", 8080, "172.20.0.2", 80) == [
        "socat",
        "TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr",
        "TCP:172.20.0.2:80",
    ]
    assert ports.socat_argv("udp", 5353, "172.20.0.2", 53)[1].startswith("UDP4-RECVFROM:5353,bind=127.0.0.1")


def test_target_address_uses_a_network_the_lab_is_on():
    container = {
        "HostConfig": {"NetworkMode": "p-appnet"},
        "NetworkSettings": {"Networks": {"other": {"IPAddress": "10.9.9.9"}, "p-appnet": {"IPAddress": "172.21.0.3"}}},
    }
    assert ports.target_address(container, {"lab-net", "p-appnet"}) == "172.21.0.3"
    assert ports.target_address(container, {"lab-net"}) is None
    sidecar = {"HostConfig": {"NetworkMode": "container:abc"}, "NetworkSettings": {"Networks": {}}}
    assert ports.target_address(sidecar, {"p-appnet"}, {"abc": container}) == "172.21.0.3"


def test_listening_reads_the_network_namespace_of_a_process():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert not ports.listening(os.getpid(), "tcp", port)
        server.listen()
        assert ports.listening(os.getpid(), "tcp", port)
        assert ports.listening(os.getpid(), "tcp", port, own=True)  # and it is this process's socket
        assert not ports.listening(1, "tcp", port, own=True) or os.getpid() == 1


class FakeSession:
    lab_user = "student"


def test_conflicts_only_with_live_forwarders_of_other_containers():
    fwd = ports.Forwarders(FakeSession())
    me = ports.Forwarder(
        container_id="a" * 64,
        proto="tcp",
        port=8080,
        target="x:80",
        pid=os.getpid(),
        starttime=ports._stat_starttime(os.getpid()),
        exec_id="e",
    )
    fwd.by_port[("tcp", 8080)] = me
    asked = {"80/tcp": [{"HostPort": "8080"}]}
    assert fwd.conflict("b" * 64, asked) == ("tcp", 8080)
    assert fwd.conflict("a" * 64, asked) is None  # its own forwarder (a restart)
    assert fwd.conflict("b" * 64, {"80/tcp": [{"HostPort": "8081"}]}) is None
    fwd.by_port[("tcp", 8080)] = ports.Forwarder(**{**me.__dict__, "starttime": "stale"})
    assert fwd.conflict("b" * 64, asked) is None  # that process is gone (or not ours any more)
    assert fwd.used() == {("tcp", 8080)}
