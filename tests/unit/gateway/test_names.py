import json

import pytest

from labs.gateway import names as n

LAB_NET = "berth-lab-0123456789abcdef0123456789abcdef-net"
SESSION = "01234567-89ab-cdef-0123-456789abcdef"


@pytest.fixture
def names():
    return n.Names(
        prefix="berth-0123456789ab",
        lab_network=LAB_NET,
        session_id=SESSION,
        base_images=["busybox:latest", "busybox:1.35", "nginx:latest", "berth/lab-base:1"],
    )


@pytest.mark.parametrize(
    "ref, familiar, domain",
    [
        ("busybox", "busybox:latest", ""),
        ("busybox:1.35", "busybox:1.35", ""),
        ("docker.io/library/busybox:1.35", "busybox:1.35", ""),
        ("library/nginx", "nginx:latest", ""),
        ("berth/lab-base:1", "berth/lab-base:1", ""),
        ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000"),
        ("registry.example.com/team/app:v2", "registry.example.com/team/app:v2", "registry.example.com"),
    ],
)
def test_parse_image_ref(ref, familiar, domain):
    parsed = n.parse_image_ref(ref)
    assert parsed.familiar == familiar and parsed.domain == domain


@pytest.mark.parametrize("ref", ["", "UPPER/case", "a b", "bad::tag", "x@sha256:zz"])
def test_parse_image_ref_refuses_what_docker_refuses(ref):
    with pytest.raises(n.BadName):
        n.parse_image_ref(ref)


def test_container_network_volume_names_both_ways(names):
    assert names.container_host("web") == "berth-0123456789ab-web"
    assert names.container_student("/berth-0123456789ab-web") == "web"
    assert names.container_student("/berth-ffffffffffff-web") is None  # another session's
    assert names.container_student("/web") is None
    with pytest.raises(n.BadName):
        names.container_host("a")  # Docker needs two characters too
    with pytest.raises(n.BadName):
        names.container_host("../x")
    assert names.network_host("bridge") == names.network_host("default") == LAB_NET
    assert names.network_host("appnet") == "berth-0123456789ab-appnet"
    assert names.network_student(LAB_NET) == "bridge"
    assert names.network_student("berth-0123456789ab-appnet") == "appnet"
    assert names.network_student("berth-ffffffffffff-appnet") is None
    anonymous = "a" * 64
    assert names.volume_host(anonymous) == anonymous and names.volume_student(anonymous) == anonymous
    assert names.volume_host("data") == "berth-0123456789ab-data"


def test_images_own_base_and_others(names):
    assert names.image_host(n.parse_image_ref("myapp")) == "berth-0123456789ab/myapp:latest"
    assert names.image_host(n.parse_image_ref("team/app:2")) == "berth-0123456789ab/team/app:2"
    with pytest.raises(n.BadName):
        names.image_host(n.parse_image_ref("registry.example.com/app"))
    assert names.is_base(n.parse_image_ref("busybox")) and names.is_base(n.parse_image_ref("docker.io/busybox:1.35"))
    assert not names.is_base(n.parse_image_ref("alpine"))
    assert names.image_student("berth-0123456789ab/myapp:latest") == "myapp:latest"
    assert names.image_student("busybox:latest") == "busybox:latest"
    assert names.image_student("berth-ffffffffffff/myapp:latest") is None
    assert names.image_student("postgres:16") is None  # on the host, but not the platform's


def test_image_visibility(names):
    assert names.image_visible({"RepoTags": ["busybox:latest"]})
    assert names.image_visible({"RepoTags": ["berth-0123456789ab/app:latest"]})
    assert not names.image_visible({"RepoTags": ["berth-ffffffffffff/app:latest"]})
    assert not names.image_visible({"RepoTags": ["postgres:16"]})
    # untagged: by the session label, and a tag always wins over a (forged) label
    assert names.image_visible({"RepoTags": [], "Labels": {n.LABEL_SESSION: SESSION}})
    assert not names.image_visible({"RepoTags": ["<none>:<none>"], "Labels": {n.LABEL_SESSION: "other"}})
    assert not names.image_visible({"RepoTags": ["berth-ffffffffffff/app:1"], "Labels": {n.LABEL_SESSION: SESSION}})
    summary = names.image_summary_out(
        {
            "RepoTags": ["busybox:latest", "berth-0123456789ab/mine:latest", "postgres:16"],
            "Labels": {"org.berth.platform-image": "1", "a": "b"},
        }
    )
    assert summary["RepoTags"] == ["busybox:latest", "mine:latest"] and summary["Labels"] == {"a": "b"}
    # the session's dangling images are listed as untagged (docker images --filter dangling=true)
    dangling = names.image_summary_out({"RepoTags": ["<none>:<none>"], "Labels": {n.LABEL_SESSION: SESSION}})
    assert dangling is not None and dangling["RepoTags"] == ["<none>:<none>"]
    assert names.image_summary_out({"RepoTags": ["<none>:<none>"], "Labels": {n.LABEL_SESSION: "other"}}) is None


def test_scrub_messages(names):
    message = (
        'Conflict. The container name "/berth-0123456789ab-web" is already in use; network '
        f"{LAB_NET} ; image berth-0123456789ab/app:1"
    )
    assert names.scrub(message) == 'Conflict. The container name "/web" is already in use; network bridge ; image app:1'


def test_container_summary_out(names):
    ports = {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    item = {
        "Names": ["/berth-0123456789ab-web"],
        "Image": "berth-0123456789ab/app:latest",
        "State": "running",
        "Labels": {n.LABEL_SESSION: SESSION, n.LABEL_PORTS: json.dumps(ports), "mine": "yes"},
        "Ports": [{"PrivatePort": 80, "Type": "tcp"}],
        "HostConfig": {"NetworkMode": LAB_NET},
        "NetworkSettings": {"Networks": {LAB_NET: {"IPAddress": "172.20.0.2"}}},
        "Mounts": [{"Type": "bind", "Source": "/srv/gateway-binds/x/1", "Destination": "/d"}],
    }
    item["Labels"][n.LABEL_BINDS] = json.dumps({"/srv/gateway-binds/x/1": "/home/student/site"})
    out = names.container_summary_out(item)
    assert out["Names"] == ["/web"] and out["Image"] == "app:latest" and out["Labels"] == {"mine": "yes"}
    assert out["Ports"] == [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]
    assert out["HostConfig"]["NetworkMode"] == "default"
    assert list(out["NetworkSettings"]["Networks"]) == ["bridge"]
    assert out["Mounts"][0]["Source"] == "/home/student/site"
    assert names.container_summary_out({**item, "State": "exited"})["Ports"] == [{"PrivatePort": 80, "Type": "tcp"}]


def test_container_inspect_out(names):
    data = {
        "Name": "/berth-0123456789ab-web",
        "Config": {
            "Image": "nginx",
            "Labels": {
                n.LABEL_PORTS: json.dumps({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
                n.LABEL_RESTART: json.dumps({"Name": "always", "MaximumRetryCount": 0}),
            },
        },
        "HostConfig": {
            "PortBindings": {},
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5},
            "CgroupParent": "/berth/x/y",
            "NetworkMode": "berth-0123456789ab-appnet",
        },
        "NetworkSettings": {"Ports": {"80/tcp": None}, "Networks": {"berth-0123456789ab-appnet": {"Aliases": ["web"]}}},
        "Mounts": [],
    }
    out = names.container_inspect_out(data)
    assert out["Name"] == "/web" and out["Config"]["Labels"] == {}
    assert out["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert out["HostConfig"]["RestartPolicy"]["Name"] == "always" and out["HostConfig"]["CgroupParent"] == ""
    assert out["HostConfig"]["NetworkMode"] == "appnet"
    assert out["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    assert list(out["NetworkSettings"]["Networks"]) == ["appnet"]


def test_network_out_hides_the_lab_and_what_was_forced(names):
    data = {
        "Name": "berth-0123456789ab-appnet",
        "Internal": True,
        "Labels": {n.LABEL_SESSION: SESSION, n.LABEL_INTERNAL: "false", "com.docker.compose.network": "default"},
        "Containers": {"1": {"Name": "berth-0123456789ab-web"}, "2": {"Name": "berth-lab-0123"}},
    }
    out = names.network_out(data)
    assert out["Name"] == "appnet" and out["Internal"] is False
    assert out["Labels"] == {"com.docker.compose.network": "default"}
    assert out["Containers"] == {"1": {"Name": "web"}}
    assert names.network_out({"Name": LAB_NET, "Internal": True, "Labels": {}})["Name"] == "bridge"


def test_event_out(names):
    event = {
        "Type": "container",
        "Action": "start",
        "status": "start",
        "id": "abc",
        "from": "berth-0123456789ab/app:1",
        "Actor": {
            "ID": "abc",
            "Attributes": {
                "name": "berth-0123456789ab-web",
                "image": "berth-0123456789ab/app:1",
                n.LABEL_SESSION: SESSION,
            },
        },
    }
    out = names.event_out(event)
    assert out["Actor"]["Attributes"] == {"name": "web", "image": "app:1"} and out["from"] == "app:1"


def test_random_names_are_docker_like():
    name = n.random_name()
    assert n.NAME_RE.match(name) and "_" in name


def test_network_out_hides_the_platforms_isolation_options():
    names = n.Names(prefix="berth-0123456789ab", lab_network="labnet", base_images=[], session_id="s")
    out = names.network_out(
        {
            "Name": "berth-0123456789ab-appnet",
            "Options": {
                "com.docker.network.bridge.inhibit_ipv4": "true",
                "com.docker.network.bridge.name": "bth0123456789ab",
                "com.docker.network.driver.mtu": "1400",
            },
        }
    )
    assert out["Name"] == "appnet" and out["Options"] == {"com.docker.network.driver.mtu": "1400"}
