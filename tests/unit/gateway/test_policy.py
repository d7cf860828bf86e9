import json

import pytest

from labs.gateway import names as n
from labs.gateway import policy as pol

LAB_NET = "berth-lab-abc-net"
SESSION = "01234567-89ab-cdef-0123-456789abcdef"
LIMITS = pol.Limits(
    memory_bytes=1024**3,
    pids_limit=512,
    cpus=1.0,
    cgroup_parent="/berth/berth/abc",
    runtime="",
    labels={n.LABEL_INSTANCE: "berth", n.LABEL_SESSION: SESSION, n.LABEL_USER: "7", n.LABEL_KIND: "student"},
)
NAMES = n.Names(prefix="berth-0123456789ab", lab_network=LAB_NET, session_id=SESSION, base_images=["busybox:latest"])


def create(host=None, **body):
    return {"Image": "busybox", "HostConfig": host or {}, **body}


@pytest.mark.parametrize(
    "host, message",
    [
        ({"Privileged": True}, "privileged containers are not available"),
        ({"CapAdd": ["SYS_ADMIN"]}, "--cap-add SYS_ADMIN is not available"),
        ({"CapAdd": ["CAP_NET_ADMIN"]}, "--cap-add NET_ADMIN is not available"),
        ({"CapAdd": ["ALL"]}, "--cap-add ALL is not available"),
        ({"Binds": ["/:/host"]}, "bind mounts are limited to your lab's home and /tmp"),
        ({"Binds": ["/home/student/../../etc:/x"]}, "no '..'"),
        ({"Binds": ["/home/studentx:/x"]}, "bind mounts are limited"),
        ({"Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]}, "bind mounts are limited"),
        (
            {
                "Mounts": [
                    {"Type": "bind", "Source": "/tmp/x", "Target": "/s", "BindOptions": {"Propagation": "rshared"}}
                ]
            },
            "propagation rshared",
        ),
        ({"Binds": ["/tmp/x:/y:rshared"]}, "volume option rshared"),
        (
            {
                "Mounts": [
                    {"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Options": {"device": "/"}}}}
                ]
            },
            "volume driver options",
        ),
        ({"Mounts": [{"Type": "npipe", "Source": "x", "Target": "/v"}]}, "mounts of type npipe"),
        (
            {"Devices": [{"PathOnHost": "/dev/kmsg", "PathInContainer": "/dev/kmsg"}]},
            "devices are not available in this lab: /dev/kmsg",
        ),
        ({"DeviceRequests": [{"Count": -1}]}, "devices are not available"),
        ({"PidMode": "host"}, "--pid=host is not available"),
        ({"IpcMode": "host"}, "--ipc=host"),
        ({"UTSMode": "host"}, "--uts=host"),
        ({"UsernsMode": "host"}, "--userns=host"),
        ({"CgroupnsMode": "host"}, "--cgroupns=host"),
        ({"NetworkMode": "host"}, "--network host is not available"),
        ({"SecurityOpt": ["seccomp=unconfined"]}, "seccomp=unconfined is not available"),
        ({"SecurityOpt": ["seccomp:unconfined"]}, "seccomp=unconfined is not available"),
        ({"SecurityOpt": ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']}, "custom seccomp profiles"),
        ({"SecurityOpt": ["apparmor=unconfined"]}, "apparmor=unconfined"),
        ({"SecurityOpt": ["label=disable"]}, "label=disable"),
        ({"SecurityOpt": ["systempaths=unconfined"]}, "systempaths=unconfined"),
        ({"Sysctls": {"net.ipv4.ip_forward": "1"}}, "sysctls are not available in this lab: net.ipv4.ip_forward"),
        ({"Runtime": "runsc"}, "--runtime runsc is not available"),
        ({"CgroupParent": "/"}, "--cgroup-parent is set by the lab"),
        ({"OomKillDisable": True}, "--oom-kill-disable is not available"),
        ({"Ulimits": [{"Name": "rtprio", "Soft": 99, "Hard": 99}]}, "--ulimit rtprio is not available"),
        ({"Ulimits": [{"Name": "memlock", "Soft": -1, "Hard": -1}]}, "--ulimit memlock is not available"),
        ({"Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 99999999}]}, "--ulimit nofile=10:99999999"),
        ({"Ulimits": [{"Name": "nofile", "Soft": 20, "Hard": 10}]}, "soft <= hard"),
        ({"CpuRealtimeRuntime": 1000}, "real-time CPU scheduling"),
        ({"MaskedPaths": []}, "masked or read-only system paths"),
        ({"LogConfig": {"Type": "syslog", "Config": {}}}, "log driver syslog"),
        ({"VolumeDriver": "nfs"}, "volume driver nfs"),
        ({"Capabilities": ["CAP_SYS_ADMIN"]}, "full capability list"),
        ({"SomethingNew": True}, "the container option SomethingNew is not available"),
    ],
)
def test_refusals(host, message):
    with pytest.raises(pol.Refused) as exc:
        pol.validate_create(create(host), limits=LIMITS)
    assert message in exc.value.message and exc.value.status == 403


def test_default_caps_and_harmless_options_are_fine():
    refs = pol.validate_create(
        create(
            {
                "CapAdd": ["chown", "CAP_NET_BIND_SERVICE"],
                "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges:false"],
                "Runtime": "runc",
                "Binds": ["/home/student/site:/usr/share/nginx/html:ro", "data:/data", "/tmp/x.txt:/x.txt"],
                "NetworkMode": "container:db",
                "VolumesFrom": ["web:ro"],
            },
            NetworkingConfig={"EndpointsConfig": {"appnet": {}}},
        ),
        limits=LIMITS,
    )
    assert refs.binds == ["/home/student/site", "/tmp/x.txt"]
    assert refs.volumes == {"data"} and refs.containers == {"db", "web"} and refs.networks == {"appnet"}


@pytest.mark.parametrize(
    "spec, parsed",
    [
        ("/data", ("", "/data", [])),
        ("/data:ro", ("", "/data", ["ro"])),
        ("vol:/data", ("vol", "/data", [])),
        ("/home/student/x:/x:ro,nocopy", ("/home/student/x", "/x", ["ro", "nocopy"])),
    ],
)
def test_parse_bind(spec, parsed):
    bind = pol.parse_bind(spec)
    assert (bind.source, bind.target, bind.options) == parsed


def test_check_bind_source():
    assert pol.check_bind_source("/home/student//site/./x/") == "/home/student/site/x"
    assert pol.check_bind_source("/tmp") == "/tmp"
    for bad in ("relative", "/etc", "/home/student/../../etc", "/home/students", "/run/berth/docker.sock"):
        with pytest.raises(pol.Refused):
            pol.check_bind_source(bad)


def test_plan_ports():
    body = create(
        {
            "PortBindings": {
                "80/tcp": [{"HostPort": "8080"}],
                "443/tcp": [{"HostPort": ""}],
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
            }
        }
    )
    planned = pol.plan_ports(body, {}, {("tcp", 32768)})
    assert planned == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
        "443/tcp": [{"HostIp": "", "HostPort": "32769"}],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
    }
    publish_all = pol.plan_ports(
        create({"PublishAllPorts": True}), {"ExposedPorts": {"80/tcp": {}, "6379/tcp": {}}}, set()
    )
    assert publish_all == {
        "6379/tcp": [{"HostIp": "", "HostPort": "32768"}],
        "80/tcp": [{"HostIp": "", "HostPort": "32769"}],
    }


def resolved(**kwargs):
    base = dict(image="busybox:latest", networks={"default": LAB_NET, "bridge": LAB_NET})
    base.update(kwargs)
    return pol.Resolved(**base)


def test_rewrite_forces_the_labs_limits_and_labels():
    body = create(
        {
            "Memory": 8 * 1024**3,
            "PidsLimit": 100000,
            "RestartPolicy": {"Name": "always"},
            "SecurityOpt": ["no-new-privileges=false"],
            "OomScoreAdj": -1000,
            "NanoCpus": 4_000_000_000,
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "10g"}},
        },
        Labels={"mine": "1", "org.berth.session": "someone-else"},
    )
    out, warnings = pol.rewrite_create(
        body,
        names=NAMES,
        limits=LIMITS,
        student_name="web",
        resolved=resolved(image_config={"Labels": {"org.berth.platform-image": "1"}}),
    )
    host = out["HostConfig"]
    assert host["CgroupParent"] == "/berth/berth/abc" and host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == host["MemorySwap"] == 1024**3 and host["PidsLimit"] == 512
    assert host["NanoCpus"] == 1_000_000_000 and host["OomScoreAdj"] == 0
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": pol.MAX_RESTARTS}
    assert host["LogConfig"] == pol.LOG_CONFIG and "Runtime" not in host
    labels = out["Labels"]
    assert labels["mine"] == "1" and labels[n.LABEL_SESSION] == SESSION and labels[n.LABEL_KIND] == "student"
    assert labels["org.berth.platform-image"] == ""  # inherited from the image: neutralised
    assert json.loads(labels[n.LABEL_RESTART]) == {"Name": "always"}
    assert len(warnings) >= 4
    defaults, _ = pol.rewrite_create(create(), names=NAMES, limits=LIMITS, student_name="x1", resolved=resolved())
    assert defaults["HostConfig"]["Memory"] == 1024**3 and defaults["HostConfig"]["PidsLimit"] == 512
    runtime, _ = pol.rewrite_create(
        create(),
        names=NAMES,
        student_name="x1",
        resolved=resolved(),
        limits=pol.Limits(**{**LIMITS.__dict__, "runtime": "runsc"}),
    )
    assert runtime["HostConfig"]["Runtime"] == "runsc"


def test_rewrite_networks_ports_and_names():
    body = create(
        {
            "PortBindings": {"80/tcp": [{"HostPort": "8080"}]},
            "PublishAllPorts": True,
            "NetworkMode": "appnet",
            "Links": ["db:database"],
        },
        NetworkingConfig={"EndpointsConfig": {"appnet": {"Aliases": ["www"]}}},
    )
    ports = {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    out, _ = pol.rewrite_create(
        body,
        names=NAMES,
        limits=LIMITS,
        student_name="web",
        resolved=resolved(
            networks={"appnet": "berth-0123456789ab-appnet"},
            ports=ports,
            containers={"db": ("f" * 64, "/berth-0123456789ab-db")},
        ),
    )
    host = out["HostConfig"]
    assert host["PortBindings"] == {} and host["PublishAllPorts"] is False
    assert json.loads(out["Labels"][n.LABEL_PORTS]) == ports and "80/tcp" in out["ExposedPorts"]
    assert host["NetworkMode"] == "berth-0123456789ab-appnet" and host["Links"] is None
    endpoint = out["NetworkingConfig"]["EndpointsConfig"]["berth-0123456789ab-appnet"]
    assert endpoint["Aliases"] == ["www", "web"] and endpoint["Links"] == ["berth-0123456789ab-db:database"]
    # "default" is the lab's own network, and the name resolves there too
    out, _ = pol.rewrite_create(create(), names=NAMES, limits=LIMITS, student_name="web", resolved=resolved())
    assert out["HostConfig"]["NetworkMode"] == LAB_NET
    assert out["NetworkingConfig"]["EndpointsConfig"][LAB_NET]["Aliases"] == ["web"]
    # namespaces of another container are the session's container's
    out, _ = pol.rewrite_create(
        create({"NetworkMode": "container:db", "PidMode": "container:db", "VolumesFrom": ["db:ro"]}),
        names=NAMES,
        limits=LIMITS,
        student_name="w2",
        resolved=resolved(containers={"db": ("f" * 64, "/berth-0123456789ab-db")}),
    )
    assert out["HostConfig"]["NetworkMode"] == out["HostConfig"]["PidMode"] == "container:" + "f" * 64
    assert out["HostConfig"]["VolumesFrom"] == ["f" * 64 + ":ro"]


def test_rewrite_volumes_and_binds():
    body = create(
        {
            "Binds": ["/home/student/site:/usr/share/nginx/html:ro", "data:/data", "/cache"],
            "Mounts": [{"Type": "volume", "Target": "/anon"}, {"Type": "tmpfs", "Target": "/run"}],
        },
        Volumes={"/declared": {}},
    )
    out, _ = pol.rewrite_create(
        body,
        names=NAMES,
        limits=LIMITS,
        student_name="web",
        resolved=resolved(
            image_config={"Volumes": {"/var/lib/image": {}, "/data": {}}},
            volumes={"data": "berth-0123456789ab-data"},
            binds={"/home/student/site": "/srv/gateway-binds/abc/1f"},
        ),
    )
    host = out["HostConfig"]
    assert host["Binds"] == ["/srv/gateway-binds/abc/1f:/usr/share/nginx/html:ro", "berth-0123456789ab-data:/data"]
    targets = {m["Target"]: m for m in host["Mounts"]}
    assert set(targets) == {"/cache", "/anon", "/run", "/declared", "/var/lib/image"}
    for target in ("/cache", "/anon", "/declared", "/var/lib/image"):
        assert targets[target]["VolumeOptions"]["Labels"][n.LABEL_SESSION] == SESSION  # anonymous, but ours
    assert json.loads(out["Labels"][n.LABEL_BINDS]) == {"/srv/gateway-binds/abc/1f": "/home/student/site"}


def test_update_is_capped_the_same_way():
    body, warnings, restart = pol.rewrite_update(
        {"Memory": 4 * 1024**3, "RestartPolicy": {"Name": "always"}}, limits=LIMITS
    )
    assert body["Memory"] == body["MemorySwap"] == 1024**3
    assert body["RestartPolicy"]["Name"] == "on-failure" and restart == {"Name": "always"}
    for unlimited in (0, -1):  # the engine reads both as "no limit": the lab's limit instead
        body, _, _ = pol.rewrite_update({"PidsLimit": unlimited}, limits=LIMITS)
        assert body["PidsLimit"] == LIMITS.pids_limit
    with pytest.raises(pol.Refused):
        pol.rewrite_update({"Privileged": True}, limits=LIMITS)
    with pytest.raises(pol.Refused, match="rtprio"):
        pol.rewrite_update({"Ulimits": [{"Name": "rtprio", "Soft": 1, "Hard": 1}]}, limits=LIMITS)


def test_create_pids_limit_zero_or_unlimited_is_the_labs():
    for unlimited in (0, -1, None):
        refs = pol.validate_create(create({"PidsLimit": unlimited}), limits=LIMITS)
        assert refs.image == "busybox"
        body, _ = pol.rewrite_create(
            create({"PidsLimit": unlimited}),
            names=NAMES,
            limits=LIMITS,
            resolved=pol.Resolved(image="busybox", networks={"default": "labnet"}),
            student_name="web",
        )
        assert body["HostConfig"]["PidsLimit"] == LIMITS.pids_limit


def test_exec_privileged_is_refused():
    with pytest.raises(pol.Refused, match="privileged exec"):
        pol.validate_exec({"Cmd": ["sh"], "Privileged": True})


def test_networks_are_internal_prefixed_and_plain():
    body, student = pol.rewrite_network_create(
        {"Name": "appnet", "Labels": {"x": "y", "org.berth.session": "z"}}, names=NAMES, limits=LIMITS
    )
    assert student == "appnet" and body["Name"] == "berth-0123456789ab-appnet" and body["Internal"] is True
    assert body["Labels"]["x"] == "y" and body["Labels"][n.LABEL_SESSION] == SESSION
    assert body["Labels"][n.LABEL_INTERNAL] == "false"
    # no address of the host's on the bridge: nothing on the host answers the lab
    assert body["Options"]["com.docker.network.bridge.inhibit_ipv4"] == "true"
    for bad, message in (
        ({"Name": "bridge"}, "pre-defined"),
        ({"Name": "n1", "Driver": "macvlan"}, "macvlan"),
        ({"Name": "n1", "IPAM": {"Config": [{"Subnet": "10.0.0.0/8"}]}}, "custom subnets"),
        ({"Name": "n1", "Options": {"com.docker.network.bridge.name": "eth0"}}, "network option"),
        ({"Name": "n1", "EnableIPv6": True}, "IPv6"),
        ({"Name": "n1", "Scope": "swarm"}, "swarm"),
    ):
        with pytest.raises(pol.Refused, match=message):
            pol.rewrite_network_create(bad, names=NAMES, limits=LIMITS)


def test_volumes_cannot_mount_host_paths():
    body = pol.rewrite_volume_create({"Name": "data", "Labels": {"a": "b"}}, names=NAMES, limits=LIMITS)
    assert body["Name"] == "berth-0123456789ab-data" and body["Labels"][n.LABEL_SESSION] == SESSION
    assert "Name" not in pol.rewrite_volume_create({}, names=NAMES, limits=LIMITS)  # anonymous: engine names it
    with pytest.raises(pol.Refused, match="driver options"):
        pol.rewrite_volume_create(
            {"Name": "x1", "DriverOpts": {"type": "none", "o": "bind", "device": "/etc"}}, names=NAMES, limits=LIMITS
        )
    with pytest.raises(pol.Refused, match="volume driver"):
        pol.rewrite_volume_create({"Name": "x1", "Driver": "sshfs"}, names=NAMES, limits=LIMITS)


def test_image_changes_are_checked_and_rewritten():
    assert pol.checked_changes(['cmd ["sh"]', "ENV A=1", "EXPOSE 80"]) == ['CMD ["sh"]', "ENV A=1", "EXPOSE 80"]
    for bad, message in (
        (["ONBUILD ADD http://127.0.0.1/x /x"], "ONBUILD"),
        (["RUN id"], "not a valid change"),
        (["LABEL org.berth.kind=lab"], "platform"),
        (["CMD a\nRUN b"], "single Dockerfile instruction"),
    ):
        with pytest.raises(pol.Refused, match=message):
            pol.checked_changes(bad)
