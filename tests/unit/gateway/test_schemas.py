"""labs.gateway.strictjson and labs.gateway.schemas: one reading of a body, rebuilt from the schema.

The engine (Go) matches field names case-insensitively and keeps the last duplicate; the gateway
once checked exact keys, so `"hostconfig": {"Privileged": true}` beside an empty `"HostConfig"` got
through. These tests pin the fix: strict parsing, an explicit schema per endpoint, and a body rebuilt
from the schema with the engine's exact field names.

BODIES are what real clients sent, captured on a unix socket in front of this host's Docker 20.10
(API 1.41): the docker CLI 28.2 (negotiating 1.41), docker-compose 1.29.2 and docker-py 5.0.3.
Host paths and names were renamed to a lab's; everything else is byte for byte.
"""

import functools
import json
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labs.gateway import schemas as sch
from labs.gateway import strictjson
from labs.gateway.policy import Refused

INSPECT = pathlib.Path(__file__).parent / "fixtures" / "inspect"

# name: (schema constant, body as sent)
BODIES = {
    "cli_create_it": (
        "CONTAINER_CREATE",
        b'{"Hostname":"","Domainname":"","User":"","AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"ExposedPorts":{"80/tcp":{}},"Tty":true,"OpenStdin":true,"StdinOnce":true,"Env":null,"Cmd":null,"Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"org.berth.test":"schemas"},"HostConfig":{"Binds":["vol:/data","/home/student/x:/x"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"appnet","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},"RestartPolicy":{"Name":"always","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[{"Name":"nofile","Hard":2048,"Soft":1024}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{}}}\n',
    ),
    "cli_create_rm": (
        "CONTAINER_CREATE",
        b'{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["true"],"Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"org.berth.test":"schemas"},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":true,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}\n',
    ),
    "cli_create_mounts": (
        "CONTAINER_CREATE",
        b'{"Hostname":"h","Domainname":"","User":"1000","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"ExposedPorts":{"9000/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],"Cmd":["-c","true"],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":5000000000},"Image":"busybox","Volumes":{},"WorkingDir":"/w","Entrypoint":["sh"],"OnBuild":null,"Labels":{"org.berth.test":"schemas"},"StopSignal":"SIGTERM","StopTimeout":5,"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}},"NetworkMode":"appnet","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":["CAP_CHOWN"],"CapDrop":["ALL"],"CgroupnsMode":"","Dns":["8.8.8.8"],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":["a:1.2.3.4"],"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":true,"SecurityOpt":["no-new-privileges"],"Tmpfs":{"/run":"size=1m"},"UTSMode":"","UsernsMode":"","ShmSize":1048576,"Isolation":"","CpuShares":0,"Memory":67108864,"NanoCpus":500000000,"CgroupParent":"","BlkioWeight":100,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[{"Path":"/dev/null","Rate":1048576}],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":50,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"Mounts":[{"Type":"volume","Source":"vol","Target":"/m","VolumeOptions":{"NoCopy":true,"DriverConfig":{}}},{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576}},{"Type":"bind","Source":"/home/student/x","Target":"/b","ReadOnly":true,"BindOptions":{"Propagation":"rprivate"}}],"MaskedPaths":null,"ReadonlyPaths":null,"Init":true},"NetworkingConfig":{"EndpointsConfig":{"appnet":{"IPAMConfig":null,"Links":null,"Aliases":["web"],"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}\n',
    ),
    "cli_exec_it": (
        "EXEC_CREATE",
        b'{"User":"","Privileged":false,"Tty":true,"AttachStdin":true,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["sh"]}\n',
    ),
    "cli_exec_detach": (
        "EXEC_CREATE",
        b'{"User":"root","Privileged":false,"Tty":false,"AttachStdin":false,"AttachStderr":false,"AttachStdout":false,"Detach":true,"DetachKeys":"","Env":["X=1"],"WorkingDir":"/","Cmd":["true"]}\n',
    ),
    "cli_exec_privileged": (
        "EXEC_CREATE",
        b'{"User":"","Privileged":true,"Tty":false,"AttachStdin":false,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["true"]}\n',
    ),
    "cli_update": (
        "UPDATE",
        b'{"CpuShares":0,"Memory":33554432,"NanoCpus":1000000000,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":null,"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":67108864,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}\n',
    ),
    "cli_network_create": (
        "NETWORK_CREATE",
        b'{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":true,"Attachable":true,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{"com.docker.network.driver.mtu":"1400"},"Labels":{"org.berth.test":"schemas"},"Name":"backend","CheckDuplicate":true}\n',
    ),
    "cli_network_connect": (
        "NETWORK_CONNECT",
        b'{"Container":"one","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.0.0.5"},"Links":null,"Aliases":["foo"],"MacAddress":"","DriverOpts":{},"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}\n',
    ),
    "cli_network_disconnect": ("NETWORK_DISCONNECT", b'{"Container":"one","Force":true}\n'),
    "cli_volume_create": ("VOLUME_CREATE", b'{"Driver":"local","Labels":{"org.berth.test":"schemas"},"Name":"vol"}\n'),
    "compose_network_create": (
        "NETWORK_CREATE",
        b'{"Name": "proj_other", "Options": {"com.docker.network.driver.mtu": "1400"}, "CheckDuplicate": true, "Labels": {"org.berth.test": "schemas", "com.docker.compose.project": "proj", "com.docker.compose.network": "other", "com.docker.compose.version": "1.29.2"}, "Internal": true, "Attachable": true}',
    ),
    "compose_volume_create": (
        "VOLUME_CREATE",
        b'{"Name": "proj_data", "Labels": {"org.berth.test": "schemas", "com.docker.compose.project": "proj", "com.docker.compose.volume": "data", "com.docker.compose.version": "1.29.2"}}',
    ),
    "compose_create_web": (
        "CONTAINER_CREATE",
        b'{"ExposedPorts": {"80/tcp": {}, "443/tcp": {}}, "Tty": false, "OpenStdin": false, "StdinOnce": false, "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Env": ["A=1"], "Cmd": ["nginx", "-g", "daemon off;"], "Image": "nginx:1.22", "Volumes": {"/usr/share/nginx/html": {}, "/data": {}}, "NetworkDisabled": false, "HostConfig": {"Memory": 67108864, "NetworkMode": "proj_appnet", "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}, "VolumesFrom": [], "Binds": ["/home/student/proj/site:/usr/share/nginx/html:ro", "proj_data:/data:rw"], "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8443"}]}, "Links": [], "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}], "LogConfig": {"Type": "", "Config": {}}, "Init": true, "Mounts": [{"Target": "/anon", "Source": null, "Type": "volume", "ReadOnly": null}, {"Target": "/cache", "Source": null, "Type": "tmpfs", "ReadOnly": null, "TmpfsOptions": {"SizeBytes": 1000000}}]}, "NetworkingConfig": {"EndpointsConfig": {"proj_appnet": {"Aliases": ["web", "www"], "IPAMConfig": {}}}}, "Labels": {"org.berth.test": "schemas", "com.docker.compose.project": "proj", "com.docker.compose.service": "web", "com.docker.compose.oneoff": "False", "com.docker.compose.project.working_dir": "/home/student/proj", "com.docker.compose.project.config_files": "docker-compose.yml", "com.docker.compose.container-number": "1", "com.docker.compose.version": "1.29.2", "com.docker.compose.config-hash": "163a0df21d8b5e33b1c24d253ee54f756dedadf00d4eda81b82eeb359786095b"}, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 5000000000, "Timeout": null, "Retries": 3, "StartPeriod": null}, "StopTimeout": 5}',
    ),
    "compose_create_db": (
        "CONTAINER_CREATE",
        b'{"User": "999", "Tty": false, "OpenStdin": false, "StdinOnce": false, "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Image": "redis:7.0", "Volumes": {}, "NetworkDisabled": false, "Entrypoint": ["redis-server"], "WorkingDir": "/data", "HostConfig": {"NetworkMode": "proj_appnet", "CapDrop": ["ALL"], "VolumesFrom": [], "Binds": [], "PortBindings": {}, "Links": [], "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}, "Tmpfs": {"/run": ""}}, "NetworkingConfig": {"EndpointsConfig": {"proj_appnet": {"Aliases": ["db"], "IPAMConfig": {}}}}, "Labels": {"org.berth.test": "schemas", "com.docker.compose.project": "proj", "com.docker.compose.service": "db", "com.docker.compose.oneoff": "False", "com.docker.compose.project.working_dir": "/home/student/proj", "com.docker.compose.project.config_files": "docker-compose.yml", "com.docker.compose.container-number": "1", "com.docker.compose.version": "1.29.2", "com.docker.compose.config-hash": "6300e03b5a271c8cdb5e936f14a721747798ae8c7bf25e61c81389c3b3d6b93f"}}',
    ),
    "compose_create_two": (
        "CONTAINER_CREATE",
        b'{"Hostname": "two", "Domainname": "example", "ExposedPorts": {"9000/tcp": {}}, "Tty": true, "OpenStdin": true, "StdinOnce": false, "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Image": "busybox:1.35", "Volumes": {}, "NetworkDisabled": false, "HostConfig": {"MemorySwappiness": 10, "ShmSize": 1048576, "OomScoreAdj": 100, "ReadonlyRootfs": true, "NetworkMode": "proj_appnet", "GroupAdd": ["audio"], "Dns": ["8.8.8.8"], "SecurityOpt": ["no-new-privileges"], "Sysctls": {"net.core.somaxconn": "1024"}, "VolumesFrom": [], "Binds": [], "PortBindings": {}, "ExtraHosts": ["h:1.2.3.4"], "Links": [], "LogConfig": {"Type": "", "Config": {}}, "PidsLimit": 40, "NanoCpus": 500000000}, "NetworkingConfig": {"EndpointsConfig": {"proj_appnet": {"Aliases": ["two", "a2"], "IPAMConfig": {}}}}, "MacAddress": "02:42:ac:11:00:02", "Labels": {"org.berth.test": "schemas", "com.docker.compose.project": "proj", "com.docker.compose.service": "two", "com.docker.compose.oneoff": "False", "com.docker.compose.project.working_dir": "/home/student/proj", "com.docker.compose.project.config_files": "docker-compose.yml.2", "com.docker.compose.container-number": "1", "com.docker.compose.version": "1.29.2", "com.docker.compose.config-hash": "6d7ae9e5ae941069b3a074f578ef313e162e3e8e4ee21346a4d50d574a7223fe"}, "StopSignal": "SIGINT"}',
    ),
    "dockerpy_exec_create": (
        "EXEC_CREATE",
        b'{"Container": "proj_db_1", "User": "x", "Privileged": false, "Tty": true, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "Cmd": ["true"], "Env": ["A=1"], "WorkingDir": "/"}',
    ),
    "dockerpy_exec_start": ("EXEC_START", b'{"Tty": false, "Detach": true}'),
    "dockerpy_update": (
        "UPDATE",
        b'{"CpuQuota": 50000, "Memory": 33554432, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}',
    ),
    "dockerpy_network_connect": (
        "NETWORK_CONNECT",
        b'{"Container": "proj_two_1", "EndpointConfig": {"Aliases": ["two", "x"], "Links": ["a:b"]}}',
    ),
    "dockerpy_network_disconnect": ("NETWORK_DISCONNECT", b'{"Container": "proj_two_1"}'),
    "dockerpy_commit": ("CONTAINER_CONFIG", b'{"Env": ["A=1"]}'),
    "cli_commit": ("CONTAINER_CONFIG", b""),
}

# What a rebuild leaves out of those bodies: empty fields newer than API 1.41 (the 28.x CLI's
# GwPriority/DNSNames), nulls Go ignores (compose's Source/ReadOnly/Timeout), docker-py's exec "Container".
DROPPED = {
    "cli_create_rm": [
        ("NetworkingConfig", "EndpointsConfig", "default", "GwPriority"),
        ("NetworkingConfig", "EndpointsConfig", "default", "DNSNames"),
    ],
    "cli_create_mounts": [
        ("NetworkingConfig", "EndpointsConfig", "appnet", "GwPriority"),
        ("NetworkingConfig", "EndpointsConfig", "appnet", "DNSNames"),
    ],
    "cli_network_connect": [("EndpointConfig", "GwPriority"), ("EndpointConfig", "DNSNames")],
    "compose_create_web": [
        ("Healthcheck", "Timeout"),
        ("Healthcheck", "StartPeriod"),
        ("HostConfig", "Mounts", 0, "Source"),
        ("HostConfig", "Mounts", 0, "ReadOnly"),
        ("HostConfig", "Mounts", 1, "Source"),
        ("HostConfig", "Mounts", 1, "ReadOnly"),
    ],
    "dockerpy_exec_create": [("Container",)],
}


def parse(data: bytes, node=sch.CONTAINER_CREATE, where: str = "container"):
    return sch.parse_body(data, node, where=where)


def refused(data: bytes, node=sch.CONTAINER_CREATE, where: str = "container") -> Refused:
    with pytest.raises(Refused) as caught:
        parse(data, node, where)
    return caught.value


def body(doc) -> bytes:
    return json.dumps(doc).encode()


# --- real clients ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BODIES))
def test_real_client_bodies_rebuild_to_the_same_body(name):
    schema, data = BODIES[name]
    node = getattr(sch, schema)
    expected = json.loads(data) if data.strip() else {}
    for path in DROPPED.get(name, ()):
        parent = expected
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
    out = parse(data, node, "body")
    assert out == expected
    assert parse(strictjson.dumps(out), node, "body") == out  # a rebuilt body rebuilds to itself


def test_docker_run_it_publish_volumes_network_restart_ulimit():
    # docker create -it -p 8080:80 -v vol:/data -v /home/student/x:/x --network appnet --restart always
    #   --ulimit nofile=1024:2048 busybox   (`docker run` sends the same create; --rm is cli_create_rm)
    out = parse(BODIES["cli_create_it"][1])
    host = out["HostConfig"]
    assert host["Binds"] == ["vol:/data", "/home/student/x:/x"]
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert host["NetworkMode"] == "appnet"
    assert host["RestartPolicy"] == {"Name": "always", "MaximumRetryCount": 0}
    assert host["Ulimits"] == [{"Name": "nofile", "Hard": 2048, "Soft": 1024}]
    assert host["MemorySwappiness"] == -1 and host["PidsLimit"] == 0
    assert out["Tty"] is True and out["OpenStdin"] is True and out["ExposedPorts"] == {"80/tcp": {}}
    assert parse(BODIES["cli_create_rm"][1])["HostConfig"]["AutoRemove"] is True


def test_output_keys_follow_the_schema_order():
    out = parse(b'{"HostConfig": {"Memory": 1, "Binds": []}, "Image": "busybox", "Cmd": ["true"]}')
    assert list(out) == ["Cmd", "Image", "HostConfig"]
    assert list(out["HostConfig"]) == ["Binds", "Memory"]


def test_rebuild_returns_new_values():
    value = {"Env": ["A=1"], "HostConfig": {"Binds": ["/home/student/x:/x"]}, "Labels": {"a": "b"}}
    out = sch.rebuild(sch.CONTAINER_CREATE, value, where="container")
    assert out == value
    out["Env"].append("B=2")
    out["HostConfig"]["Binds"][0] = "/:/host"
    out["Labels"]["c"] = "d"
    assert value == {"Env": ["A=1"], "HostConfig": {"Binds": ["/home/student/x:/x"]}, "Labels": {"a": "b"}}


@pytest.mark.parametrize("path", sorted(INSPECT.glob("container-*.json")), ids=lambda p: p.stem)
def test_the_engines_own_host_config_and_config_rebuild_to_themselves(path):
    doc = json.loads(path.read_text())
    assert sch.rebuild(sch.HOST_CONFIG, doc["HostConfig"], where="HostConfig") == doc["HostConfig"]
    assert sch.rebuild(sch.CONTAINER_CONFIG, doc["Config"], where="Config") == doc["Config"]


def test_host_config_fields_are_the_engines():
    # Inspect shows every HostConfig field of this engine (Docker 20.10) except the `omitempty` ones.
    seen = set()
    for path in INSPECT.glob("container-*.json"):
        seen |= set(json.loads(path.read_text())["HostConfig"])
    fields = set(sch.HOST_CONFIG.fields)
    assert seen <= fields
    assert fields - seen <= {"StorageOpt", "Tmpfs", "Sysctls", "Mounts", "Init"}
    assert "Capabilities" not in fields and "Annotations" not in fields  # not fields of API 1.41
    assert set(sch.UPDATE.fields) == set(sch.RESOURCES.fields) | {"RestartPolicy"}
    assert set(sch.RESOURCES.fields) < fields


# --- the attack, and its relatives ------------------------------------------------------------------------


def test_lowercase_hostconfig_beside_an_empty_hostconfig_is_refused():
    exc = refused(b'{"Image":"busybox","HostConfig":{},"hostconfig":{"Privileged":true,"Binds":["/:/host"]}}')
    assert exc.status == 400
    assert '"HostConfig"' in exc.message and '"hostconfig"' in exc.message


def test_lowercase_hostconfig_alone_is_refused_by_name():
    exc = refused(b'{"Image":"busybox","hostconfig":{"Privileged":true}}')
    assert exc.status == 400
    assert exc.message == (
        'field "hostconfig" in container: the lab\'s Docker API takes field names as the Engine API spells them '
        '("HostConfig")'
    )


def test_case_variants_are_refused_by_rebuild_alone():
    # Without strictjson in front (a dict can hold both spellings): the schema still refuses.
    for value in (
        {"HostConfig": {}, "hostconfig": {"Privileged": True}},
        {"HostConfig": {"privileged": True}},
        {"HostConfig": {"Mounts": [{"type": "bind", "Source": "/", "Target": "/host"}]}},
    ):
        with pytest.raises(Refused) as caught:
            sch.rebuild(sch.CONTAINER_CREATE, value, where="container")
        assert caught.value.status == 400


@pytest.mark.parametrize(
    "data",
    [
        b'{"Image":"busybox","Image":"alpine"}',
        b'{"Image":"busybox","image":"alpine"}',
        b'{"Image":"busybox","IMAGE":"alpine"}',
        b'{"HostConfig":{"Privileged":false,"Privileged":true}}',
        b'{"HostConfig":{"Privileged":false,"privileged":true}}',
        b'{"HostConfig":{"Binds":[],"BINDS":["/:/host"]}}',
        b'{"HostConfig":{"Mounts":[{"Type":"volume","Source":"v","Target":"/x","Type":"bind"}]}}',
        b'{"HostConfig":{"Mounts":[{"Type":"volume","Source":"v","Target":"/x","type":"bind","source":"/"}]}}',
        b'{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp/x","Target":"/x","BindOptions":{},"bindOptions":{}}]}}',
        '{"HostConfig":{"SecurityOpt":[],"\u017fecurityOpt":["seccomp=unconfined"]}}'.encode(),  # Go: ſ folds to s
        '{"HostConfig":{"KernelMemory":0,"\u212aernelMemory":1}}'.encode(),  # Go: the Kelvin sign folds to k
        b'{"Labels":{"a":"1","a":"2"}}',
        b'{"Labels":{"a":"1","A":"2"}}',  # maps too: the parser cannot tell a map from a struct
    ],
)
def test_duplicate_keys_are_refused_exact_and_case_folded(data):
    exc = refused(data)
    assert exc.status == 400
    assert exc.message.startswith("invalid JSON: ")


def test_lowercase_fields_in_a_mount_are_refused():
    exc = refused(b'{"Image":"busybox","HostConfig":{"Mounts":[{"type":"bind","source":"/","target":"/host"}]}}')
    assert exc.status == 400
    assert exc.message.startswith('field "type" in container.HostConfig.Mounts[0]:')
    assert exc.message.endswith('("Type")')


@pytest.mark.parametrize("key", ["privileged", "PRIVILEGED", "pRivileged"])
def test_lowercase_privileged_in_exec_create_is_refused(key):
    exc = refused(body({"Cmd": ["sh"], key: True}), sch.EXEC_CREATE, "exec")
    assert exc.status == 400
    assert exc.message == (
        f'field "{key}" in exec: the lab\'s Docker API takes field names as the Engine API spells them ("Privileged")'
    )


def test_case_variants_are_refused_even_when_empty():
    assert refused(b'{"Image":"busybox","hostconfig":{}}').status == 400
    assert refused(b'{"Cmd":["sh"],"privileged":false}', sch.EXEC_CREATE, "exec").status == 400


def test_exec_privileged_is_kept_for_the_policy():
    # The schema does not decide policy: `Privileged` is a field, kept with its exact name.
    out = parse(b'{"Cmd":["sh"],"Privileged":true}', sch.EXEC_CREATE, "exec")
    assert out == {"Privileged": True, "Cmd": ["sh"]}


# --- unknown fields -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, option",
    [
        (b'{"HostConfig":{"Capabilities":["CAP_SYS_ADMIN"]}}', "container.HostConfig.Capabilities"),
        (b'{"HostConfig":{"Annotations":{"a":"b"}}}', "container.HostConfig.Annotations"),
        (b'{"Runtime":"runc"}', "container.Runtime"),
        (
            b'{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp/x","Target":"/x",'
            b'"BindOptions":{"CreateMountpoint":true}}]}}',
            "container.HostConfig.Mounts[0].BindOptions.CreateMountpoint",
        ),
        (
            b'{"NetworkingConfig":{"EndpointsConfig":{"appnet":{"GwPriority":1}}}}',
            'container.NetworkingConfig.EndpointsConfig["appnet"].GwPriority',
        ),
        (b'{"HostConfig":{"CPURealtimeRuntime":950000}}', None),  # docker-py's spelling: a case variant, 400
    ],
)
def test_unknown_fields_with_a_value_are_refused(data, option):
    exc = refused(data)
    if option is None:
        assert exc.status == 400 and '("CpuRealtimeRuntime")' in exc.message
    else:
        assert exc.status == 403
        assert exc.message == f"the option {option} is not available in this lab"


@pytest.mark.parametrize("value", [None, "", 0, 0.0, False, [], {}])
def test_unknown_fields_without_a_value_are_dropped(value):
    doc = {"Image": "busybox", "Platform": value, "HostConfig": {"Annotations": value, "Memory": 0}}
    assert parse(body(doc)) == {"Image": "busybox", "HostConfig": {"Memory": 0}}


@pytest.mark.parametrize("value", [1, -1, 0.5, "x", " ", True, [0], [[]], [None], {"a": None}, {"a": {}}])
def test_unknown_fields_with_anything_else_are_refused(value):
    assert refused(body({"Image": "busybox", "Platform": value})).status == 403


def test_docker_py_exec_container_field_is_checked_and_dropped():
    assert parse(b'{"Container":"web","Cmd":["true"]}', sch.EXEC_CREATE, "exec") == {"Cmd": ["true"]}
    assert refused(b'{"Container":1,"Cmd":["true"]}', sch.EXEC_CREATE, "exec").status == 400


# --- types --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"HostConfig": {"Memory": "1g"}}, "container.HostConfig.Memory must be an integer (int64), not a string"),
        ({"HostConfig": {"Memory": True}}, "container.HostConfig.Memory must be an integer (int64), not a boolean"),
        ({"HostConfig": {"Memory": 1.0}}, "container.HostConfig.Memory must be an integer (int64), not a number"),
        ({"HostConfig": {"Memory": 2**63}}, "container.HostConfig.Memory must be an integer from"),
        ({"HostConfig": {"BlkioWeight": 65536}}, "container.HostConfig.BlkioWeight must be an integer from 0 to 65535"),
        ({"HostConfig": {"IOMaximumIOps": -1}}, "container.HostConfig.IOMaximumIOps must be an integer from 0 to"),
        ({"HostConfig": {"Privileged": "true"}}, "container.HostConfig.Privileged must be true or false, not a string"),
        ({"HostConfig": {"Privileged": 1}}, "container.HostConfig.Privileged must be true or false, not a number"),
        ({"HostConfig": []}, "container.HostConfig must be an object, not an empty list"),
        ({"HostConfig": {"Binds": "/:/host"}}, "container.HostConfig.Binds must be a list of strings, not a string"),
        ({"HostConfig": {"Binds": [None]}}, "container.HostConfig.Binds[0] must be a string, not null"),
        ({"HostConfig": {"Mounts": [None]}}, "container.HostConfig.Mounts[0] must be an object, not null"),
        ({"HostConfig": {"Mounts": [{"Type": 1}]}}, "container.HostConfig.Mounts[0].Type must be a string"),
        ({"HostConfig": {"ConsoleSize": [24]}}, "container.HostConfig.ConsoleSize must be a list of 2 items"),
        ({"HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": "1"}]}}, "container.HostConfig.Ulimits[0].Soft must"),
        ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 8080}]}}}, '["80/tcp"][0].HostPort must be a string'),
        ({"Env": ["A=1", 2]}, "container.Env[1] must be a string, not a number"),
        ({"Labels": {"a": 1}}, 'container.Labels["a"] must be a string, not a number'),
        ({"Labels": {"a": None}}, 'container.Labels["a"] must be a string, not null'),
        ({"Cmd": {"a": "b"}}, "container.Cmd must be a string or a list of strings, not an object"),
        ({"ExposedPorts": {"80/tcp": {"HostPort": "1"}}}, 'container.ExposedPorts["80/tcp"] must be an empty object'),
        ({"NetworkingConfig": {"EndpointsConfig": {"appnet": None}}}, '["appnet"] must be an object, not null'),
    ],
)
def test_wrong_types_are_refused_naming_the_field(doc, message):
    exc = refused(body(doc))
    assert exc.status == 400
    assert message in exc.message


def test_the_body_must_be_an_object():
    assert refused(b"[]").message == "container must be an object, not an empty list"
    assert refused(b'"x"').status == 400


def test_null_follows_go():
    # Slices, maps and pointers keep null; a null value type is what Go makes of it: nothing.
    doc = {"Image": None, "Env": None, "Healthcheck": None, "HostConfig": {"PidsLimit": None, "Memory": None}}
    assert parse(body(doc)) == {"Env": None, "Healthcheck": None, "HostConfig": {"PidsLimit": None}}
    assert parse(b'{"HostConfig":{"RestartPolicy":null,"ConsoleSize":null,"Init":null}}') == {
        "HostConfig": {"Init": None}
    }


def test_strslice_fields_take_a_string_as_a_list_of_one():
    out = parse(b'{"Cmd":"echo hi","Entrypoint":["sh","-c"],"Shell":null,"HostConfig":{"CapAdd":"NET_RAW"}}')
    assert out == {"Cmd": ["echo hi"], "Entrypoint": ["sh", "-c"], "Shell": None, "HostConfig": {"CapAdd": ["NET_RAW"]}}


@pytest.mark.parametrize("data", [b"", b"  \r\n", b"null", b"{}"])
def test_an_empty_body_is_an_empty_object(data):
    assert parse(data, sch.CONTAINER_CONFIG, "commit") == {}
    assert parse(data, sch.EXEC_START, "exec") == {}


# --- strict JSON --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b'{"Memory":NaN}', b'{"Memory":Infinity}', b'{"Memory":-Infinity}', b'{"Memory":1e400}', b'{"Memory":-1e999}'],
)
def test_non_finite_numbers_are_refused(data):
    exc = refused(b'{"HostConfig":' + data + b"}")
    assert exc.status == 400 and exc.message.startswith("invalid JSON: ")


def test_nesting_is_limited():
    ok = b"[" * 64 + b"]" * 64
    assert strictjson.loads(ok) is not None
    for data in (b"[" * 65 + b"]" * 65, b'{"a":' * 65 + b"1" + b"}" * 65, b"[" * 100_000, b"[[]," * 70 + b"]" * 70):
        with pytest.raises(Refused) as caught:
            strictjson.loads(data)
        assert caught.value.status == 400 and "nested deeper than 64 levels" in caught.value.message
    assert strictjson.loads(b"[[]]", max_depth=2) == [[]]
    with pytest.raises(Refused):
        strictjson.loads(b"[[]]", max_depth=1)
    # Brackets inside strings are text.
    assert strictjson.loads(b'{"a":"' + b"[" * 100 + b'\\"{"}') == {"a": "[" * 100 + '"{'}
    # A deep body is refused before the schema looks at it.
    assert "nested deeper" in refused(b'{"Labels":' + b'{"a":' * 70 + b'"x"' + b"}" * 71).message


@pytest.mark.parametrize(
    "data",
    [
        b'{"Image":"caf\xe9"}',  # latin-1
        '{"Image":"x"}'.encode("utf-16"),
        b'{"Image":"\xed\xa0\x80"}',  # an encoded surrogate
        b'{"Image":"\xc0\xaf"}',  # an overlong '/'
        b"\xef\xbb\xbf{}",  # a BOM: Go refuses it too
    ],
)
def test_non_utf8_bodies_are_refused(data):
    exc = refused(data)
    assert exc.status == 400 and exc.message.startswith("invalid JSON: ")


def test_lone_surrogate_escapes_are_refused():
    for data in (b'{"Image":"\\ud800"}', b'{"Image":"x\\uDFFFy"}', b'{"Labels":{"\\udbff":"x"}}'):
        assert "surrogate" in refused(data).message
    assert parse(b'{"Image":"\\ud83d\\ude00"}') == {"Image": "\U0001f600"}
    assert parse(b'{"Image":"\\\\ud800"}') == {"Image": "\\ud800"}  # an escaped backslash, then text


def test_invalid_json_reads_like_dockers():
    for data in (b"{", b'{"Image":}', b'{"Image":"x"} {"HostConfig":{}}', b"{'Image':'x'}", b'{"a":"\x01"}'):
        exc = refused(data)
        assert exc.status == 400 and exc.message.startswith("invalid JSON: ")


def test_bodies_over_the_limit_are_refused():
    with pytest.raises(Refused) as caught:
        strictjson.loads(b'{"Image":"' + b"x" * 100 + b'"}', limit=64)
    assert caught.value.status == 400
    assert strictjson.loads(b"{}", limit=2) == {}


def test_loads_takes_bytes():
    with pytest.raises(TypeError):
        strictjson.loads('{"Image":"x"}')


def test_dumps_is_canonical():
    assert strictjson.dumps({"Image": "caf\u00e9", "Cmd": ["a", "b"], "HostConfig": None}) == (
        b'{"Image":"caf\\u00e9","Cmd":["a","b"],"HostConfig":null}'
    )
    with pytest.raises(ValueError):
        strictjson.dumps({"Memory": float("nan")})


def test_schema_field_names_are_distinct_under_case_folding():
    with pytest.raises(ValueError):
        sch.Obj({"Image": sch.Str(), "image": sch.Str()})


# --- property: whatever is sent, the engine reads what the gateway rebuilt ------------------------------------


class Pairs(list):
    """A JSON object as written on the wire: (key, value) pairs, duplicates and all."""


def encode(raw) -> str:
    if isinstance(raw, Pairs):
        return "{" + ",".join(f"{json.dumps(key)}:{encode(value)}" for key, value in raw) + "}"
    if isinstance(raw, list):
        return "[" + ",".join(encode(value) for value in raw) + "]"
    return json.dumps(raw)


def to_pairs(value):
    if isinstance(value, dict):
        return Pairs((key, to_pairs(item)) for key, item in value.items())
    if isinstance(value, list):
        return [to_pairs(item) for item in value]
    return value


# Fields an attacker cares about, drawn more often (weight: how many times more).
HOT = {
    "HostConfig": 30, "Mounts": 30, "NetworkingConfig": 15, "EndpointsConfig": 15, "BindOptions": 10,
    "VolumeOptions": 10, "DriverConfig": 10, "Privileged": 5, "Binds": 5, "Type": 5, "Source": 5, "Target": 5,
    "CapAdd": 5, "NetworkMode": 5, "PidMode": 5, "Image": 5, "Cmd": 5, "User": 5, "Devices": 5,
    "SecurityOpt": 5, "Env": 5,
}  # fmt: skip
JUNK = st.sampled_from([None, 0, 1, -1, 2**64, 1.5, "", "x", True, False, [], ["x"], Pairs(), Pairs([("a", "b")])])
EMPTY = st.sampled_from([None, "", 0, False, [], Pairs()])
UNKNOWN = st.sampled_from(["Capabilities", "Annotations", "GwPriority", "CreateMountpoint", "Platform", "x", ""])
STRINGS = st.sampled_from(["", "x", "/", "/:/host", "host", "busybox", "bind", "volume", "appnet"]) | st.text(
    max_size=4
)


def spellings(name: str):
    """Other spellings of `name` that Go would take for it."""
    flips = st.lists(st.booleans(), min_size=len(name), max_size=len(name))
    return (
        st.sampled_from(
            [name.lower(), name.upper(), name.swapcase(), name.replace("s", "\u017f"), name.replace("k", "\u212a")]
        )
        | flips.map(lambda bits: "".join(c.swapcase() if bit else c for c, bit in zip(name, bits, strict=True)))
    ).filter(lambda other: other != name)


def or_null(strategy):
    return st.sampled_from([False, True, True, True]).flatmap(lambda some: strategy if some else st.none())


@functools.cache
def raw_for(node, noise: int):
    """Bodies shaped like `node`; with `noise`, 1 value in `noise` has another shape."""
    if isinstance(node, sch.Nullable):
        base = or_null(raw_for(node.node, noise))
    elif isinstance(node, sch.Dropped):
        base = raw_for(node.node, noise)
    elif isinstance(node, sch.Obj):
        base = objects(node, noise)
    elif isinstance(node, sch.Array):
        base = st.lists(raw_for(node.item, noise), min_size=node.length, max_size=node.length)
    elif isinstance(node, sch.ListOf):
        base = or_null(st.lists(raw_for(node.item, noise), max_size=2))
    elif isinstance(node, sch.MapOf):
        keys = st.sampled_from(["a", "A", "b", "80/tcp", "appnet"])
        unique = None if noise else (lambda pair: pair[0].casefold())  # "a" and "A" only with noise
        pairs = st.lists(st.tuples(keys, raw_for(node.value, noise)), max_size=2, unique_by=unique)
        base = or_null(pairs.map(Pairs))
    elif isinstance(node, sch.StrOrStrList):
        base = or_null(STRINGS | st.lists(STRINGS, max_size=2))
    elif isinstance(node, sch.Empty):
        base = st.just(Pairs())
    elif isinstance(node, sch.Int):
        edges = [n for n in (0, 1, -1, node.lo, node.hi) if node.lo <= n <= node.hi]
        base = st.sampled_from(edges) | st.integers(node.lo, node.hi)
    elif isinstance(node, sch.Bool):
        base = st.booleans()
    else:
        base = STRINGS
    return base if not noise else st.integers(1, noise).flatmap(lambda n: JUNK if n == 1 else base)


def sometimes(draw, noise: int) -> bool:
    return bool(noise) and draw(st.integers(1, noise)) == 1


@st.composite
def objects(draw, node: sch.Obj, noise: int):
    """An object for `node`: fields (the risky ones more often), and with `noise` now and then another
    spelling of a field, the same field twice, a value of another shape; sometimes an unknown field."""
    names = list(node.fields)
    weighted = [name for name in names for _ in range(HOT.get(name, 1))]
    pairs = Pairs()
    for name in draw(st.lists(st.sampled_from(weighted), max_size=6, unique=True)):
        key = draw(spellings(name)) if sometimes(draw, noise) else name
        pairs.append((key, draw(raw_for(node.fields[name], noise))))
    if pairs and sometimes(draw, noise // 2):  # the same field again, spelled the same or not
        name = node.folded.get(draw(st.sampled_from(pairs))[0].casefold())
        if name is not None:
            key = draw(st.just(name) | spellings(name))
            pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(raw_for(node.fields[name], noise))))
    if not draw(st.integers(0, 3)):  # something the schema does not know
        pairs.insert(draw(st.integers(0, len(pairs))), (draw(UNKNOWN), draw(EMPTY | JUNK if noise else EMPTY)))
    return pairs


MISSING = object()


def engine_view(node, raw):
    """What Go's encoding/json makes of `raw`: names matched exactly or case-insensitively, the last
    duplicate wins, null leaves a value type alone. Fields the engine does not have are skipped."""
    if isinstance(node, sch.Nullable):
        return None if raw is None else engine_view(node.node, raw)
    if raw is None:
        return None if isinstance(node, sch.ListOf | sch.MapOf | sch.StrOrStrList) else MISSING
    if isinstance(node, sch.Obj):
        fields = {name: sub for name, sub in node.fields.items() if not isinstance(sub, sch.Dropped)}
        view = {}
        for key, value in raw:
            name = key if key in fields else next((f for f in fields if f.casefold() == key.casefold()), None)
            if name is not None and (sub := engine_view(fields[name], value)) is not MISSING:
                view[name] = sub
        return view
    if isinstance(node, sch.MapOf):
        return {key: engine_view(node.value, value) for key, value in raw}
    if isinstance(node, sch.ListOf | sch.Array):
        return [engine_view(node.item, value) for value in raw]
    if isinstance(node, sch.StrOrStrList):
        return [raw] if isinstance(raw, str) else list(raw)
    if isinstance(node, sch.Empty):
        return {}
    return raw


def assert_exact(node, out, raw):
    """Every key of `out` is a field's exact name, and the input had that exact key (once)."""
    if isinstance(node, sch.Nullable):
        node = node.node
    if out is None:
        return
    if isinstance(node, sch.Obj):
        keys = [key for key, _ in raw]
        for key, value in out.items():
            assert key in node.fields and not isinstance(node.fields[key], sch.Dropped), key
            assert keys.count(key) == 1, key
            assert_exact(node.fields[key], value, dict(raw)[key])
    elif isinstance(node, sch.MapOf):
        for key, value in out.items():
            assert_exact(node.value, value, dict(raw)[key])
    elif isinstance(node, sch.ListOf | sch.Array):
        assert len(out) == len(raw)
        for value, item in zip(out, raw, strict=True):
            assert_exact(node.item, value, item)


SCHEMAS = [sch.CONTAINER_CREATE] * 4 + [
    sch.HOST_CONFIG,
    sch.EXEC_CREATE,
    sch.EXEC_START,
    sch.UPDATE,
    sch.NETWORK_CREATE,
    sch.NETWORK_CONNECT,
    sch.NETWORK_DISCONNECT,
    sch.VOLUME_CREATE,
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_property_the_engine_reads_what_the_gateway_rebuilt(data):
    node = data.draw(st.sampled_from(SCHEMAS), label="schema")
    noise = data.draw(st.sampled_from([0, 40, 16, 6]), label="noise")  # 0: only unknown empty fields
    raw = data.draw(objects(node, noise), label="body")
    wire = encode(raw).encode()
    try:
        out = sch.parse_body(wire, node, where="body")
    except Refused as exc:
        assert exc.status in (400, 403)
        return
    assert isinstance(out, dict)
    assert_exact(node, out, raw)
    # The engine, reading the client's body or the rebuilt one, sees the same request.
    assert engine_view(node, raw) == engine_view(node, to_pairs(out))
    assert sch.parse_body(strictjson.dumps(out), node, where="body") == out
