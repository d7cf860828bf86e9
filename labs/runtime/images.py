"""Berth's platform images: which exist, in which order they build, and the builder.

Every image students and labs use is made on the Docker host itself; no registry is assumed.
The recipes live in ``labs/images/<name>/`` (see ``labs/images/README.md``): an ``image.yaml``
naming the tags, and a ``Dockerfile`` (or, for the Debian base, ``mkrootfs.sh``). Build order
comes from the Dockerfiles' ``FROM`` lines.

    from labs.runtime import images

    images.IMAGE_SPECS        # every image, in build order
    images.ALLOWED_IMAGES     # every tag built here (the platform's image allowlist default)
    results = images.build_all(progress=lambda step, done, total: ..., log=print)
    images.check_images()     # what build_all would do, without doing it

"Up to date" means: the image exists and its label ``org.berth.context-hash`` equals the sha256
of its recipe (every file of the folder, host files copied in, and the ids of the images it is
built FROM). Editing a Dockerfile therefore rebuilds that image and every image built on it.
Every image carries ``org.berth.platform-image=1``.

The two base images are made only when missing and not pullable: ``debian:bookworm-slim``
(``debian:12``) from a debootstrap rootfs (cached under ``var/cache/lab-images/``), and
``busybox:1.35`` (``busybox:latest``) from the host's busybox-static binary. A base image that
is already present without Berth's labels (pulled by someone, say) is adopted as it is.

Environment (read at call time):
    BERTH_DEBIAN_MIRROR            Debian mirror for debootstrap and the image's sources.list
                                   (default http://deb.debian.org/debian)
    BERTH_DEBIAN_SECURITY_MIRROR   security mirror (default http://deb.debian.org/debian-security;
                                   empty: no security suite in sources.list)
    BERTH_IMAGE_CACHE_DIR          rootfs tarball cache (default $BERTH_STATE_DIR/cache/lab-images,
                                   or var/cache/lab-images in the repository)
    BERTH_IMAGE_PULL_TIMEOUT       seconds to try a registry pull for a missing base image
                                   (default 20; 0 never pulls)
    BERTH_IMAGE_BUILD_NETWORK      network mode for RUN steps (default: the engine's bridge;
                                   "host" where bridge networking is broken)

This module is the only part of the image code that talks to Docker (docker-py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docker
import docker.errors
import requests
import yaml

logger = logging.getLogger(__name__)

IMAGES_DIR = Path(__file__).resolve().parents[1] / "images"
REPO_DIR = Path(__file__).resolve().parents[2]

LABEL_PLATFORM = "org.berth.platform-image"
LABEL_HASH = "org.berth.context-hash"
LABEL_NAME = "org.berth.image-name"
LABEL_SOURCE = "org.berth.image-source"  # dockerfile | debootstrap | adopted
# Put on the intermediate stages of multi-stage Dockerfiles: the builder removes them afterwards
# (otherwise they stay behind as untagged images that still carry their parent's labels).
LABEL_STAGE = "org.berth.build-stage"

# Bump to rebuild everything after a change in how images are built (not what they contain).
HASH_VERSION = "1"

DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"
DEFAULT_PULL_TIMEOUT = 20.0
CLIENT_TIMEOUT = 900  # seconds a build step may stay silent (apt-get on a slow mirror)
LOG_TAIL_LINES = 40

BuildStatus = Literal["built", "adopted", "up-to-date"]
Progress = Callable[[str, int, int], None]
Log = Callable[[str], None]

_SPEC_KEYS = {"tags", "description", "source", "pull", "host_files", "debootstrap"}
_FROM_RE = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?P<ref>\S+)(?:\s+AS\s+(?P<stage>\S+))?\s*$", re.IGNORECASE)
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


# -- errors ------------------------------------------------------------------------------------


class ImageError(Exception):
    """Base of the errors this module raises."""


class ImageSpecError(ImageError):
    """A recipe under labs/images/ is invalid (the message names the file)."""


class EngineUnavailable(ImageError):
    """The Docker engine did not answer."""


class ImageBuildError(ImageError):
    """Making one image failed. ``output_tail`` holds the last lines of the failing step."""

    def __init__(self, image: str, message: str, output_tail: Sequence[str] = ()):
        self.image = image
        self.message = message
        self.output_tail = list(output_tail)
        super().__init__(image, message)

    def __str__(self) -> str:
        text = f"building {self.image} failed: {self.message}"
        if self.output_tail:
            text += "\n--- last output ---\n" + "\n".join(self.output_tail)
        return text


# -- recipes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSpec:
    """One image recipe: the folder ``labs/images/<name>/`` and what its image.yaml declares."""

    name: str  # the folder name
    tags: tuple[str, ...]  # the first is the primary tag
    directory: Path
    description: str = ""
    source: Literal["dockerfile", "debootstrap"] = "dockerfile"
    parents: tuple[str, ...] = ()  # tags this image is built FROM (other specs' tags)
    pull: bool = False  # base image: try a registry pull before making it
    host_files: tuple[tuple[str, str], ...] = ()  # (name in the context, host path)
    debootstrap: tuple[tuple[str, str], ...] = ()  # (key, value): suite, variant

    @property
    def tag(self) -> str:
        return self.tags[0]


@dataclass(frozen=True)
class BuildResult:
    """What build_all did for one image."""

    name: str
    tags: tuple[str, ...]
    status: BuildStatus  # built | adopted (present or pulled, labelled as is) | up-to-date
    image_id: str
    context_hash: str
    seconds: float
    size: int = 0  # bytes, as `docker images` shows

    @property
    def changed(self) -> bool:
        return self.status != "up-to-date"


@dataclass(frozen=True)
class ImageState:
    """What check_images found for one image: up-to-date | missing | stale | foreign."""

    name: str
    tags: tuple[str, ...]
    state: Literal["up-to-date", "missing", "stale", "foreign"]
    image_id: str | None = None
    detail: str = ""


def _normalize_ref(ref: str) -> str:
    ref = ref.removeprefix("docker.io/library/").removeprefix("docker.io/")
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last or "@" in last else f"{ref}:latest"


def _load_spec(directory: Path) -> tuple[ImageSpec, list[str]]:
    meta_path = directory / "image.yaml"
    try:
        meta = yaml.safe_load(meta_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ImageSpecError(f"{meta_path}: {exc}") from exc
    if not isinstance(meta, dict):
        raise ImageSpecError(f"{meta_path}: expected a mapping")
    unknown = set(meta) - _SPEC_KEYS
    if unknown:
        raise ImageSpecError(f"{meta_path}: unknown keys {sorted(unknown)}; known: {sorted(_SPEC_KEYS)}")
    tags = meta.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and _TAG_RE.match(t) for t in tags):
        raise ImageSpecError(f"{meta_path}: tags must be a non-empty list of name:tag strings")
    source = meta.get("source", "dockerfile")
    if source not in ("dockerfile", "debootstrap"):
        raise ImageSpecError(f"{meta_path}: source must be dockerfile or debootstrap")
    host_files = meta.get("host_files") or {}
    if not isinstance(host_files, dict) or not all(
        isinstance(k, str) and "/" not in k and isinstance(v, str) and v.startswith("/") for k, v in host_files.items()
    ):
        raise ImageSpecError(f"{meta_path}: host_files maps a file name in the context to an absolute host path")
    debootstrap = meta.get("debootstrap") or {}
    if source == "debootstrap":
        if not (directory / "mkrootfs.sh").is_file():
            raise ImageSpecError(f"{directory}: a debootstrap image needs mkrootfs.sh")
        debootstrap = {"suite": "bookworm", "variant": "minbase", **debootstrap}
    elif not (directory / "Dockerfile").is_file():
        raise ImageSpecError(f"{directory}: no Dockerfile")

    parents: list[str] = []
    if source == "dockerfile":
        stages: set[str] = set()
        for line in (directory / "Dockerfile").read_text().splitlines():
            match = _FROM_RE.match(line)
            if not match:
                continue
            ref = match["ref"]
            if ref != "scratch" and ref not in stages:
                ref = _normalize_ref(ref)
                if ref not in parents:
                    parents.append(ref)
            if match["stage"]:
                stages.add(match["stage"])
    spec = ImageSpec(
        name=directory.name,
        tags=tuple(tags),
        directory=directory,
        description=str(meta.get("description", "")).strip(),
        source=source,
        parents=tuple(parents),
        pull=bool(meta.get("pull", False)),
        host_files=tuple(sorted(host_files.items())),
        debootstrap=tuple(sorted((str(k), str(v)) for k, v in debootstrap.items())),
    )
    return spec, parents


def load_specs(root: Path = IMAGES_DIR) -> tuple[ImageSpec, ...]:
    """Every recipe under ``root`` in build order (parents first, then by folder name).

    Raises ImageSpecError for an invalid image.yaml, a tag declared twice, or a FROM that names
    an image no recipe here produces (there is no registry to fall back on).
    """
    specs: dict[str, ImageSpec] = {}
    producer: dict[str, str] = {}
    for directory in sorted(p for p in root.iterdir() if p.is_dir() and (p / "image.yaml").is_file()):
        spec, _ = _load_spec(directory)
        for tag in spec.tags:
            if tag in producer:
                raise ImageSpecError(f"{directory}/image.yaml: tag {tag} is also produced by {producer[tag]}")
            producer[tag] = spec.name
        specs[spec.name] = spec
    deps: dict[str, set[str]] = {}
    for spec in specs.values():
        for ref in spec.parents:
            if ref not in producer:
                raise ImageSpecError(
                    f"{spec.directory}/Dockerfile: FROM {ref} is not built by Berth (labs/images/*/image.yaml); "
                    "no registry is assumed"
                )
        deps[spec.name] = {producer[ref] for ref in spec.parents}
    ordered: list[ImageSpec] = []
    done: set[str] = set()
    while len(ordered) < len(specs):
        ready = sorted(name for name in specs if name not in done and deps[name] <= done)
        if not ready:
            cycle = sorted(set(specs) - done)
            raise ImageSpecError(f"labs/images: FROM lines form a cycle among {cycle}")
        for name in ready:
            ordered.append(specs[name])
            done.add(name)
    return tuple(ordered)


IMAGE_SPECS: tuple[ImageSpec, ...] = load_specs()

#: Every tag this module produces, in build order. The platform's image allowlist default.
ALLOWED_IMAGES: tuple[str, ...] = tuple(tag for spec in IMAGE_SPECS for tag in spec.tags)


def _select(specs: Sequence[ImageSpec], only: Iterable[str] | None) -> list[ImageSpec]:
    """``only`` (folder names or tags) plus everything they are built FROM, in build order."""
    if only is None:
        return list(specs)
    by_key = {spec.name: spec for spec in specs} | {tag: spec for spec in specs for tag in spec.tags}
    wanted: set[str] = set()
    stack = []
    for key in only:
        if key not in by_key:
            known = ", ".join(spec.name for spec in specs)
            raise ImageSpecError(f"unknown image {key!r}; known: {known} (or any of their tags)")
        stack.append(by_key[key])
    while stack:
        spec = stack.pop()
        if spec.name not in wanted:
            wanted.add(spec.name)
            stack.extend(by_key[ref] for ref in spec.parents if ref in by_key)
    return [spec for spec in specs if spec.name in wanted]


# -- hashing -----------------------------------------------------------------------------------


def _debian_sources() -> tuple[str, str]:
    mirror = os.environ.get("BERTH_DEBIAN_MIRROR") or DEFAULT_DEBIAN_MIRROR
    security = os.environ.get("BERTH_DEBIAN_SECURITY_MIRROR", DEFAULT_SECURITY_MIRROR)
    return mirror.rstrip("/"), security.rstrip("/")


def _recipe_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", "~"))
    )


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def context_hash(spec: ImageSpec, parent_ids: Sequence[str]) -> str:
    """sha256 over the recipe: every file in the folder (path, executable bit, content), the host
    files copied into the context, the ids of the images built FROM, and for the Debian base the
    debootstrap parameters and mirrors."""
    h = hashlib.sha256()

    def put(*parts: str) -> None:
        for part in parts:
            data = part.encode()
            h.update(len(data).to_bytes(8, "big") + data)

    put("berth-image", HASH_VERSION, spec.source)
    for path in _recipe_files(spec.directory):
        mode = "x" if os.access(path, os.X_OK) else "-"
        put("file", path.relative_to(spec.directory).as_posix(), mode, _file_digest(path))
    for name, host_path in spec.host_files:
        try:
            put("host-file", name, _file_digest(Path(host_path)))
        except OSError as exc:
            raise ImageBuildError(spec.tag, f"{host_path} ({name} in the build context) is unreadable: {exc}") from exc
    for parent_id in parent_ids:
        put("parent", parent_id)
    if spec.source == "debootstrap":
        mirror, security = _debian_sources()
        put("debootstrap", *(f"{k}={v}" for k, v in spec.debootstrap), mirror, security, _host_arch())
    return h.hexdigest()


def _host_arch() -> str:
    try:
        done = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.uname().machine


# -- engine helpers ----------------------------------------------------------------------------


def client_for(base_url: str) -> docker.DockerClient:
    """A client for the engine at base_url (unix:// or tcp://), with the builder's timeout."""
    try:
        return docker.DockerClient(base_url=base_url, timeout=CLIENT_TIMEOUT)
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"no Docker engine at {base_url} ({exc})") from exc


def _client(client: docker.DockerClient | None) -> tuple[docker.DockerClient, bool]:
    """The client to use (made from the environment when None) and whether we made it."""
    owned = client is None
    try:
        if client is None:
            client = docker.from_env(timeout=CLIENT_TIMEOUT)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineUnavailable(f"no Docker engine answers ({exc}); start one with scripts/services.sh docker") from exc
    return client, owned


def _inspect(client: docker.DockerClient, ref: str) -> dict | None:
    try:
        return client.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        if exc.status_code == 404:
            return None
        raise


def _labels(info: dict | None) -> dict[str, str]:
    return ((info or {}).get("Config") or {}).get("Labels") or {}


def _tag(client: docker.DockerClient, image_id: str, tags: Iterable[str]) -> None:
    for tag in tags:
        repository, _, version = tag.rpartition(":")
        client.api.tag(image_id, repository, version, force=True)


def _labels_for(spec: ImageSpec, digest: str, source: str) -> dict[str, str]:
    return {LABEL_PLATFORM: "1", LABEL_HASH: digest, LABEL_NAME: spec.name, LABEL_SOURCE: source}


def _stage_context(spec: ImageSpec, into: Path) -> None:
    """Copy the recipe and its host files to ``into`` with normalised modes (0755 directories,
    0755/0644 files), so a checkout's umask never leaks into an image."""
    for path in _recipe_files(spec.directory):
        target = into / path.relative_to(spec.directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o755 if os.access(path, os.X_OK) else 0o644)
    for name, host_path in spec.host_files:
        try:
            shutil.copyfile(host_path, into / name)
        except OSError as exc:
            raise ImageBuildError(spec.tag, f"cannot copy {host_path} into the build context: {exc}") from exc
        (into / name).chmod(0o755)
    for directory in [into, *(p for p in into.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)


def _docker_build(
    client: docker.DockerClient,
    spec: ImageSpec,
    *,
    context: Path,
    labels: dict[str, str],
    nocache: bool,
    log: Log,
) -> str:
    """Run one classic-builder build of ``context`` and return the image id."""
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    image_id = ""
    network = os.environ.get("BERTH_IMAGE_BUILD_NETWORK") or None
    try:
        stream = client.api.build(
            path=str(context),
            tag=spec.tag,
            labels=labels,
            rm=True,
            forcerm=True,
            pull=False,
            nocache=nocache,
            decode=True,
            network_mode=network,
        )
        for chunk in stream:
            if "error" in chunk:
                detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                raise ImageBuildError(spec.tag, detail.strip(), tail)
            text = _ANSI_RE.sub("", chunk.get("stream") or chunk.get("status") or "")
            for line in text.splitlines():
                if line.strip():
                    tail.append(line)
                    log(f"[{spec.name}] {line}")
            aux = chunk.get("aux") or {}
            if aux.get("ID"):
                image_id = aux["ID"]
    except docker.errors.APIError as exc:
        raise ImageBuildError(spec.tag, exc.explanation or str(exc), tail) from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:  # hung up, timed out
        raise ImageBuildError(spec.tag, f"lost the engine during the build: {exc}", tail) from exc
    if not image_id:
        info = _inspect(client, spec.tag)
        if info is None:
            raise ImageBuildError(spec.tag, "the engine reported no image", tail)
        image_id = info["Id"]
    _remove_stage_images(client, log=log)
    return image_id


def _remove_stage_images(client: docker.DockerClient, *, log: Log) -> None:
    """Remove the untagged intermediate-stage images (labelled LABEL_STAGE) a build left."""
    try:
        leftovers = client.api.images(filters={"dangling": True, "label": LABEL_STAGE})
    except docker.errors.APIError:
        return
    for image in leftovers:
        try:
            client.api.remove_image(image["Id"])
            log(f"removed build stage image {image['Id'][:19]}")
        except docker.errors.APIError:
            pass  # in use by a build running right now: the next build removes it


def _try_pull(client: docker.DockerClient, ref: str, *, log: Log) -> str | None:
    """Pull ``ref`` within BERTH_IMAGE_PULL_TIMEOUT seconds; the image id, or None if not pullable."""
    try:
        timeout = float(os.environ.get("BERTH_IMAGE_PULL_TIMEOUT", DEFAULT_PULL_TIMEOUT))
    except ValueError:
        timeout = DEFAULT_PULL_TIMEOUT
    if timeout <= 0:
        return None
    repository, _, version = ref.rpartition(":")
    deadline = time.monotonic() + timeout
    api = client.api
    url = f"{api.base_url}/v{api.api_version}/images/create"
    log(f"trying to pull {ref} (at most {timeout:g}s)")
    try:
        # Through the client's own session (its unix-socket adapter), with a read timeout; the
        # daemon abandons the pull when we hang up.
        params = {"fromImage": repository, "tag": version}
        with api.post(url, params=params, stream=True, timeout=(timeout, timeout)) as resp:
            if resp.status_code != 200:
                log(f"pull {ref}: {resp.status_code} {resp.text.strip()[:200]}")
                return None
            for raw in resp.iter_lines():
                if time.monotonic() > deadline:
                    log(f"pull {ref}: gave up after {timeout:g}s")
                    return None
                if not raw:
                    continue
                try:
                    chunk = json.loads(raw)
                except ValueError:
                    continue
                if "error" in chunk:
                    log(f"pull {ref}: {chunk['error']}")
                    return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not pullable"
        log(f"pull {ref}: {exc}")
        return None
    info = _inspect(client, ref)
    return info["Id"] if info else None


# -- the Debian base ---------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where rootfs tarballs are kept between builds."""
    if os.environ.get("BERTH_IMAGE_CACHE_DIR"):
        return Path(os.environ["BERTH_IMAGE_CACHE_DIR"])
    state = os.environ.get("BERTH_STATE_DIR")
    return (Path(state) if state else REPO_DIR / "var") / "cache" / "lab-images"


def _rootfs_tarball(spec: ImageSpec, *, digest: str, refresh: bool, log: Log) -> Path:
    """The cached rootfs tarball for ``spec``, made with mkrootfs.sh when missing (or refresh)."""
    params = dict(spec.debootstrap)
    suite = params.get("suite", "bookworm")
    if params.get("variant", "minbase") != "minbase":
        raise ImageBuildError(spec.tag, "mkrootfs.sh makes minbase roots only")
    tarball = cache_dir() / f"{spec.name}-{suite}-{digest[:16]}.tar.gz"
    if tarball.is_file() and not refresh:
        log(f"[{spec.name}] using cached rootfs {tarball}")
        return tarball
    if os.geteuid() != 0:
        raise ImageBuildError(
            spec.tag,
            f"making the Debian rootfs needs root (debootstrap). Run build_lab_images as root once, "
            f"or put a rootfs tarball at {tarball}",
        )
    if not shutil.which("debootstrap", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
        raise ImageBuildError(spec.tag, "debootstrap is not installed: run scripts/services.sh image-tools")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    mirror, security = _debian_sources()
    cmd = [str(spec.directory / "mkrootfs.sh"), suite, str(tarball), mirror, security]
    log(f"[{spec.name}] {' '.join(cmd)}")
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    env = {**os.environ, "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin", "LC_ALL": "C"}
    proc = subprocess.Popen(
        ["sh", *cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, errors="replace"
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        if line:
            tail.append(line)
            log(f"[{spec.name}] {line}")
    if proc.wait() != 0 or not tarball.is_file():
        raise ImageBuildError(spec.tag, f"mkrootfs.sh exited with status {proc.returncode}", tail)
    # Older tarballs of the same image are superseded.
    for old in tarball.parent.glob(f"{spec.name}-{suite}-*.tar.gz"):
        if old != tarball:
            old.unlink(missing_ok=True)
    return tarball


def _import_rootfs(
    client: docker.DockerClient,
    spec: ImageSpec,
    *,
    tarball: Path,
    labels: dict[str, str],
    log: Log,
) -> str:
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        'CMD ["bash"]',
        *(f"LABEL {key}={value}" for key, value in labels.items()),
    ]
    log(f"[{spec.name}] docker import {tarball.name}")
    try:
        out = client.api.import_image(src=str(tarball), changes=changes)
    except docker.errors.APIError as exc:
        raise ImageBuildError(spec.tag, f"docker import failed: {exc.explanation or exc}") from exc
    image_id = ""
    for line in str(out).splitlines():
        try:
            chunk = json.loads(line)
        except ValueError:
            continue
        if "error" in chunk:
            raise ImageBuildError(spec.tag, f"docker import failed: {chunk['error']}")
        if str(chunk.get("status", "")).startswith("sha256:"):
            image_id = chunk["status"]
    if not image_id:
        raise ImageBuildError(spec.tag, f"docker import returned no image id: {out!r}"[:500])
    return image_id


def _adopt(client: docker.DockerClient, spec: ImageSpec, *, image_id: str, log: Log) -> tuple[str, str]:
    """Label an image we did not make (present already, or pulled) without changing its files."""
    digest = hashlib.sha256(f"adopted {image_id}".encode()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="berth-adopt-") as tmp:
        Path(tmp, "Dockerfile").write_text(f"FROM {image_id}\n")
        new_id = _docker_build(
            client, spec, context=Path(tmp), labels=_labels_for(spec, digest, "adopted"), nocache=False, log=log
        )
    return new_id, digest


# -- checking and building ---------------------------------------------------------------------


def _current(client: docker.DockerClient, spec: ImageSpec, digest: str | None) -> tuple[dict | None, dict | None]:
    """(an existing image under spec's tags with the wanted hash, else any existing image)."""
    found = None
    for tag in spec.tags:
        info = _inspect(client, tag)
        if info is None:
            continue
        found = found or info
        labels = _labels(info)
        if digest is not None and labels.get(LABEL_HASH) == digest:
            return info, info
        if spec.pull and labels.get(LABEL_SOURCE) == "adopted":
            return info, info  # adopted base images stay until forced
    return None, found


def check_images(
    *,
    client: docker.DockerClient | None = None,
    only: list[str] | None = None,
    specs: Sequence[ImageSpec] | None = None,
) -> list[ImageState]:
    """What build_all would do, image by image, without building anything.

    ``stale`` means the image exists but its recipe (or an image it is built FROM) changed;
    ``foreign`` means a base image exists without Berth's labels (build_all adopts it).
    """
    client, owned = _client(client)
    try:
        states: list[ImageState] = []
        ids: dict[str, str | None] = {}
        for spec in _select(IMAGE_SPECS if specs is None else specs, only):
            parent_ids = _parent_ids(client, spec, ids)
            if any(pid is None for pid in parent_ids):
                info = _inspect(client, spec.tag)
                state = "stale" if info else "missing"
                states.append(ImageState(spec.name, spec.tags, state, info and info["Id"], "a parent must be rebuilt"))
                for tag in spec.tags:
                    ids[tag] = None
                continue
            digest = context_hash(spec, [pid for pid in parent_ids if pid])
            good, found = _current(client, spec, digest)
            if good:
                state, image_id, detail = "up-to-date", good["Id"], ""
            elif found is None:
                state, image_id, detail = "missing", None, ""
            elif spec.pull and LABEL_HASH not in _labels(found):
                state, image_id, detail = "foreign", found["Id"], "present without Berth labels; will be adopted"
            else:
                state, image_id, detail = "stale", found["Id"], "recipe or parent changed"
            states.append(ImageState(spec.name, spec.tags, state, image_id, detail))
            for tag in spec.tags:  # adopting or rebuilding changes the id: dependants follow
                ids[tag] = image_id if state == "up-to-date" else None
        return states
    finally:
        if owned:
            client.close()


def build_all(
    *,
    client: docker.DockerClient | None = None,
    only: list[str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    log: Log | None = None,
    specs: Sequence[ImageSpec] | None = None,
) -> list[BuildResult]:
    """Build every platform image that is missing or out of date, in dependency order.

    client    a docker-py client (default: docker.from_env(), closed afterwards)
    only      folder names or tags to build; the images they are built FROM are included
    force     rebuild even up-to-date images, without the layer cache and with a fresh
              debootstrap (adopted base images are replaced by Berth-made ones)
    progress  progress(step, done, total): called before and after each image (done counts
              finished images out of total)
    log       log(line): build output, line by line ("[nginx] Step 2/9 : RUN ...")
    specs     the recipes, in build order (default IMAGE_SPECS; for tests and extra images)

    Returns one BuildResult per selected image, in build order. Raises ImageBuildError (with
    the failing step's output tail) at the first failure, EngineUnavailable when Docker does
    not answer, ImageSpecError for a bad recipe or an unknown name in ``only``.
    """
    log = log or (lambda line: logger.debug("%s", line))
    report = progress or (lambda step, done, total: None)
    client, owned = _client(client)
    try:
        plan = _select(IMAGE_SPECS if specs is None else specs, only)
        total = len(plan)
        ids: dict[str, str] = {}
        results: list[BuildResult] = []
        for done, spec in enumerate(plan):
            started = time.monotonic()
            report(f"{spec.tag}: checking", done, total)
            try:
                status, image_id, digest = _build_one(
                    client, spec, ids=ids, force=force, report=report, done=done, total=total, log=log
                )
            except docker.errors.APIError as exc:
                raise ImageBuildError(spec.tag, exc.explanation or str(exc)) from exc
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                raise EngineUnavailable(f"the Docker engine stopped answering: {exc}") from exc
            for tag in spec.tags:
                ids[tag] = image_id
            info = _inspect(client, image_id) or {}
            result = BuildResult(
                spec.name,
                spec.tags,
                status,
                image_id,
                digest,
                round(time.monotonic() - started, 2),
                int(info.get("Size") or 0),
            )
            results.append(result)
            logger.info("image %s: %s (%.1fs)", spec.tag, status, result.seconds)
            report(f"{spec.tag}: {status}", done + 1, total)
        return results
    finally:
        if owned:
            client.close()


def _parent_ids(client: docker.DockerClient, spec: ImageSpec, ids: dict) -> list:
    """The ids of the images spec is built FROM: as planned so far in ``ids`` (None there means
    "to be rebuilt"), or as the engine has them for images outside the plan (None if absent)."""
    found = []
    for ref in spec.parents:
        if ref in ids:
            found.append(ids[ref])
        else:
            info = _inspect(client, ref)
            found.append(info["Id"] if info else None)
    return found


def _build_one(
    client: docker.DockerClient,
    spec: ImageSpec,
    *,
    ids: dict[str, str],
    force: bool,
    report: Progress,
    done: int,
    total: int,
    log: Log,
) -> tuple[BuildStatus, str, str]:
    parent_ids = _parent_ids(client, spec, ids)
    missing = [ref for ref, pid in zip(spec.parents, parent_ids, strict=True) if pid is None]
    if missing:
        raise ImageBuildError(spec.tag, f"needs {', '.join(missing)}, which is not on this engine: build it first")
    digest = context_hash(spec, parent_ids)
    good, found = (None, None) if force else _current(client, spec, digest)
    if good:
        _tag(client, good["Id"], spec.tags)  # a tag deleted by hand comes back
        return "up-to-date", good["Id"], _labels(good).get(LABEL_HASH, digest)

    if spec.pull and not force:
        # A base image: use one that is present (without our labels) or pullable, as it is.
        if found is None:
            report(f"{spec.tag}: trying a registry pull", done, total)
            pulled = _try_pull(client, spec.tag, log=log)
            if pulled:
                found = {"Id": pulled}
        if found is not None and LABEL_HASH not in _labels(found):
            report(f"{spec.tag}: adopting the existing image", done, total)
            image_id, adopted_digest = _adopt(client, spec, image_id=found["Id"], log=log)
            _tag(client, image_id, spec.tags)
            return "adopted", image_id, adopted_digest

    previous = {info["Id"] for info in (_inspect(client, tag) for tag in spec.tags) if info}
    labels = _labels_for(spec, digest, spec.source)
    if spec.source == "debootstrap":
        report(f"{spec.tag}: making the Debian rootfs (debootstrap, about a minute)", done, total)
        tarball = _rootfs_tarball(spec, digest=digest, refresh=force, log=log)
        report(f"{spec.tag}: importing the rootfs", done, total)
        image_id = _import_rootfs(client, spec, tarball=tarball, labels=labels, log=log)
    else:
        report(f"{spec.tag}: building", done, total)
        with tempfile.TemporaryDirectory(prefix=f"berth-build-{spec.name}-") as tmp:
            _stage_context(spec, Path(tmp))
            image_id = _docker_build(client, spec, context=Path(tmp), labels=labels, nocache=force, log=log)
    _tag(client, image_id, spec.tags)
    _remove_superseded(client, previous - {image_id}, log=log)
    return "built", image_id, digest


def _remove_superseded(client: docker.DockerClient, image_ids: Iterable[str], *, log: Log) -> None:
    """Remove the images a rebuild replaced, once nothing tags or uses them. An image a
    container still runs from, or that a not-yet-rebuilt child is built on, stays; removing
    that child later takes its untagged parents with it."""
    for image_id in image_ids:
        info = _inspect(client, image_id)
        if info is None or info.get("RepoTags"):
            continue
        try:
            client.api.remove_image(image_id)
            log(f"removed superseded image {image_id[:19]}")
        except docker.errors.APIError:
            pass  # in use (a running lab) or has dependants: left for later


__all__ = [
    "ALLOWED_IMAGES",
    "IMAGE_SPECS",
    "BuildResult",
    "EngineUnavailable",
    "ImageBuildError",
    "ImageError",
    "ImageSpec",
    "ImageSpecError",
    "ImageState",
    "build_all",
    "cache_dir",
    "check_images",
    "context_hash",
    "load_specs",
]
