"""Fixtures for the gateway tests, on the real engine and through the real platform path:
import tests/fixtures/courses/dockerlab, enrol students, `lab_session_start` -> dispatch ->
provision (Celery eager), with a gateway (labs.gateway.server) running in a thread against a
gateway folder of the test run's own. Every session is stopped with lab_session_stop and
lab_session_teardown, and nothing labelled with it may remain on the engine.

One lab session is shared by all tests of a module (`docker_lab`, module scope): starting one takes
a few seconds. Transactional tests empty the database after each test, so the fixture keeps a dump
of the rows it made and loads it back before stopping the session.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path

import docker
import pytest
from django.core.management import call_command
from django.test import override_settings

from config.celery_app import app as celery_app
from labs.gateway import binds as binds_mod
from labs.gateway.server import GatewayThread
from labs.runtime import cgroups, get_backend
from tests import factories

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "dockerlab"
_names = itertools.count(1)


class DockerLab:
    """A student's running Docker lab session, and ways to act as them."""

    def __init__(self, *, user, lab, session):
        self.user, self.lab, self.session = user, lab, session
        self.session_id = str(session.id)
        self.container_id = session.container_id
        self.backend = get_backend()
        from labs.gateway import registry

        self.folder = registry.session_dir(session.id)
        self.policy = json.loads((self.folder / "policy.json").read_text())
        self.prefix = self.policy["prefix"]

    @property
    def socket(self) -> Path:
        return self.folder / "docker.sock"

    def sh(self, command: str, *, timeout: float = 60, user: str = "student"):
        """Run a shell command in the lab as the student (bash -lc), like typing it in the terminal."""
        return self.backend.exec(
            self.container_id, ["bash", "-lc", command], user=user, timeout=timeout, max_output=512 * 1024
        )

    def ok(self, command: str, *, timeout: float = 60) -> str:
        result = self.sh(command, timeout=timeout)
        text = result.output.decode(errors="replace")
        assert result.exit_code == 0, f"$ {command}\nexit {result.exit_code} (timed out: {result.timed_out})\n{text}"
        return text

    def fails(self, command: str, *, timeout: float = 60) -> str:
        result = self.sh(command, timeout=timeout)
        text = result.output.decode(errors="replace")
        assert result.exit_code not in (0, None), f"$ {command} should have failed\n{text}"
        return text

    def client(self, **kwargs) -> docker.DockerClient:
        """docker-py on the host, speaking to the session's gateway socket (the same API the CLI uses)."""
        return docker.DockerClient(base_url=f"unix://{self.socket}", version="1.41", timeout=60, **kwargs)

    def host_objects(self) -> dict[str, list]:
        """What the engine holds for this session: labelled objects and tags under its prefix."""
        client = self.backend.client
        label = {"label": f"org.berth.session={self.session_id}"}
        namespace = self.prefix.lower() + "/"
        tags = [t for i in client.api.images(all=True) for t in (i.get("RepoTags") or []) if t.startswith(namespace)]
        return {
            "containers": [c.name for c in client.containers.list(all=True, filters=label)],
            "networks": [n.name for n in client.networks.list(filters=label)],
            "volumes": [v.name for v in client.volumes.list(filters=label)],
            "images": [i.id for i in client.images.list(all=True, filters=label)] + tags,
        }


def start_docker_lab(username: str | None = None) -> DockerLab:
    """A student enrolled in the dockerlab course with a running Docker lab session."""
    from courses.models import Course
    from courses.services import course_import
    from labs import services
    from labs.models import Lab, LabSession

    course = Course.objects.filter(slug="dockerlab").first() or course_import(path=FIXTURE).course
    cohort = factories.make_cohort(course, f"gw-cohort-{next(_names)}")
    user = factories.make_user(username or f"gwstudent{next(_names)}")
    factories.enrol(user, cohort)
    lab = Lab.objects.get(course=course, slug="docker")
    assert lab.docker_enabled and lab.image == "berth/lab-docker:1"
    session = services.lab_session_start(user=user, lab=lab)
    services.lab_sessions_dispatch()
    services.lab_session_provision(session_id=session.id)
    session.refresh_from_db()
    assert session.state == LabSession.State.RUNNING, (session.state, session.error)
    return DockerLab(user=user, lab=lab, session=session)


def stop_docker_lab(lab: DockerLab) -> None:
    """Stop the session the way the platform does and check that nothing it made remains."""
    from labs import services
    from labs.models import LabSession

    session = LabSession.objects.get(pk=lab.session.pk)
    services.lab_session_stop(session=session, actor=lab.user)
    services.lab_session_teardown(session_id=session.pk)
    session.refresh_from_db()
    assert session.state in (LabSession.State.STOPPED, LabSession.State.FAILED), session.state
    deadline = time.monotonic() + 10
    while True:
        left = lab.host_objects()
        binds_left = binds_mod.SessionBinds(binds_mod.binds_root(lab.folder.parent), lab.folder.name).sources()
        if (not any(left.values()) and not binds_left and not lab.socket.exists()) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not any(left.values()), f"left on the engine after teardown: {left}"
    assert not binds_left, f"bind mounts left after teardown: {binds_left}"
    cgroup = Path(cgroups.ROOT) / ("" if cgroups.is_v2() else "pids") / lab.policy["cgroup_parent"].strip("/")
    assert not cgroup.exists(), f"the lab's cgroup {cgroup} is left after teardown"
    assert not lab.folder.exists() and not lab.socket.exists()


class Gateway:
    """The test run's gateway (a labs.gateway.server in a thread); restartable."""

    def __init__(self, root: Path, engine_url: str, instance: str):
        self.root, self.engine_url, self.instance = root, engine_url, instance
        self.thread: GatewayThread | None = None

    def start(self) -> None:
        self.thread = GatewayThread(self.root, self.engine_url, instance=self.instance).start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def server(self):
        return self.thread.server


@pytest.fixture(scope="session")
def gateway():
    """A gateway serving a gateway folder of this test run (short path: unix sockets are limited)."""
    base = Path(tempfile.mkdtemp(prefix="bgw", dir="/tmp"))
    root = base / "gateway"
    root.mkdir()
    override = override_settings(BERTH_GATEWAY_DIR=root)
    override.enable()
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    from django.conf import settings

    server = Gateway(root, settings.BERTH_DOCKER_URL, settings.BERTH_INSTANCE)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        binds_mod.release_stale(binds_mod.binds_root(root), set())
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
        override.disable()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def docker_lab(gateway, django_db_setup, django_db_blocker, tmp_path_factory):
    """One Docker lab session shared by the tests of a module."""
    dump = tmp_path_factory.mktemp("gwdb") / "rows.json"
    with django_db_blocker.unblock():
        lab = start_docker_lab()
        call_command("dumpdata", "accounts", "courses", "labs", output=str(dump), verbosity=0)
    try:
        yield lab
    finally:
        with django_db_blocker.unblock():
            from labs.models import LabSession

            if not LabSession.objects.filter(pk=lab.session.pk).exists():
                call_command("loaddata", str(dump), verbosity=0)
            try:
                stop_docker_lab(lab)
            finally:
                call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def second_lab(gateway, transactional_db):
    """Another student's Docker lab session, for one test."""
    labs = []

    def start():
        labs.append(start_docker_lab())
        return labs[-1]

    yield start
    for lab in labs:
        stop_docker_lab(lab)
