"""The one vocabulary Berth writes on the Docker engine: labels, kinds, names, and the API version.

The runtime (lab containers, their networks and cgroups), the gateway (what students make through
their lab's Docker API) and the image builder all spell these from here, so the reconciler, the
gateway's ownership checks and the teardown agree on what belongs to whom.
"""

from __future__ import annotations

import hashlib

ENGINE_API_VERSION = "1.41"  # the one Engine API version Berth speaks to engines (Docker 20.10+)
GATEWAY_API_VERSION = ENGINE_API_VERSION  # ... and the one the gateway serves to students

LABEL_PREFIX = "org.berth."
LABEL_INSTANCE = "org.berth.instance"  # which Berth installation made it
LABEL_KIND = "org.berth.kind"  # KIND_* below
LABEL_SESSION = "org.berth.session"  # the LabSession id
LABEL_USER = "org.berth.user"  # the student's user id
LABEL_LAB = "org.berth.lab"  # "<course slug>/<lab slug>"
LABEL_CGROUP = "org.berth.cgroup-parent"  # a lab container's cgroup parent (its budget)
LABEL_NETWORK = "org.berth.network"  # a lab container's private network
LABEL_PLATFORM_IMAGE = "org.berth.platform-image"  # "1" on images the platform built
LABEL_BUILD_STAGE = "org.berth.build-stage"

KIND_LAB = "lab"  # the student's lab container
KIND_LAB_NETWORK = "lab-network"  # its private network
KIND_STUDENT = "student"  # anything a student made through the gateway

# Options every Berth network carries: internal (no route off the machine) and, with
# inhibit_ipv4, no address of the host's on the bridge, so nothing on the host answers a lab.
NETWORK_OPTION_INHIBIT_IPV4 = "com.docker.network.bridge.inhibit_ipv4"
NETWORK_OPTION_BRIDGE_NAME = "com.docker.network.bridge.name"
NETWORK_OPTION_MTU = "com.docker.network.driver.mtu"
# Their bridges are named BRIDGE_PREFIX + a hash of the network's name, so the host's firewall can
# drop whatever reaches the host through them (labs.gateway.hostnet), even a hand-made frame.
BRIDGE_PREFIX = "bth"


def bridge_name(network_name: str) -> str:
    return BRIDGE_PREFIX + hashlib.sha256(network_name.encode()).hexdigest()[:12]  # 15 bytes, the kernel's most


def isolated_network_options(network_name: str) -> dict[str, str]:
    return {NETWORK_OPTION_INHIBIT_IPV4: "true", NETWORK_OPTION_BRIDGE_NAME: bridge_name(network_name)}


def session_prefix(instance: str, session_hex: str) -> str:
    """Every name a session's student makes lives under this prefix on the host (`P-web`)."""
    return f"{instance}-{session_hex[:12]}"


def session_labels(*, instance: str, session_id: str, user_id: str, lab: str, kind: str) -> dict[str, str]:
    return {
        LABEL_INSTANCE: instance,
        LABEL_KIND: kind,
        LABEL_SESSION: session_id,
        LABEL_USER: user_id,
        LABEL_LAB: lab,
    }
