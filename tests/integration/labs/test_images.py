"""Facts about the platform images (labs/images), checked in throwaway containers.

The module first builds every image, or finds them up to date: a few minutes on a fresh engine
(debootstrap included), about a second afterwards. Every container and network made here carries
the label org.berth.test=1 and is removed (with anonymous volumes); a failed test prints the logs
of the containers it made. No test needs Django, and none skips: no engine is a failure.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import time
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest

from labs.runtime import images

pytestmark = pytest.mark.docker

TEST_LABELS = {"org.berth.test": "1"}
HOME = "/home/student"
# Paths inside the containers, not on this machine.
TMP = "/tmp"  # noqa: S108
READY = "/tmp/.berth-ready"  # noqa: S108

# The configuration the platform starts a lab with (labs/runtime/spec.py), minus limits.
HARDENED = {
    "user": "student",
    "read_only": True,
    "tmpfs": {
        TMP: "rw,nosuid,nodev,size=64m,mode=1777",
        HOME: "rw,nosuid,nodev,size=64m,uid=1000,gid=1000,mode=0755",
    },
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "init": True,
    "network_mode": "none",
    "hostname": "lab",
    "environment": {"HOME": HOME, "TERM": "xterm-256color"},
}


@pytest.fixture(scope="module")
def docker_client():
    """One docker-py client for the module (named so it does not shadow pytest-django's client)."""
    try:
        engine = docker.from_env(timeout=900)
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"these tests need the Docker engine (scripts/services.sh docker): {exc}")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def built(docker_client) -> dict[str, images.BuildResult]:
    """Every image, built or found up to date (the build log is printed if building fails)."""
    lines: list[str] = []
    try:
        results = images.build_all(client=docker_client, log=lines.append)
    except images.ImageError:
        print("\n".join(lines[-200:]))
        raise
    return {result.name: result for result in results}


@pytest.fixture
def run(docker_client, built, request):
    """run(image, command=None, **kwargs) -> a started container, removed after the test."""
    made: list = []

    def _run(image: str, command=None, **kwargs):
        kwargs.setdefault("detach", True)
        labels = {**TEST_LABELS, **kwargs.pop("labels", {})}
        container = docker_client.containers.run(image, command, labels=labels, **kwargs)
        made.append(container)
        return container

    yield _run
    failed = any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))
    for container in made:
        try:
            if failed:
                container.reload()
                print(f"--- {container.name} ({container.image.tags}, {container.status}) logs:")
                print(container.logs().decode(errors="replace")[-4000:])
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


@pytest.fixture
def network(docker_client):
    net = docker_client.networks.create(f"berth-test-{uuid.uuid4().hex[:8]}", labels=TEST_LABELS)
    yield net
    try:
        net.reload()
        for container in net.containers:  # a failed test may leave one attached
            net.disconnect(container, force=True)
        net.remove()
    except docker.errors.NotFound:
        pass


def sh(container, command: str, *, user: str = "", ok: bool = True, **kwargs) -> str:
    """Run `bash -c command` in the container; the combined output (asserting exit 0 if ok)."""
    result = container.exec_run(["bash", "-c", command], user=user, **kwargs)
    output = result.output.decode(errors="replace")
    if ok:
        assert result.exit_code == 0, f"{command!r} exited {result.exit_code}:\n{output}"
    return output


def wait_for(predicate, *, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def finish(container, timeout: float = 120) -> tuple[int, str]:
    status = container.wait(timeout=timeout)["StatusCode"]
    return status, container.logs().decode(errors="replace")


# -- the recipes and the builder ----------------------------------------------------------------


def test_specs_build_parents_first_and_allow_every_tag():
    order = [spec.name for spec in images.IMAGE_SPECS]
    for spec in images.IMAGE_SPECS:
        for ref in spec.parents:
            parent = next(s for s in images.IMAGE_SPECS if ref in s.tags)
            assert order.index(parent.name) < order.index(spec.name), f"{spec.name} builds before {parent.name}"
    assert set(images.ALLOWED_IMAGES) == {
        "debian:bookworm-slim",
        "debian:12",
        "busybox:1.35",
        "busybox:latest",
        "hello-world:latest",
        "nginx:1.22",
        "nginx:latest",
        "redis:7.0",
        "redis:latest",
        "python:3.11-slim",
        "gcc:12",
        "berth/lab-base:1",
        "berth/lab-docker:1",
    }
    assert len(images.ALLOWED_IMAGES) == len(set(images.ALLOWED_IMAGES))


def test_context_hash_follows_files_host_files_and_parents(tmp_path: Path):
    recipe = tmp_path / "thing"
    shutil.copytree(images.IMAGES_DIR / "nginx", recipe)
    host_file = tmp_path / "host-binary"
    host_file.write_bytes(b"v1")
    spec = images.ImageSpec(
        name="thing",
        tags=("thing:1",),
        directory=recipe,
        parents=("debian:bookworm-slim",),
        host_files=(("binary", str(host_file)),),
    )
    base = images.context_hash(spec, ["sha256:aaa"])
    assert images.context_hash(spec, ["sha256:aaa"]) == base
    assert images.context_hash(spec, ["sha256:bbb"]) != base  # a rebuilt parent rebuilds its children
    (recipe / "Dockerfile").write_text((recipe / "Dockerfile").read_text() + "\n# edited\n")
    edited = images.context_hash(spec, ["sha256:aaa"])
    assert edited != base
    host_file.write_bytes(b"v2")
    assert images.context_hash(spec, ["sha256:aaa"]) != edited


def test_unknown_image_names_are_refused(docker_client):
    with pytest.raises(images.ImageSpecError, match="unknown image"):
        images.build_all(client=docker_client, only=["no-such-image"])


def test_every_image_exists_under_all_its_tags_with_platform_labels(docker_client, built):
    assert list(built) == [spec.name for spec in images.IMAGE_SPECS]
    for spec in images.IMAGE_SPECS:
        result = built[spec.name]
        for tag in spec.tags:
            info = docker_client.api.inspect_image(tag)
            labels = info["Config"]["Labels"] or {}
            assert info["Id"] == result.image_id, tag
            assert labels[images.LABEL_PLATFORM] == "1", tag
            assert labels[images.LABEL_HASH] == result.context_hash, tag
    dangling = docker_client.api.images(filters={"dangling": True, "label": images.LABEL_STAGE})
    assert dangling == [], "a multi-stage build left its stage image behind"


def test_a_second_build_skips_everything(docker_client, built):
    started = time.monotonic()
    steps: list[tuple[str, int, int]] = []
    again = images.build_all(client=docker_client, progress=lambda step, done, total: steps.append((step, done, total)))
    elapsed = time.monotonic() - started
    assert [(r.name, r.status) for r in again] == [(name, "up-to-date") for name in built]
    assert [r.image_id for r in again] == [r.image_id for r in built.values()]
    assert steps[-1][1:] == (len(built), len(built))
    assert elapsed < 30, f"an up-to-date check took {elapsed:.1f}s"
    assert {state.state for state in images.check_images(client=docker_client)} == {"up-to-date"}


def test_a_failing_step_raises_with_its_output(docker_client, built, tmp_path: Path):
    recipe = tmp_path / "broken"
    recipe.mkdir()
    (recipe / "Dockerfile").write_text("FROM busybox:1.35\nRUN echo about to fail && false\n")
    spec = images.ImageSpec(name="broken", tags=("berth-test/broken:1",), directory=recipe, parents=("busybox:1.35",))
    with pytest.raises(images.ImageBuildError) as failure:
        images.build_all(client=docker_client, specs=[spec])
    assert "returned a non-zero code: 1" in failure.value.message
    assert "about to fail" in failure.value.output_tail
    assert "about to fail" in str(failure.value)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get("berth-test/broken:1")


def test_a_foreign_base_image_is_adopted_as_it_is(docker_client, built, tmp_path: Path):
    tag = f"berth-test/foreign:{uuid.uuid4().hex[:8]}"
    content = tmp_path / "hello.txt"
    content.write_text("not made by Berth\n")
    with tarfile.open(tmp_path / "rootfs.tar", "w") as tar:
        tar.add(content, arcname="hello.txt")
    repository, _, version = tag.partition(":")
    docker_client.api.import_image(src=str(tmp_path / "rootfs.tar"), repository=repository, tag=version)
    original = docker_client.api.inspect_image(tag)
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    (recipe / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
    spec = images.ImageSpec(name="foreign", tags=(tag,), directory=recipe, pull=True)
    try:
        assert [s.state for s in images.check_images(client=docker_client, specs=[spec])] == ["foreign"]
        [first] = images.build_all(client=docker_client, specs=[spec])
        assert first.status == "adopted"
        adopted = docker_client.api.inspect_image(tag)
        assert adopted["RootFS"]["Layers"] == original["RootFS"]["Layers"]  # files untouched
        assert adopted["Config"]["Labels"][images.LABEL_PLATFORM] == "1"
        assert adopted["Config"]["Labels"][images.LABEL_SOURCE] == "adopted"
        [second] = images.build_all(client=docker_client, specs=[spec])
        assert (second.status, second.image_id) == ("up-to-date", first.image_id)
    finally:
        for ref in (tag, original["Id"]):
            try:
                docker_client.api.remove_image(ref)
            except docker.errors.NotFound:
                pass


# -- base images -------------------------------------------------------------------------------


def test_debian_is_bookworm_slim_with_working_sources(run):
    container = run("debian:bookworm-slim", ["sleep", "300"])
    assert sh(container, "cat /etc/debian_version").startswith("12.")
    sources = sh(container, "cat /etc/apt/sources.list")
    assert "bookworm main" in sources and "bookworm-security" in sources
    assert sh(container, "ls /var/lib/apt/lists | grep -c _Packages || true").strip() == "0"
    assert sh(container, "find /usr/share/man /usr/share/locale /usr/share/info -mindepth 1 | wc -l").strip() == "0"
    assert sh(container, "ls /dev/null /etc/dpkg/dpkg.cfg.d/docker /usr/sbin/policy-rc.d | wc -l").strip() == "3"


def test_busybox_is_1_35_on_scratch(run):
    container = run("busybox:1.35", ["sh", "-c", "busybox | head -1; ls /bin | wc -l; id"], detach=True)
    status, output = finish(container)
    assert status == 0, output
    assert "BusyBox v1.35" in output
    assert "uid=0(root)" in output


def test_hello_world_prints_its_message(run):
    status, output = finish(run("hello-world:latest"))
    assert status == 0, output
    assert "Hello from Docker!" in output
    assert "This message shows that your installation appears to be working correctly." in output


# -- the student sandbox -----------------------------------------------------------------------


def test_lab_base_user_and_tools(run):
    container = run("berth/lab-base:1")
    assert sh(container, "id").startswith("uid=1000(student) gid=1000(student)")
    assert sh(container, "getent passwd student").strip() == "student:x:1000:1000::/home/student:/bin/bash"
    assert sh(container, "pwd").strip() == HOME
    tools = "bash tmux curl vim nano less ip ps ping git jq socat nc file tree"
    found = sh(container, f"for t in {tools}; do command -v $t || echo MISSING $t; done")
    assert "MISSING" not in found, found
    assert "VIM - Vi IMproved" in sh(container, "vim --version | head -1")
    conf = sh(container, "cat /etc/tmux.conf")
    for setting in ("mouse off", "history-limit 10000", "escape-time 0", "aggressive-resize on", "256color"):
        assert setting in conf


@pytest.mark.parametrize("image", ["berth/lab-base:1", "berth/lab-docker:1"])
def test_no_setuid_or_setgid_files(run, image):
    container = run(image)
    assert sh(container, "find / -xdev -type f -perm /6000 2>/dev/null", user="root").strip() == ""


def test_lab_base_runs_hardened_with_a_fresh_home(run):
    container = run("berth/lab-base:1", **HARDENED)
    wait_for(lambda: container.exec_run(["test", "-e", READY]).exit_code == 0, what="berth-lab-init")
    listing = sh(container, "cd ~ && ls -a && tmux -V", user="student")
    assert ".bashrc" in listing.split() and ".profile" in listing.split()
    assert "tmux 3." in listing
    assert sh(container, "bash -lc 'cd ~ && ls -a && tmux -V'", user="student")  # as the brief has it
    assert sh(container, "stat -c '%U %a' ~ /tmp").split() == ["student", "755", "root", "1777"]
    assert "Read-only file system" in sh(container, "touch /etc/x", user="root", ok=False)
    sh(container, "echo hi > ~/note && echo hi > /tmp/note && echo hi > /var/tmp/note2")
    sh(container, "ping -c1 -W2 127.0.0.1")  # no file capabilities: works with cap_drop ALL
    # The terminal: berth-shell attaches to (or creates) the tmux session "main".
    container.exec_run(["berth-shell"], user="student", tty=True, detach=True, environment={"HOME": HOME})
    wait_for(
        lambda: container.exec_run(["tmux", "has-session", "-t", "main"], user="student").exit_code == 0,
        what="the tmux session",
    )

    def screen() -> str:
        return sh(container, "tmux capture-pane -p -t main", user="student")

    wait_for(lambda: "student@lab:~$" in screen(), what="the prompt in tmux")
    assert "Welcome to your Berth lab" in screen()
    started = time.monotonic()
    container.stop(timeout=10)
    assert time.monotonic() - started < 5, "berth-lab-init should exit promptly on SIGTERM"
    assert container.wait(timeout=10)["StatusCode"] in (0, 143)


def test_lab_base_warns_in_its_log_when_the_home_is_not_writable(run):
    config = {**HARDENED, "tmpfs": {TMP: "size=16m", HOME: "size=16m"}}  # root-owned home tmpfs
    container = run("berth/lab-base:1", **config)
    wait_for(lambda: container.exec_run(["test", "-e", READY]).exit_code == 0, what="berth-lab-init")
    container.reload()
    assert container.status == "running"
    assert "berth-home-init: /home/student is not writable" in container.logs().decode()


def test_lab_docker_has_the_cli_and_compose(run):
    container = run("berth/lab-docker:1", **HARDENED)
    assert sh(container, "docker --version").startswith("Docker version 20.10")
    metadata = json.loads(sh(container, "/usr/libexec/docker/cli-plugins/docker-compose docker-cli-plugin-metadata"))
    assert metadata["SchemaVersion"] == "0.1.0" and metadata["Vendor"] and metadata["Version"].startswith("1.29")
    assert (
        sh(container, "readlink /usr/local/lib/docker/cli-plugins/docker-compose").strip()
        == "/usr/libexec/docker/cli-plugins/docker-compose"
    )
    assert "compose*" in sh(container, "docker --help")  # the CLI found and accepted the plugin
    assert "docker-compose version 1.29" in sh(container, "docker compose version")
    assert "docker-compose version 1.29" in sh(container, "docker-compose version")
    assert sh(container, "readlink /var/run/docker.sock").strip() == "/run/berth/docker.sock"
    assert sh(container, "for b in dockerd containerd runc docker-proxy; do command -v $b; done; true") == ""
    assert "Cannot connect to the Docker daemon" in sh(container, "docker ps 2>&1", ok=False)


# -- service images ----------------------------------------------------------------------------


def test_nginx_serves_its_index_to_another_container(run, network):
    web = run("nginx:1.22", name=f"berth-test-web-{uuid.uuid4().hex[:8]}", network=network.name)
    assert web.attrs["Config"]["StopSignal"] == "SIGQUIT"
    assert "80/tcp" in web.attrs["Config"]["ExposedPorts"]
    lab = run("berth/lab-base:1", **{**HARDENED, "network_mode": network.name})
    page = sh(lab, f"curl -fsS --retry 20 --retry-connrefused --retry-delay 1 http://{web.name}/", user="student")
    assert "<title>Welcome to nginx!</title>" in page
    wait_for(lambda: "GET / HTTP/1.1" in web.logs(stdout=True, stderr=False).decode(), what="the access log on stdout")


def test_redis_answers_ping(run, network):
    cache = run("redis:7.0", name=f"berth-test-cache-{uuid.uuid4().hex[:8]}", network=network.name)
    wait_for(lambda: "PONG" in cache.exec_run(["redis-cli", "ping"]).output.decode(), what="redis PONG")
    assert sh(cache, "redis-cli config get protected-mode | tail -1").strip() == "no"
    assert sh(cache, "redis-cli config get dir | tail -1").strip() == "/data"
    assert "/data" in (cache.attrs["Config"]["Volumes"] or {})
    # Reachable from another container on the network, as the official image is.
    lab = run("berth/lab-base:1", **{**HARDENED, "network_mode": network.name})
    assert "+PONG" in sh(lab, f"printf 'PING\\r\\n' | nc -q1 {cache.name} 6379", user="student")


def test_gcc_builds_a_static_binary(run):
    script = (
        "printf '#include <stdio.h>\\nint main(void){puts(\"static hello\");return 0;}\\n' > /tmp/hello.c"
        " && gcc -static -O2 -o /tmp/hello /tmp/hello.c && /tmp/hello && (ldd /tmp/hello 2>&1 || true)"
        " && make --version | head -1"
    )
    status, output = finish(run("gcc:12", ["bash", "-c", script]))
    assert status == 0, output
    assert "static hello" in output
    assert "not a dynamic executable" in output
    assert "GNU Make" in output


def test_python_has_pip_and_venv(run):
    script = "python --version && pip --version && python -m venv /tmp/venv && /tmp/venv/bin/python -c 'print(42)'"
    status, output = finish(run("python:3.11-slim", ["bash", "-c", script]))
    assert status == 0, output
    assert "Python 3.11" in output and "pip " in output and "42" in output
