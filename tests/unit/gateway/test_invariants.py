"""labs.gateway.invariants against real inspect JSON from Docker 20.10 (fixtures/inspect, see capture.json
there) and one-field mutations of the compliant container, network, volume and exec."""

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from labs.gateway import invariants as inv

FIXTURES = Path(__file__).parent / "fixtures" / "inspect"
DELETE = object()


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


_SCOPE = load("scope")
SCOPE = inv.Scope(**_SCOPE)
OK_ID = _SCOPE["containers"][0]
NET_NAME, NET_ID = _SCOPE["networks"]
BINDS = _SCOPE["binds_dir"]
OTHER_ID = "f" * 64
OK = load("container-ok")


def mutate(doc: dict, changes: dict) -> dict:
    """A copy of doc with each "A.B" path set to its value (DELETE removes it); after "|", one literal key
    (label and option names hold dots): "Config.Labels|org.berth.kind"."""
    doc = copy.deepcopy(doc)
    for path, value in changes.items():
        head, _, literal = path.partition("|")
        *parents, last = head.split(".") + ([literal] if literal else [])
        node = doc
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return doc


def one_problem_naming(problems: list[str], needle: str | tuple[str, ...]) -> None:
    """Exactly one problem per needle (a tuple: several), each naming it, in order."""
    needles = needle if isinstance(needle, tuple) else (needle,)
    assert len(problems) == len(needles), problems
    for text, problem in zip(needles, problems, strict=True):
        assert text in problem, problems


# --- real fixtures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "container-ok",
        "container-network-none",
        "container-network-container",  # also --ipc container:<ok>
        "container-pid-container",  # also --volumes-from <ok>:ro
        "container-cgroupns-private",
        "container-volume-hostetc",  # clean by itself: the volume is the problem (below)
    ],
)
def test_compliant_containers(name):
    assert inv.container_problems(load(name), SCOPE) == []


def test_compliant_network_volume_exec():
    assert inv.network_problems(load("network-ok"), SCOPE) == []
    assert inv.volume_problems(load("volume-ok"), SCOPE) == []
    assert inv.exec_problems(load("exec-ok"), SCOPE) == []


@pytest.mark.parametrize(
    "name, needles",
    [
        ("container-cap-net-admin", ["CapAdd adds NET_ADMIN"]),
        ("container-pids-unlimited", ["PidsLimit is null"]),
        ("container-ulimit-rtprio", ["Ulimits sets rtprio"]),
        ("container-seccomp-unconfined", ["SecurityOpt has seccomp=unconfined"]),
        ("container-systempaths-unconfined", ["MaskedPaths leaves /proc/asound", "ReadonlyPaths leaves /proc/bus"]),
        ("container-bind-etc", ["Binds mounts the host's /etc", "Mounts has a bind of the host's /etc"]),
        ("container-pid-host", ['PidMode is "host"', "SecurityOpt has label=disable"]),
        ("container-ipc-host", ['IpcMode is "host"', "SecurityOpt has label=disable"]),
        ("container-uts-host", ['UTSMode is "host"']),
        ("container-network-host", ['NetworkMode is "host"', 'Networks has "host"']),
        ("container-network-bridge", ['NetworkMode is "default"', 'Networks has "bridge"']),
        ("container-device-null", ["Devices maps the host's /dev/null"]),
        ("container-sysctl-forward", ["Sysctls sets net.ipv4.ip_forward"]),
        ("container-oom-kill-disable", ["OomKillDisable is on", "OomScoreAdj is -500"]),
        ("container-published", ["PortBindings publishes 80/tcp"]),
        (
            "container-default",
            [
                'NetworkMode is "default"',
                'Networks has "bridge"',
                "SecurityOpt lacks no-new-privileges",
                'CgroupParent is ""',
                "PidsLimit is null",
                "Memory is 0",
            ],
        ),
    ],
)
def test_real_violations(name, needles):
    problems = inv.container_problems(load(name), SCOPE)
    assert len(problems) == len(needles), problems
    for needle in needles:
        assert any(needle in p for p in problems), (needle, problems)


def test_a_host_mount_hides_in_a_volume():
    container = load("container-volume-hostetc")
    assert inv.container_problems(container, SCOPE) == []
    assert inv.volume_names(container) == ["berth-inv-hostetc"]
    one_problem_naming(inv.volume_problems(load("volume-hostetc"), SCOPE), "driver options (device, o, type)")


def test_real_networks():
    plain = inv.network_problems(load("network-plain"), SCOPE)
    assert len(plain) == 3 and "not Internal" in plain[0] and "inhibit_ipv4=true" in plain[1], plain
    assert "firewall" in plain[2]
    bridge = "\n".join(inv.network_problems(load("network-bridge"), SCOPE))
    for needle in ("org.berth.session", "not Internal", "enable_ip_masquerade", "host_binding_ipv4", "inhibit_ipv4"):
        assert needle in bridge


def test_containers_of_another_session():
    scope = dataclasses.replace(SCOPE, containers=frozenset(), networks=frozenset())
    assert len(inv.container_problems(load("container-pid-container"), scope)) == 4  # pid, volumes-from, 2 network
    problems = inv.container_problems(load("container-network-container"), scope)
    assert [p.split(" is ")[0] for p in problems] == ["IpcMode", "NetworkMode"]
    one_problem_naming(inv.exec_problems(load("exec-ok"), scope), f"container {OK_ID}")


def test_what_the_engine_reports():
    """The facts the checks rely on, as this engine reports them."""
    host = OK["HostConfig"]
    assert host["MaskedPaths"] == list(inv.DEFAULT_MASKED_PATHS)
    assert host["ReadonlyPaths"] == list(inv.DEFAULT_READONLY_PATHS)
    assert host["CgroupnsMode"] == "host" and host["IpcMode"] == "shareable" and host["Runtime"] == "runc"
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert load("container-default")["HostConfig"]["PidsLimit"] is None
    assert load("container-default")["HostConfig"]["IpcMode"] == "private"
    assert load("container-pids-unlimited")["HostConfig"]["PidsLimit"] is None
    assert load("container-systempaths-unconfined")["HostConfig"]["MaskedPaths"] == []
    assert load("container-cap-net-admin")["HostConfig"]["CapAdd"] == ["CAP_NET_ADMIN"]
    assert load("container-pid-host")["HostConfig"]["SecurityOpt"] == ["no-new-privileges", "label=disable"]
    assert load("container-published")["NetworkSettings"]["Ports"] == {}  # internal network: only PortBindings


def test_volume_names():
    assert inv.volume_names(OK) == ["berth-inv-data"]
    doc = mutate(
        OK,
        {
            "HostConfig.Binds": ["berth-inv-data:/data", "other:/o", "/anon", f"{BINDS}/site:/s"],
            "HostConfig.Mounts": [
                {"Type": "volume", "Source": "third", "Target": "/t"},
                {"Type": "tmpfs", "Target": "/x"},
            ],
        },
    )
    doc["Mounts"].append({"Type": "volume", "Name": "a" * 64, "Driver": "local", "Destination": "/anon"})
    assert inv.volume_names(doc) == ["berth-inv-data", "a" * 64, "other", "third"]
    assert inv.volume_names({}) == [] and inv.volume_names(None) == []


# --- one field at a time ---------------------------------------------------------------------------

BIND_MOUNT = {"Type": "bind", "Source": f"{BINDS}/site", "Destination": "/x", "Propagation": "rprivate", "RW": True}
NET_ENDPOINT = OK["NetworkSettings"]["Networks"][NET_NAME]

CONTAINER_BAD = [
    # labels
    ({"Config.Labels|org.berth.session": "another"}, "label org.berth.session"),
    ({"Config.Labels": None}, ("label org.berth.session is null", "label org.berth.kind is null")),
    ({"Config.Labels|org.berth.kind": "lab"}, "label org.berth.kind"),
    # privileges and devices
    ({"HostConfig.Privileged": True}, "Privileged is on"),
    ({"HostConfig.CapAdd": ["SYS_ADMIN"]}, "CapAdd adds SYS_ADMIN"),
    ({"HostConfig.CapAdd": ["cap_sys_ptrace"]}, "CapAdd adds SYS_PTRACE"),
    ({"HostConfig.CapAdd": ["CHOWN", "ALL"]}, "CapAdd adds ALL"),
    ({"HostConfig.CapAdd": "SYS_ADMIN"}, "CapAdd is not a list"),
    ({"HostConfig.Capabilities": ["CAP_CHOWN"]}, "Capabilities"),
    ({"HostConfig.Devices": [{"PathOnHost": "/dev/kmsg", "PathInContainer": "/dev/kmsg"}]}, "/dev/kmsg"),
    ({"HostConfig.Devices": {"PathOnHost": "/dev/kmsg"}}, "Devices is not a list"),
    ({"HostConfig.DeviceRequests": [{"Count": -1, "Capabilities": [["gpu"]]}]}, "DeviceRequests"),
    ({"HostConfig.DeviceCgroupRules": ["c 1:3 mr"]}, "DeviceCgroupRules"),
    # namespaces
    ({"HostConfig.PidMode": "host"}, "PidMode"),
    ({"HostConfig.PidMode": f"container:{OTHER_ID}"}, "PidMode"),
    ({"HostConfig.PidMode": "container:berth-inv-ok"}, "PidMode"),  # a name, not the id
    ({"HostConfig.PidMode": DELETE}, "PidMode"),
    ({"HostConfig.IpcMode": "host"}, "IpcMode"),
    ({"HostConfig.IpcMode": f"container:{OTHER_ID}"}, "IpcMode"),
    ({"HostConfig.UTSMode": "host"}, "UTSMode"),
    ({"HostConfig.UsernsMode": "host"}, "UsernsMode"),
    ({"HostConfig.CgroupnsMode": "container:x"}, "CgroupnsMode"),
    ({"HostConfig.Cgroup": f"container:{OK_ID}"}, "Cgroup is"),
    # network
    ({"HostConfig.NetworkMode": "host"}, "NetworkMode"),
    ({"HostConfig.NetworkMode": "bridge"}, "NetworkMode"),
    ({"HostConfig.NetworkMode": "default"}, "NetworkMode"),
    ({"HostConfig.NetworkMode": "berth-other-net"}, "NetworkMode"),
    ({"HostConfig.NetworkMode": f"container:{OTHER_ID}"}, "NetworkMode"),
    ({"NetworkSettings.Networks|bridge": NET_ENDPOINT}, 'Networks has "bridge"'),
    ({"NetworkSettings.Networks|none": NET_ENDPOINT}, 'Networks has "none"'),
    ({"NetworkSettings.Networks": {"none": NET_ENDPOINT}}, 'Networks has "none"'),  # none, but NetworkMode is not
    ({"NetworkSettings.Networks|berth-other": NET_ENDPOINT}, 'Networks has "berth-other"'),
    ({"NetworkSettings.Networks": {NET_NAME: {**NET_ENDPOINT, "NetworkID": OTHER_ID}}}, f"is network {OTHER_ID}"),
    ({"NetworkSettings.Networks": []}, "Networks is not an object"),
    ({"NetworkSettings.Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}}, "Ports publishes 80/tcp"),
    ({"HostConfig.PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}, "PortBindings publishes 80/tcp"),
    ({"HostConfig.PublishAllPorts": True}, "PublishAllPorts"),
    # security options
    ({"HostConfig.SecurityOpt": None}, "lacks no-new-privileges"),
    (
        {"HostConfig.SecurityOpt": ["no-new-privileges:false"]},
        ("lacks no-new-privileges", "has no-new-privileges:false"),
    ),
    ({"HostConfig.SecurityOpt": ["no-new-privileges=true", "no-new-privileges=false"]}, "has no-new-privileges=false"),
    ({"HostConfig.SecurityOpt": ["NO-NEW-PRIVILEGES"]}, ("lacks no-new-privileges", "has NO-NEW-PRIVILEGES")),
    ({"HostConfig.SecurityOpt": ["no-new-privileges", "apparmor=unconfined"]}, "has apparmor=unconfined"),
    ({"HostConfig.SecurityOpt": ["no-new-privileges", "label=disable"]}, "has label=disable"),
    ({"HostConfig.SecurityOpt": ["no-new-privileges", "systempaths=unconfined"]}, "has systempaths=unconfined"),
    ({"HostConfig.SecurityOpt": ["no-new-privileges", 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']}, "has seccomp="),
    # runtime, isolation, cgroup parent
    ({"HostConfig.Runtime": "runsc"}, 'Runtime is "runsc"'),
    ({"HostConfig.Runtime": ""}, 'Runtime is ""'),
    ({"HostConfig.Runtime": "io.containerd.runc.v2"}, "Runtime is"),
    ({"HostConfig.Isolation": "hyperv"}, "Isolation"),
    ({"HostConfig.CgroupParent": ""}, "CgroupParent"),
    ({"HostConfig.CgroupParent": "/"}, "CgroupParent"),
    ({"HostConfig.CgroupParent": "/berth-inv-test/parent/../other"}, "CgroupParent"),
    # pids, memory
    ({"HostConfig.PidsLimit": None}, "PidsLimit is null"),
    ({"HostConfig.PidsLimit": 0}, "PidsLimit is 0"),
    ({"HostConfig.PidsLimit": -1}, "PidsLimit is -1"),
    ({"HostConfig.PidsLimit": 129}, "PidsLimit is 129, above"),
    ({"HostConfig.PidsLimit": True}, "PidsLimit is true"),
    ({"HostConfig.Memory": 0, "HostConfig.MemorySwap": 0}, "Memory is 0"),
    ({"HostConfig.Memory": 256 * 2**20 + 1, "HostConfig.MemorySwap": 256 * 2**20 + 1}, "Memory is 268435457, above"),
    ({"HostConfig.MemorySwap": -1}, "MemorySwap is -1"),
    ({"HostConfig.MemorySwap": 512 * 2**20}, "MemorySwap is 536870912"),
    ({"HostConfig.MemoryReservation": 512 * 2**20}, "MemoryReservation"),
    ({"HostConfig.KernelMemory": 2**20}, "KernelMemory is"),
    ({"HostConfig.KernelMemoryTCP": 2**20}, "KernelMemoryTCP"),
    # CPU
    ({"HostConfig.NanoCpus": 500_000_001}, "NanoCpus"),
    ({"HostConfig.NanoCpus": -1}, "NanoCpus"),
    ({"HostConfig.CpuQuota": 50_001}, "CpuQuota 50001 per CpuPeriod 100000"),
    ({"HostConfig.CpuQuota": 50_000, "HostConfig.CpuPeriod": 50_000}, "CpuQuota 50000 per CpuPeriod 50000"),
    ({"HostConfig.CpuQuota": "lots"}, "CpuQuota"),
    ({"HostConfig.CpuRealtimePeriod": 1_000_000}, "CpuRealtimePeriod"),
    ({"HostConfig.CpuRealtimeRuntime": 950_000}, "CpuRealtimeRuntime"),
    # OOM, sysctls
    ({"HostConfig.OomKillDisable": True}, "OomKillDisable"),
    ({"HostConfig.OomScoreAdj": -1}, "OomScoreAdj is -1"),
    ({"HostConfig.Sysctls": {"kernel.shm_rmid_forced": "1"}}, "Sysctls sets kernel.shm_rmid_forced"),
    # masked and read-only paths
    ({"HostConfig.MaskedPaths": [p for p in inv.DEFAULT_MASKED_PATHS if p != "/proc/kcore"]}, "leaves /proc/kcore"),
    ({"HostConfig.MaskedPaths": None}, "MaskedPaths is null"),
    ({"HostConfig.ReadonlyPaths": [p for p in inv.DEFAULT_READONLY_PATHS if p != "/proc/sys"]}, "leaves /proc/sys"),
    ({"HostConfig.ReadonlyPaths": DELETE}, "ReadonlyPaths is null"),
    # ulimits
    ({"HostConfig.Ulimits": [{"Name": "memlock", "Soft": -1, "Hard": -1}]}, "Ulimits sets memlock"),
    ({"HostConfig.Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 1048577}]}, "hard limit 1048577"),
    ({"HostConfig.Ulimits": [{"Name": "nproc", "Soft": -1, "Hard": -1}]}, "nproc hard limit -1"),
    ({"HostConfig.Ulimits": [{"Name": "nofile", "Soft": 4096, "Hard": 2048}]}, "soft limit 4096"),
    ({"HostConfig.Ulimits": [{"Name": "nofile", "Soft": -1, "Hard": 2048}]}, "soft limit -1"),
    ({"HostConfig.Ulimits": {"nofile": 1}}, "Ulimits is not a list"),
    # logs and volume driver
    ({"HostConfig.LogConfig": {"Type": "syslog", "Config": {}}}, "LogConfig.Type"),
    ({"HostConfig.LogConfig": {"Type": "local", "Config": {}}}, "LogConfig.Type"),
    ({"HostConfig.LogConfig": None}, "LogConfig.Type"),
    ({"HostConfig.VolumeDriver": "convoy"}, "VolumeDriver"),
    # Binds
    ({"HostConfig.Binds": ["/etc:/x"]}, "Binds mounts the host's /etc"),
    ({"HostConfig.Binds": ["/:/x"]}, "Binds mounts the host's /"),
    ({"HostConfig.Binds": [f"{BINDS}:/x"]}, "Binds mounts"),  # the directory itself, not inside
    ({"HostConfig.Binds": [f"{BINDS}/../../etc:/x"]}, "Binds mounts"),
    ({"HostConfig.Binds": [f"{BINDS}/site/..:/x"]}, "Binds mounts"),  # normpath says inside: refused anyway
    ({"HostConfig.Binds": [f"{BINDS}/site/../x:/x"]}, "Binds mounts"),
    ({"HostConfig.Binds": [f"{BINDS}-evil/site:/x"]}, "Binds mounts"),
    ({"HostConfig.Binds": [f"/{BINDS}/site:/x"]}, "Binds mounts"),  # "//": normpath keeps it
    ({"HostConfig.Binds": [f"{BINDS}/site\x00:/x"]}, "Binds mounts"),
    ({"HostConfig.Binds": ["../etc:/x"]}, "neither an absolute path nor a volume name"),
    ({"HostConfig.Binds": ["~/x:/x"]}, "neither an absolute path nor a volume name"),
    ({"HostConfig.Binds": ["a:/b:ro:x"]}, "not source:target"),
    ({"HostConfig.Binds": [f"{BINDS}/site:/x:ro,rshared"]}, "propagation rshared"),
    ({"HostConfig.Binds": "/etc:/x"}, "Binds is not a list"),
    # top-level Mounts (what the engine mounted)
    ({"Mounts": [{**BIND_MOUNT, "Source": "/etc"}]}, "Mounts has a bind of the host's /etc"),
    ({"Mounts": [{**BIND_MOUNT, "Source": "/var/run/docker.sock"}]}, "/var/run/docker.sock"),
    ({"Mounts": [{**BIND_MOUNT, "Propagation": "rshared"}]}, "propagation rshared"),
    ({"Mounts": [{**BIND_MOUNT, "Propagation": "slave"}]}, "propagation slave"),
    ({"Mounts": [{"Type": "volume", "Name": "v", "Driver": "convoy", "Destination": "/v"}]}, "driver convoy"),
    ({"Mounts": [{"Type": "npipe", "Source": "x", "Destination": "/v"}]}, 'type "npipe"'),
    ({"Mounts": [{"Type": "cluster", "Source": "x", "Destination": "/v"}]}, 'type "cluster"'),
    ({"Mounts": [{"Type": "image", "Source": "x", "Destination": "/v"}]}, 'type "image"'),
    ({"Mounts": [{"Source": "/etc", "Destination": "/v"}]}, "type null"),
    ({"Mounts": {}}, "Mounts is not a list"),
    # HostConfig.Mounts (the stored request, applied at every start)
    ({"HostConfig.Mounts": [{"Type": "bind", "Source": "/", "Target": "/h"}]}, "HostConfig.Mounts binds the host's /"),
    (
        {
            "HostConfig.Mounts": [
                {"Type": "bind", "Source": f"{BINDS}/site", "Target": "/h", "BindOptions": {"Propagation": "shared"}}
            ]
        },
        "propagation shared",
    ),
    (
        {"HostConfig.Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Name": "nfs"}}}]},
        "with a driver or driver options",
    ),
    (
        {
            "HostConfig.Mounts": [
                {"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Options": {"device": "/etc"}}}}
            ]
        },
        "with a driver or driver options",
    ),
    (
        {"HostConfig.Mounts": [{"Type": "npipe", "Source": "x", "Target": "/v"}]},
        'HostConfig.Mounts has a mount of type "npipe"',
    ),
    ({"HostConfig.Mounts": [{"Source": "v", "Target": "/v"}]}, "type null"),
    ({"HostConfig.Mounts": "x"}, "HostConfig.Mounts is not a list"),
    # VolumesFrom
    ({"HostConfig.VolumesFrom": [f"{OTHER_ID}:ro"]}, "VolumesFrom"),
    ({"HostConfig.VolumesFrom": ["berth-inv-ok"]}, "VolumesFrom"),
    ({"HostConfig.VolumesFrom": OK_ID}, "VolumesFrom is not a list"),
]


@pytest.mark.parametrize(
    "changes, needle",
    CONTAINER_BAD,
    ids=[f"{i}-{n if isinstance(n, str) else n[0]}"[:60] for i, (_, n) in enumerate(CONTAINER_BAD)],
)
def test_container_mutation(changes, needle):
    one_problem_naming(inv.container_problems(mutate(OK, changes), SCOPE), needle)


CONTAINER_FINE = [
    {"HostConfig.CapAdd": ["CAP_CHOWN", "net_raw", "cap_kill", "Setuid"]},
    {"HostConfig.CapAdd": []},
    {"HostConfig.Devices": None, "HostConfig.DeviceRequests": [], "HostConfig.Capabilities": None},
    {"HostConfig.PidMode": f"container:{OK_ID}"},
    {"HostConfig.IpcMode": ""},
    {"HostConfig.IpcMode": "private"},
    {"HostConfig.IpcMode": "none"},
    {"HostConfig.IpcMode": f"container:{OK_ID}"},
    {"HostConfig.CgroupnsMode": ""},
    {"HostConfig.CgroupnsMode": "private"},
    {"HostConfig.NetworkMode": NET_ID},
    {"HostConfig.NetworkMode": "none", "NetworkSettings.Networks": {"none": {"NetworkID": "x"}}},
    {"HostConfig.NetworkMode": f"container:{OK_ID}", "NetworkSettings.Networks": {}},
    {"NetworkSettings.Ports": {"80/tcp": None, "443/tcp": []}},
    {"HostConfig.SecurityOpt": ["no-new-privileges:true"]},
    {"HostConfig.SecurityOpt": ["no-new-privileges=true"]},
    {"HostConfig.SecurityOpt": ["no-new-privileges=TRUE", "no-new-privileges:1"]},
    {"HostConfig.Isolation": "default"},
    {"HostConfig.PidsLimit": 1},
    {"HostConfig.Memory": 2**20, "HostConfig.MemorySwap": 2**20, "HostConfig.MemoryReservation": 2**20},
    {"HostConfig.NanoCpus": 0, "HostConfig.CpuQuota": 100_000, "HostConfig.CpuPeriod": 200_000},
    {"HostConfig.NanoCpus": 0, "HostConfig.CpuQuota": 50_000, "HostConfig.CpuPeriod": 0},
    {"HostConfig.CpuQuota": -1},
    {"HostConfig.OomScoreAdj": 500},
    {"HostConfig.MaskedPaths": [*inv.DEFAULT_MASKED_PATHS, "/sys/devices/virtual/powercap"]},
    {
        "HostConfig.Ulimits": [
            {"Name": "nofile", "Soft": 1048576, "Hard": 1048576},
            {"Name": "nproc", "Soft": 10, "Hard": 10},
        ]
    },
    {"HostConfig.Ulimits": None},
    {"HostConfig.LogConfig": {"Type": "none", "Config": {}}},
    {"HostConfig.VolumeDriver": "local"},
    {"HostConfig.Binds": [f"{BINDS}/site/./sub/:/x", f"{BINDS}//site:/y:ro,rprivate", "vol-1:/z:nocopy", "/anon"]},
    {"HostConfig.Binds": None, "HostConfig.Mounts": None, "Mounts": []},
    {"Mounts": [{**BIND_MOUNT, "Propagation": "private"}, {"Type": "tmpfs", "Destination": "/t"}]},
    {"HostConfig.Mounts": [{"Type": "tmpfs", "Target": "/t"}, {"Type": "volume", "Target": "/v", "VolumeOptions": {}}]},
    {"HostConfig.VolumesFrom": [OK_ID, f"{OK_ID}:rw"]},
]


@pytest.mark.parametrize("changes", CONTAINER_FINE)
def test_container_mutation_still_fine(changes):
    assert inv.container_problems(mutate(OK, changes), SCOPE) == []


def test_scope_dependent_checks():
    assert (
        inv.container_problems(mutate(OK, {"HostConfig.Runtime": "runsc"}), dataclasses.replace(SCOPE, runtime="runsc"))
        == []
    )
    one_problem_naming(inv.container_problems(OK, dataclasses.replace(SCOPE, runtime="runsc")), 'Runtime is "runc"')
    # cgroup v2: the engine's default is private, so "host" was asked for.
    one_problem_naming(
        inv.container_problems(OK, dataclasses.replace(SCOPE, default_cgroupns="private")), "CgroupnsMode"
    )
    one_problem_naming(
        inv.container_problems(OK, dataclasses.replace(SCOPE, ulimits={"nproc": 10})), "Ulimits sets nofile"
    )
    one_problem_naming(
        inv.container_problems(OK, dataclasses.replace(SCOPE, ulimits={"nofile": 1024})), "hard limit 2048"
    )
    assert inv.container_problems(OK, dataclasses.replace(SCOPE, cpus=0.25))[0].startswith("NanoCpus")
    one_problem_naming(inv.container_problems(OK, dataclasses.replace(SCOPE, pids_limit=100)), "PidsLimit is 128")
    one_problem_naming(
        inv.container_problems(OK, dataclasses.replace(SCOPE, memory_bytes=2**20)), "Memory is 268435456"
    )
    # No bind directory (or "/") means no bind is inside it.
    for binds_dir in ("", "/", "relative/dir"):
        problems = inv.container_problems(OK, dataclasses.replace(SCOPE, binds_dir=binds_dir))
        assert len(problems) == 4 and all(BINDS in p for p in problems), problems  # Binds, HostConfig.Mounts, 2 Mounts
    assert inv.container_problems(OK, dataclasses.replace(SCOPE, binds_dir=BINDS + "/")) == []
    assert inv.Scope(**{**_SCOPE, "networks": list(_SCOPE["networks"])}).networks == frozenset(_SCOPE["networks"])
    assert inv.Scope(**{k: v for k, v in _SCOPE.items() if k != "ulimits"}).ulimits == inv.ALLOWED_ULIMITS


def test_not_an_object():
    assert inv.container_problems(None, SCOPE) == ["the container inspect answer is not a JSON object."]
    assert inv.container_problems({"Id": OK_ID}, SCOPE) == ["the container inspect answer has no HostConfig."]
    assert inv.volume_problems([], SCOPE) and inv.network_problems("x", SCOPE) and inv.exec_problems(None, SCOPE)


def test_allowed_ulimits_exclude_the_dangerous_ones():
    assert set(inv.ALLOWED_ULIMITS) == {"nofile", "nproc"}
    for name in ("rtprio", "rttime", "nice", "memlock", "msgqueue", "sigpending", "core"):
        assert name not in inv.ALLOWED_ULIMITS


# --- volumes, networks, execs -------------------------------------------------------------------------

VOLUME = load("volume-ok")


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"Driver": "nfs"}, 'driver "nfs"'),
        ({"Driver": ""}, 'driver ""'),
        ({"Options": {"type": "tmpfs"}}, "driver options (type)"),
        ({"Options": {"device": "/etc"}}, "driver options (device)"),
        ({"Options": {"o": "bind"}}, "driver options (o)"),
        ({"Labels|org.berth.session": "another"}, 'label org.berth.session is "another"'),
        ({"Labels": None}, "label org.berth.session is null"),
    ],
)
def test_volume_mutation(changes, needle):
    one_problem_naming(inv.volume_problems(mutate(VOLUME, changes), SCOPE), needle)


def test_volume_options_empty_is_fine():
    assert inv.volume_problems(mutate(VOLUME, {"Options": {}}), SCOPE) == []


NETWORK = load("network-ok")
INHIBIT = "Options|com.docker.network.bridge.inhibit_ipv4"


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"Labels|org.berth.session": "another"}, "label org.berth.session"),
        ({"Labels": None}, "label org.berth.session"),
        ({"Driver": "macvlan"}, 'driver "macvlan"'),
        ({"Internal": False}, "not Internal"),
        ({"Internal": DELETE}, "not Internal"),
        ({"EnableIPv6": True}, "EnableIPv6"),
        ({"Scope": "swarm"}, 'Scope "swarm"'),
        ({"Ingress": True}, "Ingress"),
        ({"ConfigOnly": True}, "ConfigOnly"),
        ({"ConfigFrom": {"Network": "berth-other"}}, "ConfigFrom"),
        ({"IPAM|Driver": "dhcp"}, 'IPAM.Driver "dhcp"'),
        ({"IPAM|Options": {"foo": "bar"}}, "IPAM.Options"),
        (
            {"Options|com.docker.network.bridge.enable_ip_masquerade": "true"},
            "option com.docker.network.bridge.enable_ip_masquerade",
        ),
        (
            {"Options|com.docker.network.bridge.host_binding_ipv4": "0.0.0.0"},
            "option com.docker.network.bridge.host_binding_ipv4",
        ),
        ({INHIBIT: "false"}, "lacks com.docker.network.bridge.inhibit_ipv4=true"),
        ({INHIBIT: DELETE}, "lacks com.docker.network.bridge.inhibit_ipv4=true"),
        ({"Options": ["x"]}, "Options that are not an object"),
    ],
)
def test_network_mutation(changes, needle):
    problems = inv.network_problems(mutate(NETWORK, changes), SCOPE)
    if changes.get("Options") == ["x"]:
        assert any(needle in p for p in problems), problems
    else:
        one_problem_naming(problems, needle)


def test_network_allowed_options():
    doc = mutate(
        NETWORK,
        {
            "Options|com.docker.network.driver.mtu": "1400",
            "Options|com.docker.network.bridge.name": "bthfeedbeef0",
            "ConfigFrom": None,
        },
    )
    assert inv.network_problems(doc, SCOPE) == []
    assert inv.network_problems(mutate(NETWORK, {"ConfigFrom": {}, "IPAM|Options": None}), SCOPE) == []


def test_network_without_options():
    problems = inv.network_problems(mutate(NETWORK, {"Options": None}), SCOPE)
    assert len(problems) == 2 and "inhibit_ipv4=true" in problems[0] and "firewall" in problems[1]


def test_network_bridge_must_be_one_the_firewall_closes():
    for bridge in ("br-x", "", "docker0"):
        problems = inv.network_problems(mutate(NETWORK, {"Options|com.docker.network.bridge.name": bridge}), SCOPE)
        assert len(problems) == 1 and "firewall" in problems[0]


EXEC = load("exec-ok")


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"ProcessConfig|privileged": True}, "Privileged"),
        ({"Privileged": True}, "Privileged"),
        ({"ContainerID": OTHER_ID}, OTHER_ID),
        ({"ContainerID": DELETE}, "container None"),
    ],
)
def test_exec_mutation(changes, needle):
    one_problem_naming(inv.exec_problems(mutate(EXEC, changes), SCOPE), needle)
