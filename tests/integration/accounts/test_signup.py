import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invite, Membership, User

pytestmark = pytest.mark.django_db

FORM = {"full_name": "New Person", "username": "newbie", "email": "new@example.com", "password": "a-Long-pass-123"}


def test_signup_with_join_code_enrols_as_student(client, cohort):
    response = client.post(reverse("accounts:signup"), {**FORM, "code": cohort.join_code.lower()})
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    membership = Membership.objects.get(user=user)
    assert membership.cohort == cohort and membership.role == "student"


def test_signup_without_code_is_refused_when_open_signup_is_off(client, cohort):
    page = client.post(reverse("accounts:signup"), FORM).content.decode()
    assert "needs a join code" in page
    assert not User.objects.filter(username="newbie").exists()


def test_bad_or_disabled_code(client, cohort):
    assert "not valid" in client.post(reverse("accounts:signup"), {**FORM, "code": "WRONG"}).content.decode()
    cohort.join_code_enabled = False
    cohort.save()
    assert "not valid" in client.post(reverse("accounts:signup"), {**FORM, "code": cohort.join_code}).content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_invite_link_with_use_limit_and_expiry(client, cohort):
    invite = Invite.objects.create(cohort=cohort, role="instructor", max_uses=1)
    url = reverse("accounts:invite", args=[invite.token])
    assert client.post(url, FORM).status_code == 302
    assert Membership.objects.get(user__username="newbie").role == "instructor"
    client.logout()
    page = client.post(url, {**FORM, "username": "second", "email": "s@example.com"}).content.decode()
    assert "not valid any more" in page
    expired = Invite.objects.create(cohort=cohort, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    page = client.get(reverse("accounts:invite", args=[expired.token])).content.decode()
    assert "not valid any more" in page


def test_login_by_email_and_password_reset_email(client, student):
    assert client.login(username="stella@example.com", password="pw-for-tests-1")
    client.logout()
    client.post(reverse("accounts:password_reset"), {"email": "stella@example.com"})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body
