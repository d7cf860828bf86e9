"""Test data in one place: small functions that make valid objects with sensible defaults."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from accounts.models import Cohort, Membership, User
from courses.models import Course  # noqa: F401 - re-exported for tests
from courses.services import course_import

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_seq = itertools.count(1)


def make_user(username: str | None = None, *, password: str = "pw-for-tests-1", staff: bool = False, **extra) -> User:
    username = username or f"user{next(_seq)}"
    user = User(
        username=username,
        email=extra.pop("email", f"{username}@example.com"),
        full_name=extra.pop("full_name", username.title()),
        is_staff=staff,
        is_superuser=staff,
        **extra,
    )
    user.set_password(password)
    user.save()
    return user


def import_mini_course(tmp_path: Path | None = None) -> Course:
    """Import tests/fixtures/courses/mini (from a copy when tmp_path is given, so tests can edit it)."""
    source = FIXTURES / "courses" / "mini"
    if tmp_path is not None:
        target = tmp_path / "mini"
        if not target.exists():
            shutil.copytree(source, target)
        source = target
    return course_import(path=source).course


def make_cohort(course: Course, slug: str | None = None, **extra) -> Cohort:
    slug = slug or f"cohort-{next(_seq)}"
    return Cohort.objects.create(course=course, slug=slug, name=extra.pop("name", slug.title()), **extra)


def enrol(user: User, cohort: Cohort, role: str = Membership.Role.STUDENT) -> Membership:
    return Membership.objects.create(user=user, cohort=cohort, role=role)


def make_submission(user: User, lab, *, version: int = 1, auto_points: int = 0, total_points: int = 15):
    """A submission row with a stopped session behind it (no engine needed)."""
    from labs.models import LabSession, Submission

    session = LabSession.objects.create(user=user, lab=lab, state="stopped", ttl_seconds=600)
    return Submission.objects.create(
        session=session,
        user=user,
        lab=lab,
        version=version,
        auto_points=auto_points,
        total_points=total_points,
        results=[],
        help_used=[],
    )
