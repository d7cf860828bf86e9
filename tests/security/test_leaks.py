"""Category 7: what leaks out of the session's world.

Events: the lab container carries the session's labels too, so a label-filtered event stream
shows the platform's own execs in it (what the grader ran, when, as whom). The stream must show
the student's containers and nothing of the lab container.

Network: the session's networks are `internal`, which stops forwarding off the bridge but not
traffic to the host's own addresses: a container on an internal bridge still reaches every
service the host runs on 0.0.0.0 through the bridge's gateway address (and every other bridge
address of the host). From the lab shell and from student containers, nothing on the host may
answer; the session's bridges have no address on the host, and student containers have no route
that leaves their subnet.

Only addresses of this machine are tried: the IPv4 addresses of the host's own docker0/br-*
interfaces, and the gateway addresses of the session's own networks.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import time
import urllib.parse

import pytest

from . import engine_view
from .raw import describe, raw, request

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


# --- events -----------------------------------------------------------------------------------------


def _actor(event: dict) -> str:
    return str((event.get("Actor") or {}).get("ID") or event.get("id") or "")


def _events(lab, since: int, until: int, filters: dict | None = None) -> list:
    query = f"since={since}&until={until}"
    if filters is not None:
        query += "&filters=" + urllib.parse.quote(json.dumps(filters))
    resp = raw(lab, request("GET", f"/v1.41/events?{query}"), timeout=30)
    if filters is not None and resp is not None and 400 <= resp.status < 500:
        return []  # a filter naming what is not the session's may be refused: nothing leaked
    assert resp is not None and resp.status == 200, f"events: {describe(resp)}"
    return [e for e in resp.lines() if isinstance(e, dict)]


def test_events_show_the_students_containers_and_nothing_of_the_lab(docker_lab, scratch):
    lab_id = docker_lab.container_id
    start = int(time.time()) - 1
    docker_lab.sh("true")  # the platform runs an exec in the lab container
    name = scratch.name("events")
    docker_lab.ok(f"docker run --name {name} busybox true && docker rm {name}")
    until = int(time.time()) + 1
    time.sleep(max(0.0, until - time.time()))

    problems = []
    for filters in (
        None,
        {"container": [lab_id]},
        {"container": [docker_lab.policy["lab_container"]]},
        {"type": ["container"], "event": ["exec_create", "exec_start", "exec_die"]},
    ):
        events = _events(docker_lab, start, until, filters)
        leaked = [e for e in events if _actor(e) == lab_id or lab_id in json.dumps(e)]
        if leaked:
            actions = sorted({str(e.get("Action") or e.get("status")) for e in leaked})
            problems.append(f"events (filters {filters}): {len(leaked)} events of the lab container: {actions}")
        if filters is None:
            mine = [e for e in events if (e.get("Actor") or {}).get("Attributes", {}).get("name") == name]
            actions = {e.get("Action") for e in mine}
            if not {"create", "start", "die", "destroy"} <= actions:
                problems.append(f"the student's own container's events are missing: {sorted(map(str, actions))}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


# --- network --------------------------------------------------------------------------------------------


def host_bridge_addresses() -> dict[str, list[str]]:
    """{interface: [IPv4 addresses]} of the host's docker0 and br-* interfaces."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        match = re.match(r"^\d+:\s+(\S+)\s+inet\s+([\d.]+)/\d+", line)
        if match and (match.group(1) == "docker0" or match.group(1).startswith("br-")):
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def bridge_of(network: dict) -> str:
    return (network.get("Options") or {}).get("com.docker.network.bridge.name") or "br-" + network["Id"][:12]


def _gateways(network: dict) -> list[str]:
    return [c["Gateway"] for c in (network.get("IPAM") or {}).get("Config") or [] if c.get("Gateway")]


def _subnets(network: dict) -> list[ipaddress.IPv4Network]:
    return [
        ipaddress.ip_network(c["Subnet"])
        for c in (network.get("IPAM") or {}).get("Config") or []
        if c.get("Subnet") and ":" not in c["Subnet"]
    ]


def _default_gateways(routes: str) -> list[str]:
    return re.findall(r"^default via ([\d.]+)", routes, flags=re.M)


def _all_host_ipv4() -> set[str]:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split()[3].split("/")[0] for line in out.splitlines() if " inet " in f" {line} "}


def _routes_leaving(routes: str, subnets: list) -> list[str]:
    """Routes that could carry a packet off the session's subnets: to another network, or through
    a gateway that some interface of this machine holds. (Docker 20.10 still gives containers on an
    internal network a default route; with inhibit_ipv4 its gateway address is held by nobody, so
    it leads nowhere; the connection tests prove it.)"""
    host = _all_host_ipv4()
    bad = []
    for line in routes.splitlines():
        line = line.strip()
        if not line:
            continue
        words = line.split()
        if "via" in words:
            gateway = words[words.index("via") + 1]
            if gateway in host:
                bad.append(f"{line} (the gateway {gateway} is an address of the host)")
            continue
        try:
            net = ipaddress.ip_network(words[0], strict=False)
        except ValueError:
            bad.append(line)
            continue
        if not any(net.subnet_of(s) for s in subnets):
            bad.append(line)
    return bad


class SessionNetworks:
    """The session's networks (its default one and one the student made) and the addresses of
    this machine the lab may try."""

    def __init__(self, lab, scratch):
        api = engine_view.engine().api
        self.student_network = scratch.name("leaknet")
        lab.ok(f"docker network create {self.student_network}")
        self.networks = [
            api.inspect_network(n["Id"]) for n in api.networks(filters={"label": f"org.berth.session={lab.session_id}"})
        ]
        assert len(self.networks) >= 2, [n["Name"] for n in self.networks]
        self.gateways = {g for n in self.networks for g in _gateways(n)}
        self.host_addresses = {a for addrs in host_bridge_addresses().values() for a in addrs}
        # addresses of this machine, and of the session's own bridges: nothing else is ever tried
        self.allowed = self.host_addresses | self.gateways
        self.subnets = [s for n in self.networks for s in _subnets(n)]


@pytest.fixture
def session_networks(docker_lab, scratch):
    return SessionNetworks(docker_lab, scratch)


def test_nothing_on_the_host_answers_the_lab_or_its_containers(docker_lab, scratch, session_networks, tcp_listener):
    nets = session_networks
    port = tcp_listener.port
    problems = []

    # from the lab shell (bash /dev/tcp), to every bridge address and the lab's default gateway
    lab_targets = set(nets.allowed) | {g for g in _default_gateways(docker_lab.ok("ip route")) if g in nets.allowed}
    out = docker_lab.sh(
        f"for ip in {' '.join(sorted(lab_targets))}; do "
        f'timeout 3 bash -c "exec 3<>/dev/tcp/$ip/{port}" 2>/dev/null && echo CONNECTED $ip; done; true',
        timeout=10 + 4 * len(lab_targets),
    ).output.decode(errors="replace")
    problems += [f"lab shell: {line}" for line in out.splitlines() if line.startswith("CONNECTED")]

    # from student containers (busybox nc), on the session's default network and on the student's
    for network in ("", nets.student_network):
        flag = f"--network {network} " if network else ""
        where = f"student container on {network or 'the default network'}"
        routes = docker_lab.ok(f"docker run --rm {flag}busybox ip route", timeout=30)
        targets = set(nets.allowed)
        for gw in _default_gateways(routes):
            if gw in nets.allowed:
                targets.add(gw)
            else:
                problems.append(f"{where}: default gateway {gw} is not an address of this machine (not tried)")
        script = (
            f"for ip in {' '.join(sorted(targets))}; do "
            f"if timeout 3 nc -w 2 $ip {port} </dev/null >/dev/null 2>&1; then echo CONNECTED $ip; fi; done; true"
        )
        out = docker_lab.ok(f"docker run --rm {flag}busybox sh -c '{script}'", timeout=30 + 4 * len(targets))
        problems += [f"{where}: {line}" for line in out.splitlines() if line.startswith("CONNECTED")]

    if tcp_listener.accepted:
        problems.append(f"the host's listener on 0.0.0.0:{port} accepted {tcp_listener.accepted}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_session_bridges_have_no_address_on_the_host(docker_lab, scratch, session_networks):
    problems = []
    for network in session_networks.networks:
        dev = bridge_of(network)
        shown = subprocess.run(["ip", "-4", "addr", "show", "dev", dev], capture_output=True, text=True).stdout
        inet = re.findall(r"inet ([\d./]+)", shown)
        if inet:
            problems.append(f"network {network['Name']}: its bridge {dev} has host address(es) {inet}")
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_student_containers_have_no_route_to_the_host(docker_lab, scratch, session_networks):
    problems = []
    for network in ("", session_networks.student_network):
        flag = f"--network {network} " if network else ""
        routes = docker_lab.ok(f"docker run --rm {flag}busybox ip route", timeout=30)
        where = f"student container on {network or 'the default network'}"
        problems += [f"{where}: {r}" for r in _routes_leaving(routes, session_networks.subnets)]
    problems += engine_view.problems(docker_lab, scratch.since)
    assert not problems, "\n".join(problems)


def test_the_host_firewall_drops_what_comes_in_on_a_lab_bridge(docker_lab, scratch, session_networks):
    """Defence in depth for a hand-made frame (containers keep NET_RAW): every session bridge is a
    `bth*` interface, and the host's INPUT chain drops whatever arrives on one."""
    problems = []
    for network in session_networks.networks:
        bridge = (network.get("Options") or {}).get("com.docker.network.bridge.name", "")
        if not bridge.startswith("bth"):
            problems.append(f"network {network['Name']} is on bridge {bridge!r}, not a bth* one")
        elif subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0:
            problems.append(f"bridge {bridge} of {network['Name']} does not exist on the host")
    rule = subprocess.run(["iptables", "-C", "INPUT", "-i", "bth+", "-j", "DROP"], capture_output=True)
    if rule.returncode != 0:
        problems.append("the host's INPUT chain has no DROP rule for bth+ interfaces")
    assert not problems, "\n".join(problems)
    scratch.assert_clean()
