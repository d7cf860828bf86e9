"""Reads about people and who may see whom. Every view asks these, never a template."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Cohort, Membership, User


def active_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, is_active=True).select_related("cohort", "cohort__course")


def cohorts_taught_by(*, user: User) -> QuerySet[Cohort]:
    """Cohorts this person may see as a teacher: all for admins, their own for instructors."""
    if not user.is_authenticated:
        return Cohort.objects.none()
    if user.is_admin:
        return Cohort.objects.all().select_related("course")
    return (
        Cohort.objects.filter(
            memberships__user=user, memberships__role=Membership.Role.INSTRUCTOR, memberships__is_active=True
        )
        .select_related("course")
        .distinct()
    )


def user_teaches_any(*, user: User) -> bool:
    return Membership.objects.filter(user=user, role=Membership.Role.INSTRUCTOR, is_active=True).exists()


def cohort_for_teacher(*, user: User, slug: str) -> Cohort | None:
    """The cohort if this person teaches it (or is an admin); None otherwise (views answer 404)."""
    return cohorts_taught_by(user=user).filter(slug=slug).first()


def cohort_for_teacher_or_404(*, user: User, slug: str) -> Cohort:
    """For the /teach/ views: the cohort, or a 404 that says no more than "no such cohort"."""
    cohort = cohort_for_teacher(user=user, slug=slug)
    if cohort is None:
        raise Http404("No such cohort")
    return cohort


def students_of(*, cohort: Cohort) -> QuerySet[User]:
    return User.objects.filter(
        memberships__cohort=cohort, memberships__role=Membership.Role.STUDENT, memberships__is_active=True
    ).order_by("full_name", "username")


def can_view_user(*, viewer: User, subject: User) -> bool:
    """A person sees their own data; an instructor sees students of cohorts they teach; admins all."""
    if not viewer.is_authenticated or not viewer.is_active:
        return False
    if viewer.pk == subject.pk or viewer.is_admin:
        return True
    return Membership.objects.filter(
        user=subject,
        role=Membership.Role.STUDENT,
        is_active=True,
        cohort__memberships__user=viewer,
        cohort__memberships__role=Membership.Role.INSTRUCTOR,
        cohort__memberships__is_active=True,
    ).exists()


def student_cohort_for_course(*, user: User, course) -> Cohort | None:
    """The student's active cohort for a course (limits and instructors come from it)."""
    membership = (
        Membership.objects.filter(user=user, is_active=True, cohort__course=course)
        .select_related("cohort")
        .order_by("-joined_at")
        .first()
    )
    return membership.cohort if membership else None


def can_use_course(*, user: User, course) -> bool:
    """Labs of a course are for its cohorts' members (students and instructors) and admins."""
    if not user.is_authenticated:
        return False
    return user.is_admin or Membership.objects.filter(user=user, is_active=True, cohort__course=course).exists()
