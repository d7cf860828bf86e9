"""Instructors' view of progress: the cohort heatmap (and CSV), one student's detail."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.models import Membership, User
from accounts.selectors import cohort_for_teacher_or_404
from courses import selectors


@login_required
def heatmap(request, cohort_slug):
    from labs.selectors import ungraded_count_for

    cohort = cohort_for_teacher_or_404(user=request.user, slug=cohort_slug)
    data = selectors.cohort_heatmap(cohort=cohort)
    return render(
        request,
        "teach/heatmap.html",
        {
            "cohort": cohort,
            "heatmap": data.as_json(),
            "student_count": len(data.students),
            "ungraded": ungraded_count_for(user=request.user),
        },
    )


@login_required
def heatmap_csv(request, cohort_slug):
    cohort = cohort_for_teacher_or_404(user=request.user, slug=cohort_slug)
    data = selectors.cohort_heatmap(cohort=cohort)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="progress-{cohort.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(["username", "name", "done"] + [f"{c['group']}: {c['label']}" for c in data.columns])
    names = {"lesson": selectors.LESSON_STATES, "task": selectors.TASK_STATES}
    for student in data.students:
        writer.writerow(
            [student["username"], student["name"], student["done"]]
            + [names[c["kind"]][code] for c, code in zip(data.columns, student["cells"], strict=True)]
        )
    writer.writerow(["", "completion %", ""] + [f"{rate}%" for rate in data.rates])
    return response


@login_required
def student_detail(request, cohort_slug, username):
    """Everything about one student of the cohort: lessons, lab tasks, sessions, submissions."""
    from labs.models import LabSession, Submission, TaskProgress

    cohort = cohort_for_teacher_or_404(user=request.user, slug=cohort_slug)
    student = User.objects.filter(
        username=username, memberships__cohort=cohort, memberships__role=Membership.Role.STUDENT
    ).first()
    if student is None:
        raise Http404("No such student in this cohort")
    progress = selectors.course_progress(course=cohort.course, user=student)
    tasks = (
        TaskProgress.objects.filter(user=student, task__lab__course=cohort.course)
        .select_related("task", "task__lab")
        .order_by("task__lab__position", "task__position")
    )
    sessions = (
        LabSession.objects.filter(user=student, lab__course=cohort.course)
        .select_related("lab")
        .order_by("-requested_at")[:20]
    )
    submissions = (
        Submission.objects.filter(user=student, lab__course=cohort.course)
        .select_related("lab", "review")
        .order_by("-created_at")[:20]
    )
    context = {
        "cohort": cohort,
        "student": student,
        "progress": progress,
        "tasks": tasks,
        "sessions": sessions,
        "submissions": submissions,
    }
    return render(request, "teach/student.html", context)
