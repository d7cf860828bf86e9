"""Reads for labs, each answering only what the asking person may see."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from labs.models import DockerHost, LabSession, Review


def live_sessions_for_user(*, user) -> QuerySet[LabSession]:
    return LabSession.objects.filter(user=user, state__in=LabSession.LIVE_STATES).select_related("lab", "lab__course")


def recent_feedback_for(*, user, limit: int = 5) -> QuerySet[Review]:
    return (
        Review.objects.filter(submission__user=user)
        .select_related("submission", "submission__lab")
        .order_by("-graded_at")[:limit]
    )


def lab_for_user(*, user, course_slug: str, lab_slug: str):
    """The lab if this person may use it (member of a cohort of its course, or admin); else None."""
    from accounts.selectors import can_use_course
    from labs.models import Lab

    lab = (
        Lab.objects.select_related("course", "lesson")
        .filter(course__slug=course_slug, slug=lab_slug, is_archived=False, course__is_published=True)
        .first()
    )
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
        user=student,
        role=Membership.Role.STUDENT,
        is_active=True,
        cohort__course=course,
        cohort__memberships__user=teacher,
        cohort__memberships__role=Membership.Role.INSTRUCTOR,
        cohort__memberships__is_active=True,
    ).exists()


def lab_tasks_for(*, user, lab, session=None) -> list[dict]:
    """Each task of the lab with the student's standing: passed, hints revealed, solution, the
    latest check result in this session. Three queries whatever the number of tasks."""
    from labs.models import Task, TaskAttempt, TaskProgress

    tasks = list(Task.objects.filter(lab=lab, is_archived=False).order_by("position"))
    progress = {p.task_id: p for p in TaskProgress.objects.filter(user=user, task__in=tasks)}
    latest: dict[int, TaskAttempt] = {}
    if session is not None:
        for attempt in TaskAttempt.objects.filter(session=session).order_by("-created_at")[:500]:
            latest.setdefault(attempt.task_id, attempt)
    passed = {t.slug for t in tasks if t.pk in progress and progress[t.pk].passed_at}
    rows = []
    for task in tasks:
        p = progress.get(task.pk)
        revealed = p.hints_revealed if p else 0
        rows.append(
            {
                "task": task,
                "passed": task.slug in passed,
                "locked": any(n not in passed for n in task.needs),
                "hints": task.hints[:revealed],
                "hints_left": len(task.hints) - revealed,
                "solution": task.solution_html if p and p.solution_revealed_at else "",
                "attempt": latest.get(task.pk),
            }
        )
    return rows


def submissions_of(*, user, lab):
    from labs.models import Submission

    return Submission.objects.filter(user=user, lab=lab).select_related("review").order_by("-version")


def unseen_reviews_count(*, user) -> int:
    return Review.objects.filter(submission__user=user, seen_at__isnull=True).count()


# --- instructors' review queue ---------------------------------------------------------------------------


def _teacher_scope(user):
    """A Q over Submission limited to students of cohorts this person teaches, course by course."""
    from django.db.models import Q

    from accounts.models import Membership
    from accounts.selectors import cohorts_taught_by

    if user.is_admin:
        return Q()
    scope = Q(pk__in=[])
    for cohort in cohorts_taught_by(user=user):
        students = Membership.objects.filter(cohort=cohort, role=Membership.Role.STUDENT, is_active=True).values(
            "user_id"
        )
        scope |= Q(user_id__in=students, lab__course_id=cohort.course_id)
    return scope


def submissions_for_teacher(*, user, lab: str = "", student: str = "", status: str = "", cohort=None):
    from labs.models import Submission

    qs = Submission.objects.filter(_teacher_scope(user)).select_related("user", "lab", "lab__course", "review")
    if cohort is not None:
        from accounts.models import Membership

        qs = qs.filter(
            user__memberships__cohort=cohort,
            user__memberships__role=Membership.Role.STUDENT,
            lab__course_id=cohort.course_id,
        )
    if lab:
        qs = qs.filter(lab__slug=lab)
    if student:
        qs = qs.filter(user__username=student)
    if status == "ungraded":
        qs = qs.filter(review__isnull=True)
    elif status == "graded":
        qs = qs.filter(review__isnull=False)
    return qs.order_by("-created_at", "-pk").distinct()


def submission_for_teacher(*, user, submission_id):
    return submissions_for_teacher(user=user).filter(pk=submission_id).first()


def ungraded_count_for(*, user) -> int:
    return submissions_for_teacher(user=user, status="ungraded").count()


def live_sessions_for_cohort(*, cohort):
    """Live sessions of the cohort's active students in labs of its course."""
    from accounts.models import Membership

    students = Membership.objects.filter(cohort=cohort, role=Membership.Role.STUDENT, is_active=True).values("user_id")
    return (
        LabSession.objects.filter(
            state__in=LabSession.LIVE_STATES, user_id__in=students, lab__course_id=cohort.course_id
        )
        .select_related("user", "lab", "host")
        .order_by("lab__position", "user__username")
    )


def live_session_for_teacher(*, user, cohort, session_id) -> LabSession | None:
    try:
        return live_sessions_for_cohort(cohort=cohort).filter(pk=session_id).first()
    except (ValueError, TypeError):
        return None


def capacity_rows() -> list[dict]:
    """Every Docker host with its live sessions and load, and its health as the beat task
    (labs.tasks.check_docker_hosts, every 30 s) last recorded it."""
    live = [LabSession.State.PROVISIONING, LabSession.State.RUNNING, LabSession.State.STOPPING]
    load = dict(
        LabSession.objects.filter(state__in=live).values_list("host").annotate(n=Count("id")).values_list("host", "n")
    )
    return [
        {
            "host": host,
            "live": load.get(host.pk, 0),
            "percent": min(100, round(100 * load.get(host.pk, 0) / host.capacity)) if host.capacity else 100,
        }
        for host in DockerHost.objects.order_by("name")
    ]
