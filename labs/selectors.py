"""Reads for labs, each answering only what the asking person may see."""

from __future__ import annotations

from django.db.models import QuerySet

from labs.models import LabSession, Review


def live_sessions_for_user(*, user) -> QuerySet[LabSession]:
    return LabSession.objects.filter(user=user, state__in=LabSession.LIVE_STATES).select_related("lab", "lab__course")


def recent_feedback_for(*, user, limit: int = 5) -> QuerySet[Review]:
    return (Review.objects.filter(submission__user=user).select_related("submission", "submission__lab")
            .order_by("-graded_at")[:limit])


def lab_for_user(*, user, course_slug: str, lab_slug: str):
    """The lab if this person may use it (member of a cohort of its course, or admin); else None."""
    from accounts.selectors import can_use_course
    from labs.models import Lab

    lab = Lab.objects.select_related("course", "lesson").filter(
        course__slug=course_slug, slug=lab_slug, is_archived=False, course__is_published=True).first()
    if lab is None or not can_use_course(user=user, course=lab.course):
        return None
    return lab


def session_of_owner(*, user, session_id) -> LabSession | None:
    """A session by id, only for its owner (a guessed id of someone else's gives None → 404)."""
    if not user.is_authenticated:
        return None
    return LabSession.objects.select_related("lab", "lab__course", "host").filter(pk=session_id, user=user).first()


def current_session(*, user, lab) -> LabSession | None:
    """The live session, else the most recent one (so the page can say how it ended)."""
    sessions = LabSession.objects.filter(user=user, lab=lab).select_related("lab").order_by("-requested_at")
    return sessions.filter(state__in=LabSession.LIVE_STATES).first() or sessions.first()


def session_visible_to(*, user, session_id) -> LabSession | None:
    """A session for its owner, the instructors of the owner's cohort for the course, and admins."""
    from accounts.selectors import can_view_user

    if not user.is_authenticated:
        return None
    try:
        session = LabSession.objects.select_related("lab", "lab__course", "user", "host").filter(pk=session_id).first()
    except (ValueError, TypeError):
        return None
    if session is None:
        return None
    if session.user_id == user.pk or user.is_admin:
        return session
    return session if _teaches_student_in_course(user, session.user, session.lab.course) else None


def _teaches_student_in_course(teacher, student, course) -> bool:
    from accounts.models import Membership

    return Membership.objects.filter(
        user=student, role=Membership.Role.STUDENT, is_active=True, cohort__course=course,
        cohort__memberships__user=teacher, cohort__memberships__role=Membership.Role.INSTRUCTOR,
        cohort__memberships__is_active=True,
    ).exists()
