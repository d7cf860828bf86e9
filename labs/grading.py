"""Submissions (immutable snapshots of a lab) and instructors' reviews of them."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from courses.markdown import render
from labs import checks
from labs.errors import InvalidTransition, LabError, NotAllowed
from labs.models import LabSession, Review, Submission, SubmissionFile, TaskAttempt, TaskProgress

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 256 * 1024
FEEDBACK_MAX = 20_000


def submission_create(*, session: LabSession) -> Submission:
    """Snapshot the lab: a fresh run of every check, the declared files (binary-safe, capped),
    the session's terminal recordings and the hints/solutions used. Re-submitting makes a new
    version; earlier ones are never changed."""
    from labs.services import backend_for

    session = LabSession.objects.select_related("lab", "lab__course", "host", "user").get(pk=session.pk)
    if session.state != LabSession.State.RUNNING:
        raise InvalidTransition("Submit while your lab is running: the checks and files come from your sandbox.")
    lab = session.lab
    tasks = list(lab.tasks.filter(is_archived=False).order_by("position"))
    results = []
    passed_slugs: set[str] = set()
    for task in tasks:
        if any(n not in passed_slugs for n in task.needs):
            results.append(
                {
                    "task": task.slug,
                    "title": task.title,
                    "passed": False,
                    "errored": False,
                    "feedback": "Not checked: a task it needs did not pass.",
                    "points": 0,
                    "max": task.points,
                }
            )
            continue
        outcome = checks.execute(session=session, task=task)
        checks.record(session=session, task=task, outcome=outcome, kind=TaskAttempt.Kind.SUBMIT)
        if outcome.passed:
            passed_slugs.add(task.slug)
        results.append(
            {
                "task": task.slug,
                "title": task.title,
                "passed": outcome.passed,
                "errored": outcome.errored,
                "feedback": outcome.feedback,
                "points": task.points if outcome.passed else 0,
                "max": task.points,
            }
        )
    backend = backend_for(session)
    files = [
        backend.read_file(session.container_id, path, max_bytes=MAX_FILE_BYTES, user=lab.check_user or "student")
        for path in lab.collect_paths
    ]
    progress = {p.task_id: p for p in TaskProgress.objects.filter(user_id=session.user_id, task__in=tasks)}
    help_used = [
        {
            "task": t.slug,
            "title": t.title,
            "hints": progress[t.pk].hints_revealed if t.pk in progress else 0,
            "hints_total": len(t.hints),
            "solution": bool(t.pk in progress and progress[t.pk].solution_revealed_at),
        }
        for t in tasks
    ]
    with transaction.atomic():
        version = (
            Submission.objects.select_for_update()
            .filter(user_id=session.user_id, lab=lab)
            .aggregate(v=Max("version"))["v"]
            or 0
        ) + 1
        submission = Submission.objects.create(
            session=session,
            user_id=session.user_id,
            lab=lab,
            version=version,
            results=results,
            help_used=help_used,
            auto_points=sum(r["points"] for r in results),
            total_points=sum(t.points for t in tasks),
        )
        SubmissionFile.objects.bulk_create(
            [
                SubmissionFile(
                    submission=submission,
                    path=f.path,
                    content=f.content,
                    size_bytes=f.size,
                    truncated=f.truncated,
                    missing=f.missing,
                )
                for f in files
            ]
        )
        submission.recordings.set(session.recordings.all())
    log.info(
        "submission %s: %s v%d by %s, %d/%d points",
        submission.pk,
        lab.slug,
        version,
        session.user,
        submission.auto_points,
        submission.total_points,
    )
    return submission


def can_grade(*, user, submission: Submission) -> bool:
    from labs.selectors import _teaches_student_in_course

    return user.is_authenticated and (
        user.is_admin or _teaches_student_in_course(user, submission.user, submission.lab.course)
    )


@transaction.atomic
def review_save(*, submission: Submission, grader, points: int, feedback: str) -> Review:
    """Grade a submission (points capped at the lab's total) with written feedback (Markdown).
    Saving again updates the grade; the student sees it as new."""
    if not can_grade(user=grader, submission=submission):
        raise NotAllowed("You do not teach this student.")
    if points < 0:
        raise LabError("Points cannot be negative.")
    if len(feedback) > FEEDBACK_MAX:
        raise LabError(f"Feedback is limited to {FEEDBACK_MAX} characters.")
    points = min(points, submission.total_points)
    review, _ = Review.objects.select_for_update().get_or_create(
        submission=submission, defaults={"grader": grader, "points": points}
    )
    review.grader, review.points = grader, points
    review.feedback_markdown, review.feedback_html = feedback, render(feedback)
    review.seen_at = None
    review.save()
    from labs.models import AuditEntry

    AuditEntry.objects.create(
        actor=grader,
        action="submission.grade",
        target_type="submission",
        target_id=str(submission.pk),
        details={"points": points},
    )
    return review


def reviews_mark_seen(*, user, lab=None) -> int:
    qs = Review.objects.filter(submission__user=user, seen_at__isnull=True)
    if lab is not None:
        qs = qs.filter(submission__lab=lab)
    return qs.update(seen_at=timezone.now())


def grades_csv_rows(*, cohort) -> tuple[list[str], list[list]]:
    """One row per student, one column per lab: the grade of the latest graded version."""
    from accounts.selectors import students_of
    from labs.models import Lab

    labs = list(Lab.objects.filter(course=cohort.course, is_archived=False).order_by("position"))
    students = list(students_of(cohort=cohort))
    grades: dict[tuple[int, int], int] = {}
    reviews = (
        Review.objects.filter(submission__user__in=students, submission__lab__in=labs)
        .select_related("submission")
        .order_by("submission__version")
    )
    for review in reviews:  # later versions overwrite earlier ones
        grades[(review.submission.user_id, review.submission.lab_id)] = review.points
    totals = {lab.pk: lab.total_points for lab in labs}
    header = ["username", "name", "email"] + [f"{lab.title} (/{totals[lab.pk]})" for lab in labs] + ["total"]
    rows = []
    for student in students:
        cells = [grades.get((student.pk, lab.pk), "") for lab in labs]
        rows.append([student.username, student.display_name, student.email, *cells, sum(c for c in cells if c != "")])
    return header, rows
