"""Student containers under an isolating runtime (gVisor's runsc) when the platform asks for one
(settings.BERTH_STUDENT_CONTAINER_RUNTIME -> policy.json "runtime").

`make test` installs gVisor and registers runsc with --network=none (scripts/services.sh), the
only way it runs on this kind of host; the first test proves it does before the others use it.
"""

import subprocess

import pytest

from .conftest import start_docker_lab, stop_docker_lab

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def runsc_works() -> str | None:
    """None when `runsc` runs a container on this engine; otherwise why not."""
    try:
        result = subprocess.run(
            ["docker", "run", "--rm", "--runtime", "runsc", "--network", "none", "busybox", "true"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if result.returncode == 0 else result.stderr.strip().splitlines()[0][:200]


def test_runsc_is_registered_and_runs_containers():
    assert runsc_works() is None, "runsc must run containers: scripts/services.sh registers it"


def test_student_containers_get_the_policy_runtime(gateway, transactional_db, settings):
    settings.BERTH_STUDENT_CONTAINER_RUNTIME = "runsc"
    lab = start_docker_lab()
    try:
        assert lab.policy["runtime"] == "runsc"
        lab.ok("docker run -d --name boxed --network none busybox sleep 60")
        host = lab.backend.client.containers.get(f"{lab.prefix}-boxed").attrs["HostConfig"]
        assert host["Runtime"] == "runsc" and host["CgroupParent"] == lab.policy["cgroup_parent"]
        out = lab.fails("docker run --rm --runtime runc busybox true")
        assert "--runtime runc is not available" in out
    finally:
        stop_docker_lab(lab)


def test_lab_containers_can_run_under_gvisor(transactional_db, settings, eager_celery, engine_cleanup):
    """BERTH_LAB_RUNTIME=runsc: the sandbox itself runs under gVisor, hardening unchanged."""
    from labs import services
    from labs.models import Lab
    from tests import factories

    settings.BERTH_LAB_RUNTIME = "runsc"
    course = factories.import_mini_course()
    student = factories.make_user("gvisor-student")
    factories.enrol(student, factories.make_cohort(course, "gvisor"))
    session = services.lab_session_start(user=student, lab=Lab.objects.get(slug="first"))
    session.refresh_from_db()
    assert session.state == "running", session.error
    host = engine_cleanup.client.containers.get(session.container_id).attrs["HostConfig"]
    assert host["Runtime"] == "runsc" and host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"]
    result = engine_cleanup.exec(
        session.container_id, ["sh", "-c", "dmesg 2>/dev/null | head -1; id -u"], user="student"
    )
    assert result.exit_code == 0 and result.output.strip().endswith(b"1000")
    services.lab_session_stop(session=session)
