"""The host's firewall for lab networks: nothing reaches the Docker host through a lab's bridge.

Lab networks are internal and hold no host address (inhibit_ipv4), so an ordinary connection
from a lab to the host has nowhere to go. A hand-made frame could still name the host's other
addresses (containers have NET_RAW by Docker's default and the kernel accepts a packet for any
of its addresses on any interface), so the gateway, which runs as root on the Docker host, makes
sure the INPUT chain drops everything arriving on a Berth bridge (`BRIDGE_PREFIX*`, see
labs.runtime.labels). Containers still talk to each other: bridged traffic between them never
enters the host's INPUT chain.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

from labs.runtime.labels import BRIDGE_PREFIX

log = logging.getLogger("labs.gateway")

RULE = ["INPUT", "-i", f"{BRIDGE_PREFIX}+", "-j", "DROP"]


def ensure_input_drop() -> list[str]:
    """Insert the rule for IPv4 and IPv6 where missing; returns the tools that hold it."""
    held = []
    for tool in ("iptables", "ip6tables"):
        path = shutil.which(tool)
        if path is None:
            log.warning("%s is missing: traffic from lab bridges to this host is not firewalled", tool)
            continue
        try:
            if subprocess.run([path, "-C", *RULE], capture_output=True, timeout=10).returncode != 0:
                subprocess.run([path, "-I", *RULE[:1], "1", *RULE[1:]], capture_output=True, timeout=10, check=True)
            held.append(tool)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s: cannot firewall lab bridges: %s", tool, exc)
    return held
