"""Lab pages, the student's session actions, and /healthz. Thin: selectors decide who sees what,
services do the work, LabError messages are shown to the person."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from labs import selectors, services
from labs.errors import LabError
from labs.health import platform_health


@never_cache
def healthz(request):
    report = platform_health()
    return JsonResponse(report, status=200 if not report["down"] else 503)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _reply(request, *, session=None, error: str = "", status: int = 200, fallback: str = ""):
    if _wants_json(request):
        body = {"session": services.session_snapshot(session) if session else None}
        if error:
            body["error"] = error
        return JsonResponse(body, status=status)
    if error:
        from django.contrib import messages

        messages.error(request, error)
    return redirect(fallback or (session.lab.get_absolute_url() if session else "dashboard"))


@login_required
def lab_detail(request, course_slug, lab_slug):
    lab = selectors.lab_for_user(user=request.user, course_slug=course_slug, lab_slug=lab_slug)
    if lab is None:
        raise Http404("No such lab")
    from labs import grading

    session = selectors.current_session(user=request.user, lab=lab)
    snapshot = services.session_snapshot(session) if session else None
    tasks = selectors.lab_tasks_for(
        user=request.user, lab=lab, session=session if session and session.is_live else None
    )
    submissions = list(selectors.submissions_of(user=request.user, lab=lab)[:10])
    context = {
        "lab": lab,
        "lesson": lab.lesson,
        "session": session,
        "session_data": snapshot,
        "tasks": tasks,
        "tasks_done": sum(1 for t in tasks if t["passed"]),
        "submissions": submissions,
        "new_feedback": [s for s in submissions if hasattr(s, "review") and s.review.seen_at is None],
    }
    response = render(request, "labs/lab.html", context)
    grading.reviews_mark_seen(user=request.user, lab=lab)
    return response


@login_required
@require_POST
def lab_start(request, course_slug, lab_slug):
    lab = selectors.lab_for_user(user=request.user, course_slug=course_slug, lab_slug=lab_slug)
    if lab is None:
        raise Http404("No such lab")
    try:
        session = services.lab_session_start(user=request.user, lab=lab)
    except LabError as exc:
        return _reply(request, error=str(exc), status=409, fallback=lab.get_absolute_url())
    session.refresh_from_db()
    return _reply(request, session=session, status=201)


ACTIONS = {
    "stop": lambda s, u: services.lab_session_stop(session=s, actor=u),
    "reset": lambda s, u: services.lab_session_reset(session=s, actor=u),
    "extend": lambda s, u: services.lab_session_extend(session=s, actor=u),
}


@login_required
@require_POST
def session_action(request, session_id, action):
    session = selectors.session_of_owner(user=request.user, session_id=session_id)
    if session is None or action not in ACTIONS:
        raise Http404("No such session")
    try:
        session = ACTIONS[action](session, request.user)
    except LabError as exc:
        return _reply(request, session=session, error=str(exc), status=409)
    return _reply(request, session=session)


@login_required
def session_status(request, session_id):
    session = selectors.session_of_owner(user=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such session")
    return JsonResponse({"session": services.session_snapshot(session)})


@login_required
def session_observe(request, session_id):
    """A read-only view of a student's live terminal, for their instructors and admins."""
    session = selectors.session_visible_to(user=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such session")
    if session.user_id == request.user.pk:
        return redirect(session.lab.get_absolute_url())
    if session.is_live:
        services.session_observed(session=session, actor=request.user)
    recordings = session.recordings.order_by("-started_at")
    return render(
        request,
        "labs/observe.html",
        {"session": session, "recordings": recordings, "tabs": ["main"] + [f"tab{i}" for i in range(2, 9)]},
    )


def _recording_or_404(user, recording_id):
    from labs.models import Recording

    recording = Recording.objects.select_related("session").filter(pk=recording_id).first()
    if recording is None or selectors.session_visible_to(user=user, session_id=recording.session_id) is None:
        raise Http404("No such recording")
    return recording


@login_required
def recording_detail(request, recording_id):
    recording = _recording_or_404(request.user, recording_id)
    session = selectors.session_visible_to(user=request.user, session_id=recording.session_id)
    return render(request, "labs/recording.html", {"recording": recording, "session": session})


@login_required
def recording_cast(request, recording_id):
    from pathlib import Path

    from django.http import FileResponse

    recording = _recording_or_404(request.user, recording_id)
    path = Path(recording.path)
    if not path.is_file():
        raise Http404("The recording file is missing")
    response = FileResponse(path.open("rb"), content_type="application/x-asciicast")
    response["Cache-Control"] = "private, no-store"
    return response


# --- tasks, hints, solutions, submissions ---------------------------------------------------------------


def _task_or_404(lab, slug):
    from labs.models import Task

    task = Task.objects.filter(lab=lab, slug=slug, is_archived=False).first()
    if task is None:
        raise Http404("No such task")
    return task


@login_required
@require_POST
def task_check(request, session_id, task_slug):
    from labs import checks

    session = selectors.session_of_owner(user=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such session")
    task = _task_or_404(session.lab, task_slug)
    try:
        attempt = checks.check_run(session=session, task=task, wait=15)
    except LabError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"result": checks.attempt_json(attempt)})


@login_required
@require_POST
def task_hint(request, course_slug, lab_slug, task_slug):
    from labs import checks

    lab = selectors.lab_for_user(user=request.user, course_slug=course_slug, lab_slug=lab_slug)
    if lab is None:
        raise Http404("No such lab")
    task = _task_or_404(lab, task_slug)
    hints = checks.hint_reveal(user=request.user, task=task)
    return JsonResponse({"hints": hints, "hints_left": len(task.hints) - len(hints)})


@login_required
@require_POST
def task_solution(request, course_slug, lab_slug, task_slug):
    from labs import checks

    lab = selectors.lab_for_user(user=request.user, course_slug=course_slug, lab_slug=lab_slug)
    if lab is None:
        raise Http404("No such lab")
    task = _task_or_404(lab, task_slug)
    return JsonResponse({"solution": checks.solution_reveal(user=request.user, task=task)})


@login_required
@require_POST
def session_submit(request, session_id):
    from labs import grading

    session = selectors.session_of_owner(user=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such session")
    try:
        submission = grading.submission_create(session=session)
    except LabError as exc:
        return _reply_error(request, session, str(exc))
    body = {
        "submission": {
            "id": submission.pk,
            "version": submission.version,
            "auto_points": submission.auto_points,
            "total_points": submission.total_points,
            "results": submission.results,
        }
    }
    if _wants_json(request):
        return JsonResponse(body, status=201)
    from django.contrib import messages

    messages.success(
        request,
        f"Submitted version {submission.version}: "
        f"{submission.auto_points}/{submission.total_points} points from the checks.",
    )
    return redirect(session.lab.get_absolute_url())


def _reply_error(request, session, error: str):
    if _wants_json(request):
        return JsonResponse({"error": error}, status=409)
    from django.contrib import messages

    messages.error(request, error)
    return redirect(session.lab.get_absolute_url())
