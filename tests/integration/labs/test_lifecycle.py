"""The lab session lifecycle on a real Docker engine, through the services the views, tasks and
commands call (Celery runs eagerly here; test_celery_worker.py runs a real worker)."""

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from labs import services
from labs.models import DockerHost, LabSession, LabSessionEvent
from labs.runtime import SandboxGone
from labs.runtime.docker import LABEL_INSTANCE, LABEL_SESSION

pytestmark = [pytest.mark.docker, pytest.mark.slow]

S = LabSession.State


def containers_of(backend, session):
    return backend.client.containers.list(all=True, filters={"label": f"{LABEL_SESSION}={session.id}"})


def start_running(user, lab):
    session = services.lab_session_start(user=user, lab=lab)
    session.refresh_from_db()
    assert session.state == S.RUNNING, (session.state, session.error)
    return session


def test_start_run_stop(lab_env):
    backend, alice, lab = lab_env["backend"], lab_env["alice"], lab_env["lab"]
    session = start_running(alice, lab)
    (container,) = containers_of(backend, session)
    assert container.id == session.container_id and container.status == "running"
    assert container.labels[LABEL_INSTANCE] == settings.BERTH_INSTANCE
    assert container.labels["org.berth.user"] == str(alice.pk)
    assert container.labels["org.berth.lab"] == "mini/first"
    assert session.expires_at - session.started_at == datetime.timedelta(minutes=30)
    # hardening as configured
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["CapDrop"] == ["ALL"] and host["ReadonlyRootfs"] is True
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["PidsLimit"] == 128 and host["Init"] is True
    assert host["Memory"] == host["MemorySwap"] == 256 * 1024**2 and host["NanoCpus"] == 500_000_000
    assert set(host["Tmpfs"]) == {"/tmp", "/home/student"} and not host.get("Binds")
    assert container.attrs["Config"]["User"] == "1000:1000"
    # the image's init prepares the home from its skeleton
    result = backend.exec(
        container.id,
        [
            "bash",
            "-c",
            "for i in $(seq 50); do test -e /tmp/.berth-ready && break; "
            "sleep 0.1; done; whoami && test -f ~/.bashrc && pwd",
        ],
        user="student",
    )
    assert result.exit_code == 0 and result.output.split() == [b"student", b"/home/student"]

    services.lab_session_stop(session=session, actor=alice)
    session.refresh_from_db()
    assert session.state == S.STOPPED and session.ended_at
    assert containers_of(backend, session) == []
    actions = list(LabSessionEvent.objects.filter(session=session).values_list("action", "to_state"))
    assert actions == [
        ("request", "requested"),
        ("dispatch", "provisioning"),
        ("provisioned", "running"),
        ("stop", "stopping"),
        ("teardown", "stopped"),
    ]


def test_second_start_returns_the_live_session(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    again = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    assert again.pk == session.pk
    assert len(containers_of(lab_env["backend"], session)) == 1


def test_spawn_storm_makes_one_session_and_one_container(lab_env, eager_celery):
    alice, lab = lab_env["alice"], lab_env["lab"]
    ids, errors = [], []
    barrier = threading.Barrier(25)

    def click():
        try:
            barrier.wait()
            ids.append(services.lab_session_start(user=alice, lab=lab).pk)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(25):  # and 25 more, one after another
        ids.append(services.lab_session_start(user=alice, lab=lab).pk)
    assert errors == []
    assert len(set(ids)) == 1
    assert LabSession.objects.filter(user=alice).count() == 1
    session = LabSession.objects.get(pk=ids[0])
    assert len(containers_of(lab_env["backend"], session)) == 1


def test_provision_twice_makes_one_container(lab_env, eager_celery):
    eager_celery.conf.task_always_eager = False  # hold the task back; we run provisioning by hand
    try:
        session = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    finally:
        eager_celery.conf.task_always_eager = True
    services.lab_sessions_dispatch()
    session.refresh_from_db()
    assert session.state == S.PROVISIONING
    # a task delivered twice (retry, redelivery after a worker crash) runs provisioning twice
    first = services.lab_session_provision(session_id=session.id)
    LabSession.objects.filter(pk=session.pk).update(state=S.PROVISIONING)  # as if the 2nd ran concurrently
    second = services.lab_session_provision(session_id=session.id)
    assert first.container_id == second.container_id
    assert len(containers_of(lab_env["backend"], session)) == 1


def test_expiry_and_idle_reaping_remove_the_container(lab_env):
    alice, bob, lab, backend = lab_env["alice"], lab_env["bob"], lab_env["lab"], lab_env["backend"]
    expired = start_running(alice, lab)
    idle = start_running(bob, lab)
    LabSession.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    LabSession.objects.filter(pk=idle.pk).update(last_activity_at=timezone.now() - datetime.timedelta(minutes=11))
    reaped = dict(services.lab_sessions_reap())
    assert reaped == {str(expired.id): "ttl", str(idle.id): "idle"}
    for session in (expired, idle):
        session.refresh_from_db()
        assert session.state == S.EXPIRED
        assert containers_of(backend, session) == []
    assert "idle" in LabSession.objects.get(pk=idle.pk).end_reason


def test_activity_postpones_idle_reaping_and_writes_are_throttled(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    LabSession.objects.filter(pk=session.pk).update(last_activity_at=timezone.now() - datetime.timedelta(minutes=11))
    assert services.lab_session_touch(session_id=session.id) is True
    assert services.lab_session_touch(session_id=session.id) is False  # within 30 s: no write
    assert services.lab_sessions_reap() == []


def test_reset_gives_a_new_container_and_keeps_the_time(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    backend = lab_env["backend"]
    backend.exec(session.container_id, ["sh", "-c", "echo mine > ~/file"], user="student")
    services.lab_session_reset(session=session, actor=lab_env["alice"])
    after = LabSession.objects.get(pk=session.pk)
    assert after.state == S.RUNNING
    assert after.container_id != session.container_id and after.expires_at == session.expires_at
    result = backend.exec(after.container_id, ["sh", "-c", "cat ~/file"], user="student")
    assert result.exit_code != 0  # a fresh sandbox
    assert len(containers_of(backend, after)) == 1


def test_extend_up_to_the_maximum(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    extended = services.lab_session_extend(session=session, actor=lab_env["alice"])
    assert extended.expires_at - session.expires_at == datetime.timedelta(minutes=15)
    with pytest.raises(services.QuotaExceeded):
        services.lab_session_extend(session=extended, actor=lab_env["alice"])


def test_container_removed_behind_our_back_is_noticed(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    LabSession.objects.filter(pk=session.pk).update(started_at=timezone.now() - datetime.timedelta(minutes=2))
    lab_env["backend"].client.containers.get(session.container_id).remove(force=True)
    result = services.lab_sessions_reconcile()
    assert str(session.id) in result["failed"]
    session.refresh_from_db()
    assert session.state == S.FAILED and "disappeared" in session.error


def test_stray_labelled_container_is_removed(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    LabSession.objects.filter(pk=session.pk).delete()  # the database forgot it (restore from backup, ...)
    result = services.lab_sessions_reconcile()
    assert session.container_name in result["removed"]
    assert containers_of(lab_env["backend"], session) == []


def test_worker_killed_between_create_and_start_leaves_nothing(lab_env, eager_celery):
    eager_celery.conf.task_always_eager = False
    try:
        session = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    finally:
        eager_celery.conf.task_always_eager = True
    services.lab_sessions_dispatch()
    session.refresh_from_db()
    backend = lab_env["backend"]
    # what a worker that died right after `create` leaves: a created, never started container
    spec = services.sandbox_spec_for(session)
    from labs.runtime.spec import container_config

    config = container_config(spec)
    config.pop("detach", None)
    backend.client.containers.create(**config)
    assert [c.status for c in containers_of(backend, session)] == ["created"]
    # nobody picks the task up again: the reaper fails the stuck session, teardown removes the container
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert (str(session.id), "stuck") in services.lab_sessions_reap(now=later)
    services.lab_sessions_reconcile()
    session.refresh_from_db()
    assert session.state == S.FAILED
    assert containers_of(backend, session) == []


def test_capacity_queue_and_position(lab_env):
    DockerHost.objects.update_or_create(name="local", defaults={"capacity": 1})
    alice, bob, lab = lab_env["alice"], lab_env["bob"], lab_env["lab"]
    first = start_running(alice, lab)
    waiting = services.lab_session_start(user=bob, lab=lab)
    waiting.refresh_from_db()
    assert waiting.state == S.REQUESTED and waiting.host is None
    assert services.session_snapshot(waiting)["queue_position"] == 1
    services.lab_session_stop(session=first, actor=alice)  # frees the slot: the queue moves
    waiting.refresh_from_db()
    assert waiting.state == S.RUNNING


def test_per_student_limit(lab_env, settings):
    settings.BERTH_MAX_LIVE_SESSIONS_PER_USER = 0
    with pytest.raises(services.QuotaExceeded):
        services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])


def test_bad_image_fails_clearly(lab_env):
    lab = lab_env["lab"]
    lab.image = "berth/does-not-exist:1"
    lab.save()
    session = services.lab_session_start(user=lab_env["alice"], lab=lab)
    session.refresh_from_db()
    assert session.state == S.FAILED
    assert "not on this Docker host" in session.error


def test_poll_and_inspect(lab_env):
    session = start_running(lab_env["alice"], lab_env["lab"])
    backend = lab_env["backend"]
    assert backend.poll(session.container_id) is None
    backend.client.containers.get(session.container_id).kill()
    assert backend.poll(session.container_id) is not None
    backend.stop(session.container_id, now=True)
    backend.stop(session.container_id, now=True)  # gone already = fine
    with pytest.raises(SandboxGone):
        backend.poll(session.container_id)
