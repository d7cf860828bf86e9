"""A private world per session: how the names a student uses map to names on the host, and back.

Pure functions and one small class (`Names`), no I/O, so every rule is unit-tested.

On the host every object a session makes lives under its prefix `P` (policy "prefix", e.g.
`berth-0123456789ab`):

    container  web            <->  P-web
    network    appnet         <->  P-appnet          (and "bridge"/"default" <-> the lab network)
    volume     data           <->  P-data            (anonymous volumes keep their hex names)
    image      myapp:1        <->  p/myapp:1         (a repository namespace; lowercase)

The platform's base images (policy "base_images") keep their own names and are visible to all.
A name the session did not make is simply not there: lookups answer "No such ...".
Everything shown back to the student goes through the `*_out` functions, which map names back and
hide the platform's own labels (org.berth.*).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from labs.runtime.labels import (  # noqa: F401 - the vocabulary, shared with labs.runtime
    KIND_LAB,
    KIND_STUDENT,
    LABEL_BUILD_STAGE,
    LABEL_CGROUP,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_LAB,
    LABEL_NETWORK,
    LABEL_PLATFORM_IMAGE,
    LABEL_PREFIX,
    LABEL_SESSION,
    LABEL_USER,
    NETWORK_OPTION_BRIDGE_NAME,
    NETWORK_OPTION_INHIBIT_IPV4,
)

# Labels the gateway keeps on what it creates, to show the student what they asked for.
LABEL_PORTS = "org.berth.ports"  # the host port bindings asked for (JSON), served by forwarders in the lab
LABEL_RESTART = "org.berth.restart"  # the restart policy asked for (JSON), when it was capped
LABEL_BINDS = "org.berth.binds"  # {host source: source the student gave} (JSON)
LABEL_INTERNAL = "org.berth.internal"  # a network's "internal" as asked ("true"/"false"); it is always internal


PLATFORM_NETWORK_OPTIONS = frozenset({NETWORK_OPTION_INHIBIT_IPV4, NETWORK_OPTION_BRIDGE_NAME})

# Docker's own grammar for container, network and volume names.
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
HEX_RE = re.compile(r"^[0-9a-f]{1,64}$")
# Image references (distribution/reference, simplified: lowercase path components and a tag).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
PATH_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")


class BadName(ValueError):
    """A name or reference Docker itself would reject (HTTP 400)."""


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference. `domain` is "" for Docker Hub (the familiar form)."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def familiar(self) -> str:
        """`path:tag` (or `path@digest`), the way `docker images` shows it, without docker.io/library."""
        base = f"{self.domain}/{self.path}" if self.domain else self.path
        if self.digest:
            return f"{base}@{self.digest}"
        return f"{base}:{self.tag or 'latest'}"

    @property
    def repo(self) -> str:
        return f"{self.domain}/{self.path}" if self.domain else self.path


def parse_image_ref(ref: str) -> ImageRef:
    """Parse `[domain/]path[:tag][@digest]` the way Docker does (docker.io and library/ folded away)."""
    if not ref or ref != ref.strip() or len(ref) > 512:
        raise BadName(f"invalid reference format: {ref!r}")
    name, _, digest = ref.partition("@")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
        if not TAG_RE.match(tag):
            raise BadName(f"invalid reference format: {ref!r}")
    parts = name.split("/")
    domain = ""
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        domain, parts = parts[0], parts[1:]
    if domain in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        domain = ""
    path = "/".join(parts)
    if not domain and path.startswith("library/") and path.count("/") == 1:
        path = path[len("library/") :]
    if not PATH_RE.match(path):
        if path.lower() != path and PATH_RE.match(path.lower()):
            raise BadName(f"invalid reference format: repository name must be lowercase ({ref})")
        raise BadName(f"invalid reference format: {ref!r}")
    if digest and not DIGEST_RE.match(digest):
        raise BadName(f"invalid reference format: {ref!r}")
    return ImageRef(domain=domain, path=path, tag=tag, digest=digest or None)


def looks_like_id(ref: str) -> bool:
    ref = ref.removeprefix("sha256:")
    return bool(HEX_RE.match(ref))


_ADJECTIVES = (
    "amber",
    "brave",
    "calm",
    "clever",
    "eager",
    "fancy",
    "gentle",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "merry",
    "nifty",
    "proud",
    "quiet",
    "rapid",
    "sharp",
    "sunny",
    "tidy",
    "vivid",
    "witty",
    "zen",
)
_NOUNS = (
    "babbage",
    "curie",
    "darwin",
    "euler",
    "fermi",
    "gauss",
    "hopper",
    "hypatia",
    "kepler",
    "lamarr",
    "lovelace",
    "noether",
    "pascal",
    "ritchie",
    "shannon",
    "thompson",
    "turing",
    "wozniak",
    "yonath",
)


def random_name(rng: random.Random | None = None) -> str:
    """A Docker-style name (`eager_turing`) for a container the student did not name."""
    rng = rng or random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}_{rng.choice(_NOUNS)}{rng.randint(0, 99)}"


def strip_labels(labels: dict | None) -> dict | None:
    """The labels the student may see: the platform's own org.berth.* are hidden."""
    if labels is None:
        return None
    return {k: v for k, v in labels.items() if not k.startswith(LABEL_PREFIX)}


def json_label(labels: dict | None, key: str, default=None):
    try:
        return json.loads((labels or {}).get(key) or "null") or default
    except ValueError:
        return default


class Names:
    """The name mapping of one session (built from its policy.json)."""

    def __init__(
        self,
        *,
        prefix: str,
        lab_network: str,
        base_images: list[str] | tuple[str, ...],
        session_id: str = "",
        lab_container: str = "",
    ):
        self.prefix = prefix
        self.ns = prefix.lower()  # image repository namespace
        self.lab_network = lab_network
        self.lab_container = lab_container
        self.session_id = session_id
        self.base: set[str] = set()
        for ref in base_images:
            try:
                self.base.add(parse_image_ref(ref).familiar)
            except BadName:
                continue

    # --- containers, networks, volumes ---------------------------------------------------------
    def _host(self, name: str, what: str) -> str:
        name = name.lstrip("/")
        if not NAME_RE.match(name):
            raise BadName(f"Invalid {what} name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        return f"{self.prefix}-{name}"

    def _student(self, host_name: str | None) -> str | None:
        if not host_name:
            return None
        name = host_name.lstrip("/")
        if name.startswith(self.prefix + "-") and len(name) > len(self.prefix) + 1:
            return name[len(self.prefix) + 1 :]
        return None

    def container_host(self, name: str) -> str:
        return self._host(name, "container")

    def container_student(self, host_name: str | None) -> str | None:
        return self._student(host_name)

    def network_host(self, name: str) -> str:
        if name in ("bridge", "default"):
            return self.lab_network
        return self._host(name, "network")

    def network_student(self, host_name: str | None) -> str | None:
        if host_name == self.lab_network:
            return "bridge"
        if host_name in ("none", "host"):
            return host_name
        return self._student(host_name)

    def volume_host(self, name: str) -> str:
        if HEX_RE.match(name) and len(name) == 64:
            return name  # an anonymous volume: its name is its id
        return self._host(name, "volume")

    def volume_student(self, host_name: str | None) -> str | None:
        if host_name and HEX_RE.match(host_name) and len(host_name) == 64:
            return host_name
        return self._student(host_name)

    # --- images -------------------------------------------------------------------------------
    def image_host(self, ref: ImageRef) -> str:
        """The session's own repository for a student reference (`myapp:1` -> `p/myapp:1`)."""
        if ref.domain:
            raise BadName(
                f"image names with a registry ({ref.domain}) are not available in this lab; name your image without one"
            )
        if ref.digest:
            return f"{self.ns}/{ref.path}@{ref.digest}"
        return f"{self.ns}/{ref.path}:{ref.tag or 'latest'}"

    def image_repo_host(self, ref: ImageRef) -> str:
        if ref.domain:
            raise BadName(
                f"image names with a registry ({ref.domain}) are not available in this lab; name your image without one"
            )
        return f"{self.ns}/{ref.path}"

    def is_base(self, ref: ImageRef) -> bool:
        return not ref.digest and ref.familiar in self.base

    def is_base_tag(self, host_tag: str) -> bool:
        try:
            return parse_image_ref(host_tag).familiar in self.base
        except BadName:
            return False

    def image_student(self, host_ref: str | None) -> str | None:
        """The name a student sees for a host tag; None when it is neither theirs nor a base image."""
        if not host_ref or host_ref in ("<none>:<none>", "<none>@<none>"):
            return None
        if host_ref.startswith(self.ns + "/"):
            return host_ref[len(self.ns) + 1 :]
        if self.is_base_tag(host_ref):
            try:
                return parse_image_ref(host_ref).familiar
            except BadName:
                return None
        return None

    def own_tag(self, host_ref: str) -> bool:
        return host_ref.startswith(self.ns + "/")

    def image_visible(self, image: dict) -> bool:
        """Base images, images tagged under the session, and the session's untagged build layers."""
        tags = [t for t in (image.get("RepoTags") or []) if t and t != "<none>:<none>"]
        if tags:
            return any(self.own_tag(t) or self.is_base_tag(t) for t in tags)
        labels = image.get("Labels") or (image.get("Config") or {}).get("Labels") or {}
        return bool(self.session_id) and labels.get(LABEL_SESSION) == self.session_id

    def image_tags_out(self, tags: list[str] | None) -> list[str]:
        """Host tags -> the tags the student sees; a session tag hides the base tag of the same name."""
        out: list[str] = []
        for tag in tags or []:
            name = self.image_student(tag)
            if name and name not in out:
                out.append(name)
        return out

    # --- text ---------------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """Host names -> student names in free text (engine messages, build output)."""
        if not text:
            return text
        if self.lab_network:
            text = text.replace(self.lab_network, "bridge")
        text = text.replace(self.ns + "/", "").replace(self.prefix + "-", "")
        if self.ns != self.prefix:
            text = text.replace(self.prefix + "-", "")
        return text

    # --- objects out ------------------------------------------------------------------------------
    def ports_out(self, labels: dict | None) -> dict:
        return json_label(labels, LABEL_PORTS, {}) or {}

    def binds_out(self, labels: dict | None) -> dict:
        return json_label(labels, LABEL_BINDS, {}) or {}

    def _bind_source_out(self, source: str, binds: dict) -> str:
        return binds.get(source, source)

    def container_summary_out(self, item: dict) -> dict:
        """One entry of GET /containers/json, as the student sees it."""
        labels = item.get("Labels") or {}
        binds = self.binds_out(labels)
        ports = self.ports_out(labels)
        names = []
        for name in item.get("Names") or []:
            parts = [p for p in name.split("/") if p]
            mapped = [self.container_student(p) or p for p in parts]
            names.append("/" + "/".join(mapped))
        out = dict(item)
        out["Names"] = names
        out["Image"] = self.image_out(item.get("Image", ""))
        out["Labels"] = strip_labels(labels)
        out["Ports"] = _summary_ports(item.get("Ports") or [], ports if item.get("State") == "running" else {})
        host_config = dict(item.get("HostConfig") or {})
        if "NetworkMode" in host_config:
            host_config["NetworkMode"] = self.network_mode_out(host_config["NetworkMode"])
        out["HostConfig"] = host_config
        settings = dict(item.get("NetworkSettings") or {})
        if settings.get("Networks"):
            settings["Networks"] = {self.network_student(k) or k: v for k, v in settings["Networks"].items()}
        out["NetworkSettings"] = settings
        out["Mounts"] = [self._mount_out(m, binds) for m in item.get("Mounts") or []]
        return out

    def image_out(self, ref: str) -> str:
        if not ref or ref.startswith("sha256:"):
            return ref
        return self.image_student(ref) or (ref[len(self.ns) + 1 :] if ref.startswith(self.ns + "/") else ref)

    def network_mode_out(self, mode: str) -> str:
        if mode == self.lab_network:
            return "default"
        if mode.startswith("container:"):
            return mode
        return self.network_student(mode) or mode

    def _mount_out(self, mount: dict, binds: dict) -> dict:
        mount = dict(mount)
        if mount.get("Type") == "bind" and mount.get("Source"):
            mount["Source"] = self._bind_source_out(mount["Source"], binds)
        if mount.get("Type") == "volume" and mount.get("Name"):
            mount["Name"] = self.volume_student(mount["Name"]) or mount["Name"]
        return mount

    def container_inspect_out(self, data: dict) -> dict:
        """GET /containers/{id}/json as the student sees it."""
        out = dict(data)
        config = dict(data.get("Config") or {})
        labels = config.get("Labels") or {}
        binds = self.binds_out(labels)
        ports = self.ports_out(labels)
        out["Name"] = "/" + (self.container_student(data.get("Name")) or data.get("Name", "").lstrip("/"))
        if "Image" in config:
            config["Image"] = self.image_out(config.get("Image") or "")
        config["Labels"] = strip_labels(labels)
        out["Config"] = config
        host = dict(data.get("HostConfig") or {})
        host["PortBindings"] = ports or host.get("PortBindings") or {}
        restart = json_label(labels, LABEL_RESTART)
        if restart:
            host["RestartPolicy"] = restart
        host["CgroupParent"] = ""
        if host.get("Binds"):
            host["Binds"] = [self._bind_spec_out(b, binds) for b in host["Binds"]]
        if host.get("Mounts"):
            host["Mounts"] = [self._mount_spec_out(m, binds) for m in host["Mounts"]]
        if "NetworkMode" in host:
            host["NetworkMode"] = self.network_mode_out(host["NetworkMode"])
        if host.get("Links"):
            host["Links"] = [self.scrub(link) for link in host["Links"]]
        out["HostConfig"] = host
        settings = dict(data.get("NetworkSettings") or {})
        if ports:
            settings["Ports"] = _inspect_ports(settings.get("Ports") or {}, ports)
        if settings.get("Networks"):
            nets = {}
            for key, value in settings["Networks"].items():
                value = dict(value or {})
                if value.get("Aliases"):
                    value["Aliases"] = [self.scrub(a) for a in value["Aliases"]]
                if value.get("Links"):
                    value["Links"] = [self.scrub(a) for a in value["Links"]]
                nets[self.network_student(key) or key] = value
            settings["Networks"] = nets
        out["NetworkSettings"] = settings
        out["Mounts"] = [self._mount_out(m, binds) for m in data.get("Mounts") or []]
        return out

    def _bind_spec_out(self, spec: str, binds: dict) -> str:
        source, sep, rest = spec.partition(":")
        if source.startswith("/"):
            return self._bind_source_out(source, binds) + sep + rest
        return (self.volume_student(source) or source) + sep + rest

    def _mount_spec_out(self, mount: dict, binds: dict) -> dict:
        mount = dict(mount)
        if mount.get("Type") == "bind" and mount.get("Source"):
            mount["Source"] = self._bind_source_out(mount["Source"], binds)
        elif mount.get("Type") == "volume" and mount.get("Source"):
            mount["Source"] = self.volume_student(mount["Source"]) or mount["Source"]
        if isinstance(mount.get("VolumeOptions"), dict) and mount["VolumeOptions"].get("Labels"):
            mount["VolumeOptions"] = {
                **mount["VolumeOptions"],
                "Labels": strip_labels(mount["VolumeOptions"]["Labels"]),
            }
        return mount

    def image_summary_out(self, item: dict) -> dict | None:
        if not self.image_visible(item):
            return None
        out = dict(item)
        raw = item.get("RepoTags") or []
        tags = [t for t in raw if t and t != "<none>:<none>"]  # the engine's way of saying "untagged"
        mapped = self.image_tags_out(tags)
        if tags and not mapped:
            return None
        out["RepoTags"] = mapped or (["<none>:<none>"] if raw else [])
        out["RepoDigests"] = []  # images here are built locally; digests would name the host's repositories
        out["Labels"] = strip_labels(item.get("Labels"))
        return out

    def image_inspect_out(self, data: dict) -> dict:
        out = dict(data)
        out["RepoTags"] = self.image_tags_out(data.get("RepoTags"))
        out["RepoDigests"] = []
        for key in ("Config", "ContainerConfig"):
            if isinstance(data.get(key), dict):
                conf = dict(data[key])
                conf["Labels"] = strip_labels(conf.get("Labels"))
                if conf.get("Image"):
                    conf["Image"] = self.image_out(conf["Image"])
                out[key] = conf
        if out.get("Container"):
            out["Container"] = ""
        return out

    def network_out(self, data: dict) -> dict:
        out = dict(data)
        out["Name"] = self.network_student(data.get("Name")) or data.get("Name")
        labels = data.get("Labels") or {}
        if data.get("Name") == self.lab_network:
            out["Internal"] = False
        elif LABEL_INTERNAL in labels:
            out["Internal"] = labels[LABEL_INTERNAL] == "true"
        out["Labels"] = strip_labels(labels) or {}
        # The isolation options are the platform's (like its labels): Compose compares a network's
        # options with its file's and would ask to recreate it.
        if isinstance(data.get("Options"), dict):
            out["Options"] = {k: v for k, v in data["Options"].items() if k not in PLATFORM_NETWORK_OPTIONS}
        if isinstance(data.get("Containers"), dict):
            containers = {}
            for cid, value in data["Containers"].items():
                name = self.container_student((value or {}).get("Name"))
                if name is None:
                    continue  # the lab container and anything that is not the session's
                containers[cid] = {**value, "Name": name}
            out["Containers"] = containers
        return out

    def volume_out(self, data: dict) -> dict:
        out = dict(data)
        out["Name"] = self.volume_student(data.get("Name")) or data.get("Name")
        out["Labels"] = strip_labels(data.get("Labels")) or None
        return out

    def event_out(self, event: dict) -> dict:
        event = dict(event)
        actor = dict(event.get("Actor") or {})
        attrs = {k: v for k, v in (actor.get("Attributes") or {}).items() if not k.startswith(LABEL_PREFIX)}
        for key in ("name", "image", "container"):
            if key in attrs and isinstance(attrs[key], str):
                attrs[key] = self.scrub(attrs[key])
        actor["Attributes"] = attrs
        event["Actor"] = actor
        for key in ("from", "status"):
            if isinstance(event.get(key), str):
                event[key] = self.scrub(event[key])
        if isinstance(event.get("id"), str) and not looks_like_id(event["id"]):
            event["id"] = self.scrub(event["id"])
        return event


def _summary_ports(engine_ports: list, asked: dict) -> list:
    """The Ports column of `docker ps`: what the student asked to publish, plus exposed ports."""
    out = []
    published = set()
    for key, bindings in (asked or {}).items():
        port, _, proto = key.partition("/")
        for binding in bindings or []:
            if not str(binding.get("HostPort") or "").isdigit():
                continue
            out.append(
                {
                    "IP": binding.get("HostIp") or "0.0.0.0",  # noqa: S104 - shown, not bound
                    "PrivatePort": int(port),
                    "PublicPort": int(binding["HostPort"]),
                    "Type": proto or "tcp",
                }
            )
            published.add((int(port), proto or "tcp"))
    for entry in engine_ports:
        if (entry.get("PrivatePort"), entry.get("Type")) not in published:
            out.append({k: v for k, v in entry.items() if k not in ("IP", "PublicPort")})
    return out


def _inspect_ports(engine_ports: dict, asked: dict) -> dict:
    out = dict(engine_ports)
    for key, bindings in (asked or {}).items():
        out[key] = [
            {"HostIp": b.get("HostIp") or "0.0.0.0", "HostPort": str(b.get("HostPort") or "")}  # noqa: S104
            for b in bindings or []
        ]
    return out
