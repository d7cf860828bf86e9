"""Admins run cohorts without the shell: cohorts, CSV enrolment (all or nothing), invites,
memberships; and nobody else can."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from accounts import enrolment
from accounts.models import Cohort, Invite, Membership, User
from labs.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = b"email,name,role\nada@example.com,Ada Lovelace,student\nGrace@Example.com,Grace Hopper,instructor\nstella@example.com,,student\n"


def test_parse_reports_every_bad_row_with_its_line():
    data = (
        "email,name,role\n"
        "ok@example.com,Ok,student\n"
        "not-an-email,Bad,student\n"
        "x@example.com,X,teacher\n"
        "\n"
        "OK@example.com,Dup,student\n"
    )
    preview = enrolment.parse(data)
    assert [r.email for r in preview.rows] == ["ok@example.com"]
    assert preview.problems == [
        (3, "“not-an-email” is not a valid email address"),
        (4, "unknown role “teacher” (use student or instructor)"),
        (6, "ok@example.com is listed twice (also on line 2)"),
    ]
    assert not preview.ok


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,role\nA,student\n", "header"),
        (b"email\n", "no rows"),
        (b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_unreadable_files(data, message):
    with pytest.raises(enrolment.EnrolmentError, match=message):
        enrolment.parse(data)


def test_upload_preview_apply(client, admin_user, cohort, student, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.post(reverse("teach:enrol", args=[cohort.slug]), {"file": SimpleUploadedFile("p.csv", GOOD)})
    html = page.content.decode()
    assert (
        "3 rows ready" in html
        and "existing account" in html
        and User.objects.filter(email="ada@example.com").count() == 0
    )
    digest = page.context["digest"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("teach:enrol", args=[cohort.slug]), {"apply": "1", "digest": digest})
    assert response.status_code == 302
    ada = User.objects.get(email="ada@example.com")
    assert ada.full_name == "Ada Lovelace" and not ada.has_usable_password()
    assert Membership.objects.get(user__email="grace@example.com", cohort=cohort).role == "instructor"
    assert (
        Membership.objects.filter(user=student, cohort=cohort, is_active=True).count() == 1
    )  # existing: enrolled once
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    to_ada = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    assert "/accounts/password/reset/" in to_ada.body and f"username is {ada.username}" in to_ada.body
    assert AuditEntry.objects.filter(action="cohort.enrol_csv", cohort=cohort).exists()


def test_bad_file_changes_nothing(client, admin_user, cohort):
    client.force_login(admin_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = GOOD + b"broken,Broken,student\n"
    page = client.post(reverse("teach:enrol", args=[cohort.slug]), {"file": SimpleUploadedFile("p.csv", bad)})
    assert "line" in page.content.decode().lower() and "nothing will change" in page.content.decode()
    # applying without a valid preview is refused
    client.post(reverse("teach:enrol", args=[cohort.slug]), {"apply": "1", "digest": "forged"})
    assert not User.objects.filter(email="ada@example.com").exists()


def test_apply_is_all_or_nothing_when_something_fails_midway(cohort, monkeypatch):
    preview = enrolment.parse(GOOD)
    calls = {"n": 0}
    real = enrolment.membership_add

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database hiccup")
        return real(**kwargs)

    monkeypatch.setattr(enrolment, "membership_add", flaky)
    with pytest.raises(RuntimeError):
        enrolment.apply(cohort=cohort, preview=preview)
    assert not User.objects.filter(email__in=["ada@example.com", "grace@example.com"]).exists()
    assert not Membership.objects.filter(cohort=cohort).exists()
    assert mail.outbox == []


def test_enrol_command(tmp_path, cohort, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    call_command("enrol", cohort.slug, str(good))
    assert "3 account(s) created" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"email,name,role\nnew@example.com,N,student\nnope,N,student\n")
    with pytest.raises(CommandError):
        call_command("enrol", cohort.slug, str(bad))
    assert "line 3" in capsys.readouterr().err
    assert not User.objects.filter(email="new@example.com").exists()


def test_cohort_create_with_instructors_and_limits(client, admin_user, mini_course):
    teacher = factories.make_user("teacher1")
    client.force_login(admin_user)
    response = client.post(
        reverse("teach:cohort-new"),
        {
            "course": mini_course.pk,
            "name": "Spring 2027",
            "slug": "spring-2027",
            "starts_on": "2027-03-01",
            "ends_on": "2027-06-30",
            "join_code": "SPRING27",
            "join_code_enabled": "on",
            "lab_ttl_minutes": 45,
            "max_concurrent_labs": 1,
            "instructors": [teacher.pk],
        },
    )
    assert response.status_code == 302
    cohort = Cohort.objects.get(slug="spring-2027")
    assert cohort.lab_ttl_minutes == 45 and cohort.max_concurrent_labs == 1
    assert Membership.objects.get(cohort=cohort, user=teacher).role == "instructor"
    # removing the instructor deactivates the membership, keeping history
    client.post(
        reverse("teach:cohort-edit", args=["spring-2027"]),
        {
            "course": mini_course.pk,
            "name": "Spring 2027",
            "slug": "spring-2027",
            "join_code": "SPRING27",
            "instructors": [],
        },
    )
    membership = Membership.objects.get(cohort=cohort, user=teacher)
    assert not membership.is_active and membership.deactivated_at


def test_invites_expiry_use_limit_and_revoke(client, admin_user, cohort):
    client.force_login(admin_user)
    client.post(reverse("teach:invite-create", args=[cohort.slug]), {"role": "student", "max_uses": 2})
    invite = Invite.objects.get(cohort=cohort)
    assert invite.usable()
    signup = {"full_name": "N", "password": "a-Long-pass-123"}
    client.logout()
    for i in range(2):
        assert (
            client.post(
                reverse("accounts:invite", args=[invite.token]),
                {**signup, "username": f"inv{i}", "email": f"inv{i}@example.com"},
            ).status_code
            == 302
        )
        client.logout()
    page = client.post(
        reverse("accounts:invite", args=[invite.token]), {**signup, "username": "inv9", "email": "i9@example.com"}
    )
    assert "not valid any more" in page.content.decode()
    client.force_login(admin_user)
    past = (timezone.now() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(
        reverse("teach:invite-create", args=[cohort.slug]), {"role": "student", "expires_at": past}, follow=True
    )
    assert "must be in the future" in page.content.decode()
    fresh = Invite.objects.create(cohort=cohort)
    client.post(reverse("teach:invite-revoke", args=[cohort.slug, fresh.pk]))
    fresh.refresh_from_db()
    assert fresh.revoked and not fresh.usable()


def test_deactivate_membership_keeps_history(client, admin_user, cohort, student):
    membership = Membership.objects.get(user=student, cohort=cohort)
    client.force_login(admin_user)
    client.post(reverse("teach:membership-toggle", args=[cohort.slug, membership.pk]))
    membership.refresh_from_db()
    assert not membership.is_active and User.objects.filter(pk=student.pk).exists()
    assert AuditEntry.objects.filter(action="membership.deactivate", target_id=str(student.pk)).exists()
    client.force_login(student)  # no longer sees the course's labs
    assert client.get(reverse("labs:lab", args=["mini", "first"])).status_code == 404
    client.force_login(admin_user)  # and back again
    client.post(reverse("teach:membership-toggle", args=[cohort.slug, membership.pk]))
    membership.refresh_from_db()
    assert membership.is_active and membership.deactivated_at is None
    assert AuditEntry.objects.filter(action="membership.reactivate", target_id=str(student.pk)).exists()


def test_only_admins_administer(client, cohort, instructor, student):
    for user in (instructor, student):
        client.force_login(user)
        assert client.get(reverse("teach:cohort-new")).status_code == 404
        assert client.get(reverse("teach:enrol", args=[cohort.slug])).status_code == 404
        assert client.post(reverse("teach:invite-create", args=[cohort.slug]), {"role": "student"}).status_code == 404
    client.force_login(instructor)  # instructors may look at their cohort's people
    assert client.get(reverse("teach:cohort-people", args=[cohort.slug])).status_code == 200
    client.force_login(student)
    assert client.get(reverse("teach:cohort-people", args=[cohort.slug])).status_code == 404
