"""Property: whatever body a student sends, the engine holds nothing the lab forbids.

Hypothesis writes container create, exec create and update bodies as raw JSON text (so
duplicate keys survive), mixing the field names' case (HostConfig / hostconfig / HOSTCONFIG),
unknown fields, nested Mounts and Binds with host paths, and privileged / cap-add / devices /
pid=host / pids / ulimit values; each is sent on the session socket, then every container and
exec the engine holds for the session is checked with engine_view (independent of the gateway's
code) and what the example made is removed.

25 examples in `make test`; BERTH_FUZZ_EXAMPLES sets the number (bench/gateway_fuzz.py runs 500).
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from . import engine_view
from .raw import describe, raw, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("BERTH_FUZZ_EXAMPLES", "25"))


class Obj:
    """A JSON object as an ordered list of (key, value) pairs: keys may repeat."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __repr__(self) -> str:
        return render(self)


def render(value) -> str:
    if isinstance(value, Obj):
        return "{" + ", ".join(f"{json.dumps(k)}: {render(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    return json.dumps(value)


def spelled(key: str):
    """The field name as Go's decoder would still match it."""
    variants = [key, key.lower(), key.upper(), key[:1].lower() + key[1:]]
    return st.sampled_from(sorted(set(variants), key=variants.index))


def obj(entries):
    """An Obj from a strategy of (key strategy, value strategy) lists, keys spelled any way."""
    return entries.flatmap(lambda items: st.tuples(*[st.tuples(spelled(k), v) for k, v in items]).map(Obj))


HOST_PATHS = st.sampled_from(["/", "/etc", "/var/run/docker.sock", "/root", "/proc", "/home/student", "/tmp"])


def mount_value():
    return obj(
        st.lists(
            st.sampled_from(
                [
                    ("Type", st.sampled_from(["bind", "volume", "tmpfs", "BIND"])),
                    ("Source", HOST_PATHS),
                    ("Target", st.sampled_from(["/host", "/x"])),
                    ("ReadOnly", st.booleans()),
                    ("VolumeOptions", st.just(Obj([]))),
                    ("VolumeOptions", st.just(None)),
                    (
                        "VolumeOptions",
                        st.just(
                            Obj(
                                [
                                    (
                                        "DriverConfig",
                                        Obj([("Options", Obj([("type", "none"), ("o", "bind"), ("device", "/etc")]))]),
                                    )
                                ]
                            )
                        ),
                    ),
                    ("BindOptions", st.just(Obj([("Propagation", "rshared")]))),
                ]
            ),
            min_size=1,
            max_size=6,
        )
    )


HOSTILE = [
    ("Privileged", st.booleans()),
    ("CapAdd", st.lists(st.sampled_from(["SYS_ADMIN", "ALL", "NET_ADMIN", "SYS_PTRACE", "CHOWN", "cap_sys_module"]))),
    ("Capabilities", st.just(["CAP_SYS_ADMIN"])),
    (
        "Devices",
        st.just([Obj([("PathOnHost", "/dev/mem"), ("PathInContainer", "/dev/mem"), ("CgroupPermissions", "rwm")])]),
    ),
    ("DeviceCgroupRules", st.just(["a *:* rwm"])),
    ("PidMode", st.sampled_from(["host", ""])),
    ("IpcMode", st.sampled_from(["host", "private"])),
    ("UTSMode", st.just("host")),
    ("UsernsMode", st.just("host")),
    ("NetworkMode", st.sampled_from(["host", "bridge", "default"])),
    ("Binds", st.lists(HOST_PATHS.map(lambda p: f"{p}:/host"), max_size=2)),
    ("Mounts", st.lists(mount_value(), max_size=2)),
    ("PidsLimit", st.sampled_from([-1, 0, 1_000_000])),
    ("Memory", st.sampled_from([0, 1 << 40])),
    ("MemorySwap", st.just(-1)),
    ("Ulimits", st.just([Obj([("Name", "rtprio"), ("Soft", 99), ("Hard", 99)])])),
    ("Ulimits", st.just([Obj([("Name", "memlock"), ("Soft", -1), ("Hard", -1)])])),
    ("SecurityOpt", st.sampled_from([["seccomp=unconfined"], ["apparmor=unconfined"], ["no-new-privileges:false"]])),
    ("CgroupParent", st.sampled_from(["/", "/docker"])),
    ("Sysctls", st.just(Obj([("kernel.domainname", "x")]))),
    ("OomKillDisable", st.booleans()),
    ("Runtime", st.just("runc")),
]
UNKNOWN = [
    ("Privileged", st.just(True)),  # at the top level: no such field in Config
    ("X-Berth", st.just(1)),
    ("HostConfigs", st.just(Obj([("Privileged", True)]))),
]


def host_config():
    return obj(st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=5))


def create_body():
    base = [("Image", st.just("busybox")), ("Cmd", st.just(["true"]))]
    extra = st.lists(
        st.sampled_from([("HostConfig", host_config())] * 3 + UNKNOWN),
        min_size=1,
        max_size=4,
    )
    return (
        extra.flatmap(lambda items: st.permutations(base + items))
        .flatmap(lambda items: st.tuples(*[st.tuples(spelled(k) if k != "Image" else st.just(k), v) for k, v in items]))
        .map(Obj)
    )


def exec_body():
    entries = st.lists(
        st.sampled_from(
            [
                ("Privileged", st.booleans()),
                ("Privileged", st.just(True)),
                ("User", st.just("root")),
                ("Tty", st.booleans()),
                ("X-Berth", st.just(1)),
            ]
        ),
        min_size=1,
        max_size=4,
    )
    return (
        entries.flatmap(lambda items: st.permutations([("Cmd", st.just(["id"]))] + items))
        .flatmap(lambda items: st.tuples(*[st.tuples(spelled(k), v) for k, v in items]))
        .map(Obj)
    )


UPDATE_KEYS = [
    ("PidsLimit", st.sampled_from([-1, 0, 100, 1_000_000])),
    ("Memory", st.sampled_from([0, 1 << 40])),
    ("MemorySwap", st.just(-1)),
    ("Ulimits", st.just([Obj([("Name", "rtprio"), ("Soft", 99), ("Hard", 99)])])),
    ("CgroupParent", st.just("/")),
    ("Devices", st.just([Obj([("PathOnHost", "/dev/mem"), ("PathInContainer", "/dev/mem")])])),
    ("CpuRealtimeRuntime", st.just(950000)),
    ("OomKillDisable", st.just(True)),
]


def update_body():
    return obj(st.lists(st.sampled_from(UPDATE_KEYS), min_size=1, max_size=4))


BODIES = st.one_of(
    st.tuples(st.just("create"), create_body()),
    st.tuples(st.just("exec"), exec_body()),
    st.tuples(st.just("update"), update_body()),
)


def _target(lab, token: str) -> str:
    name = f"{engine_view.SCRATCH_PREFIX}fuzz-target-{token}"
    client = lab.client()
    try:
        client.containers.run("busybox", "sleep 600", name=name, detach=True)
    finally:
        client.close()
    return name


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(example=BODIES)
def test_no_body_gets_past_the_labs_rules(docker_lab, example):
    kind, body = example
    text = render(body)
    note(f"{kind}: {text}")
    since = engine_view.mark()
    token = uuid.uuid4().hex[:8]
    try:
        if kind == "create":
            target = f"/v1.41/containers/create?name={engine_view.SCRATCH_PREFIX}fuzz-{token}"
        else:
            target = f"/v1.41/containers/{_target(docker_lab, token)}/{kind}"
        resp = raw(docker_lab, request("POST", target, json_text=text))
        note(f"answer: {describe(resp)}")
        problems = engine_view.problems(docker_lab, since)
        ping = raw(docker_lab, request("GET", "/_ping"))
        if ping is None or ping.status != 200:
            problems.append(f"the gateway stopped answering: {describe(ping)}")
        assert not problems, f"{kind} {text}\nanswer: {describe(resp)}\n" + "\n".join(problems)
    finally:
        engine_view.cleanup(docker_lab, since)
