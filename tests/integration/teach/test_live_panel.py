"""The live labs panel against a real lab: who is in which lab, container stats, and the
instructor's extend / stop / observe, each recorded in the audit log."""

import pytest
from django.urls import reverse

from labs import services
from labs.models import AuditEntry, LabSession
from tests import factories

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def live(lab_env):
    teacher = factories.make_user("panel-teacher")
    factories.enrol(teacher, lab_env["cohort"], "instructor")
    session = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    session.refresh_from_db()
    assert session.state == "running"
    return {**lab_env, "teacher": teacher, "session": session}


def test_panel_lists_the_session_with_stats(client, live):
    client.force_login(live["teacher"])
    page = client.get(reverse("teach:live", args=["lab-cohort"])).content.decode()
    assert "Alice" in page and "First lab" in page and str(live["session"].id) in page
    first = client.get(reverse("teach:live-stats", args=["lab-cohort"])).json()
    stats = first["stats"][str(live["session"].id)]
    assert stats["memory_bytes"] > 0 and stats["memory_limit"] == 256 * 1024**2
    second = client.get(reverse("teach:live-stats", args=["lab-cohort"])).json()
    assert second["stats"][str(live["session"].id)]["cpu_percent"] is not None  # two samples: a CPU figure


def test_extend_stop_and_observe_are_audited(client, live):
    session = live["session"]
    client.force_login(live["teacher"])
    client.post(reverse("teach:live-action", args=["lab-cohort", session.id, "extend"]))
    client.post(reverse("teach:live-action", args=["lab-cohort", session.id, "extend"]))  # beyond the student's max
    session.refresh_from_db()
    assert session.extensions_used == 0  # instructors' extensions do not use up the student's
    assert client.get(reverse("labs:observe", args=[session.id])).status_code == 200
    client.post(reverse("teach:live-action", args=["lab-cohort", session.id, "stop"]))
    session.refresh_from_db()
    assert session.state in ("stopping", "stopped")
    actions = list(
        AuditEntry.objects.filter(target_id=str(session.id)).order_by("at").values_list("action", "actor__username")
    )
    assert actions == [
        ("lab.extend", "panel-teacher"),
        ("lab.extend", "panel-teacher"),
        ("lab.observe", "panel-teacher"),
        ("lab.stop", "panel-teacher"),
    ]
    assert AuditEntry.objects.filter(target_id=str(session.id), cohort=live["cohort"]).count() == 4


def test_another_cohorts_teacher_cannot_act(client, live):
    other = factories.make_cohort(live["course"], "other-cohort")
    outsider = factories.make_user("outsider")
    factories.enrol(outsider, other, "instructor")
    client.force_login(outsider)
    session = live["session"]
    assert client.post(reverse("teach:live-action", args=["lab-cohort", session.id, "stop"])).status_code == 404
    assert client.post(reverse("teach:live-action", args=["other-cohort", session.id, "stop"])).status_code == 404
    assert client.get(reverse("labs:observe", args=[session.id])).status_code == 404
    assert LabSession.objects.get(pk=session.pk).state == "running"


def test_capacity_page_for_admins(client, live):
    admin = factories.make_user("capadmin", staff=True)
    client.force_login(admin)
    page = client.get(reverse("teach:capacity")).content.decode()
    assert "local" in page and "healthy" in page and "1 / " in page
    client.force_login(live["teacher"])
    assert client.get(reverse("teach:capacity")).status_code == 404


def test_capacity_page_reads_health_and_never_pings(client, live, tmp_path):
    """A GET shows what beat last recorded; it neither pings an engine nor saves a host row."""
    from labs.models import DockerHost

    gone = DockerHost.objects.create(name="gone", base_url=f"unix://{tmp_path}/no-engine.sock", capacity=5)
    admin = factories.make_user("capadmin2", staff=True)
    client.force_login(admin)
    page = client.get(reverse("teach:capacity")).content.decode()
    gone.refresh_from_db()
    assert gone.last_checked_at is None and gone.healthy and "not checked yet" in page
    services.hosts_check_health()  # what the beat task does every 30 s
    gone.refresh_from_db()
    assert not gone.healthy and gone.last_checked_at is not None
    assert "down" in client.get(reverse("teach:capacity")).content.decode()
