"""Running a task's check in the student's sandbox, and what follows from the result.

A check is a script (bash) run in the container as the lab's check user, fed over stdin, so the
student can neither read it in advance from the filesystem nor delete or edit it. Exit 0 passes;
on failure the last `FAIL: ...` line (else the last output line) is the feedback. A check that
cannot run properly (hangs past its time limit, floods output, or cannot start) is reported as
"the check failed to run", never as a pass.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labs import notify
from labs.errors import InvalidTransition, LabError
from labs.models import LabSession, Task, TaskAttempt, TaskProgress

log = logging.getLogger(__name__)

MAX_OUTPUT = 16 * 1024
KILL_GRACE = 2  # seconds between TERM and KILL when a check overruns
LOCK_SECONDS = 330  # longer than any check can take
FAIL_RE = re.compile(r"^\s*FAIL:\s*(.*\S)\s*$")
CANNOT_START = (
    "OCI runtime exec failed",
    "executable file not found",
    "unable to find user",
    "unable to start container process",
)


class CheckBusy(LabError):
    """Another check is running in this sandbox right now."""


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    errored: bool
    feedback: str
    output: str
    exit_code: int | None
    duration_ms: int


def feedback_from(output: str, *, passed: bool) -> str:
    """The line a student sees: the last `FAIL: ...` line, else the last non-empty line."""
    lines = [line for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        match = FAIL_RE.match(line)
        if match:
            return match.group(1)[:500]
    if lines:
        return lines[-1].strip()[:500]
    return "Passed." if passed else "Not done yet."


def interpret(result, *, timeout: int) -> CheckOutcome:
    """Turn a raw ExecResult into a CheckOutcome (pure: unit-tested without an engine)."""
    output = result.output.decode("utf-8", errors="replace")
    if result.truncated:
        return CheckOutcome(
            False,
            True,
            f"The check failed to run: it printed more than {MAX_OUTPUT // 1024} KiB of output.",
            output,
            None,
            result.duration_ms,
        )
    if result.timed_out or (result.exit_code in (124, 137) and result.duration_ms >= timeout * 1000):
        return CheckOutcome(
            False,
            True,
            f"The check failed to run: it did not finish within {timeout} s.",
            output,
            result.exit_code,
            result.duration_ms,
        )
    if result.exit_code is None:
        return CheckOutcome(False, True, "The check failed to run: no exit status.", output, None, result.duration_ms)
    if result.exit_code in (126, 127) and any(marker in output for marker in CANNOT_START):
        return CheckOutcome(
            False,
            True,
            "The check failed to run: its interpreter could not start in the sandbox.",
            output,
            result.exit_code,
            result.duration_ms,
        )
    passed = result.exit_code == 0
    return CheckOutcome(
        passed, False, feedback_from(output, passed=passed), output, result.exit_code, result.duration_ms
    )


def execute(*, session: LabSession, task: Task) -> CheckOutcome:
    """Run the task's check in the session's container now (blocking, at most timeout + grace)."""
    from labs.services import backend_for

    timeout = task.timeout_seconds
    user = session.lab.check_user or "student"
    cmd = ["timeout", "-k", str(KILL_GRACE), str(timeout), "bash", "-s"]
    result = backend_for(session).exec(
        session.container_id,
        cmd,
        user=user,
        stdin=task.check_script.encode(),
        timeout=timeout + KILL_GRACE + 2,
        max_output=MAX_OUTPUT,
        env={"BERTH_TASK": task.slug, "HOME": "/home/student", "LANG": "C.UTF-8"},
        workdir="/home/student",
    )
    return interpret(result, timeout=timeout)


def _lock_key(session_id) -> str:
    return f"check-lock:{session_id}"


def unmet_needs(*, session: LabSession, task: Task) -> list[Task]:
    if not task.needs:
        return []
    passed = set(
        TaskProgress.objects.filter(user_id=session.user_id, task__lab=task.lab, passed_at__isnull=False).values_list(
            "task__slug", flat=True
        )
    )
    return list(
        Task.objects.filter(lab=task.lab, slug__in=[n for n in task.needs if n not in passed]).order_by("position")
    )


def check_run(*, session: LabSession, task: Task, kind: str = TaskAttempt.Kind.MANUAL, wait: float = 0) -> TaskAttempt:
    """Run one check for the session's owner and record it (TaskAttempt, TaskProgress).

    Raises InvalidTransition when the lab is not running, LabError when a needed task has not
    passed yet, CheckBusy when another check holds the session (after waiting up to `wait` s).
    """
    import time

    session = LabSession.objects.select_related("lab", "lab__course", "lab__lesson", "host").get(pk=session.pk)
    if session.state != LabSession.State.RUNNING or not session.container_id:
        raise InvalidTransition("Start the lab first: checks run inside your sandbox.")
    if task.lab_id != session.lab_id or task.is_archived:
        raise LabError("That task is not part of this lab.")
    missing = unmet_needs(session=session, task=task)
    if missing:
        raise LabError(f"Finish “{missing[0].title}” first.")
    deadline = time.monotonic() + wait
    while not cache.add(_lock_key(session.pk), "1", LOCK_SECONDS):
        if time.monotonic() >= deadline:
            raise CheckBusy("A check is already running in your sandbox; try again in a moment.")
        time.sleep(0.1)
    try:
        outcome = execute(session=session, task=task)
    finally:
        cache.delete(_lock_key(session.pk))
    return record(session=session, task=task, outcome=outcome, kind=kind)


@transaction.atomic
def record(*, session: LabSession, task: Task, outcome: CheckOutcome, kind: str) -> TaskAttempt:
    attempt = TaskAttempt.objects.create(
        session=session,
        task=task,
        kind=kind,
        passed=outcome.passed,
        errored=outcome.errored,
        feedback=outcome.feedback[:2000],
        output=outcome.output[-MAX_OUTPUT:],
        exit_code=outcome.exit_code,
        duration_ms=outcome.duration_ms,
    )
    progress, _ = TaskProgress.objects.select_for_update().get_or_create(user_id=session.user_id, task=task)
    TaskProgress.objects.filter(pk=progress.pk).update(attempts=F("attempts") + 1)
    newly_passed = outcome.passed and progress.passed_at is None
    if newly_passed:
        TaskProgress.objects.filter(pk=progress.pk).update(passed_at=timezone.now())
    notify.send_on_commit(
        notify.status_group(session.user_id, session.lab_id),
        {"type": "task.result", "result": attempt_json(attempt, newly_passed=newly_passed)},
    )
    if newly_passed:
        _complete_lesson_if_done(session=session)
    return attempt


def attempt_json(attempt: TaskAttempt, *, newly_passed: bool = False) -> dict:
    return {
        "task": attempt.task.slug,
        "passed": attempt.passed,
        "errored": attempt.errored,
        "feedback": attempt.feedback,
        "kind": attempt.kind,
        "duration_ms": attempt.duration_ms,
        "at": attempt.created_at.isoformat(),
        "newly_passed": newly_passed,
    }


def _complete_lesson_if_done(*, session: LabSession) -> None:
    lab = session.lab
    if lab.lesson_id is None:
        return
    tasks = set(lab.tasks.filter(is_archived=False).values_list("pk", flat=True))
    passed = set(
        TaskProgress.objects.filter(user_id=session.user_id, task_id__in=tasks, passed_at__isnull=False).values_list(
            "task_id", flat=True
        )
    )
    if tasks and tasks <= passed:
        from courses.services import lesson_complete

        lesson_complete(user=session.user, lesson=lab.lesson, source="lab")


def pending_tasks(*, session: LabSession) -> list[Task]:
    """Tasks the student has not passed yet whose needs are met, in order (for auto checks)."""
    passed = set(
        TaskProgress.objects.filter(
            user_id=session.user_id, task__lab_id=session.lab_id, passed_at__isnull=False
        ).values_list("task__slug", flat=True)
    )
    tasks = Task.objects.filter(lab_id=session.lab_id, is_archived=False).order_by("position")
    return [t for t in tasks if t.slug not in passed and all(n in passed for n in t.needs)]


def check_auto(*, session_id) -> list[TaskAttempt]:
    """One round of continuous checking: each pending task once, skipping the round if another
    check holds the session. Failures of auto checks are recorded too (the page shows the latest)."""
    session = LabSession.objects.select_related("lab").filter(pk=session_id).first()
    if session is None or session.state != LabSession.State.RUNNING:
        return []
    attempts: list[TaskAttempt] = []
    tried: set[int] = set()
    while True:
        # Re-read after each pass: passing a task can unlock the ones that need it.
        task = next((t for t in pending_tasks(session=session) if t.pk not in tried), None)
        if task is None:
            return attempts
        tried.add(task.pk)
        try:
            attempt = check_run(session=session, task=task, kind=TaskAttempt.Kind.AUTO)
        except CheckBusy:
            return attempts
        except LabError:
            continue
        attempts.append(attempt)
        if not attempt.passed:
            return attempts  # later tasks usually build on this one: stop at the first that fails


# --- hints and solutions -------------------------------------------------------------------------------


@transaction.atomic
def hint_reveal(*, user, task: Task) -> list[str]:
    """Reveal the next hint (one at a time); return every hint revealed so far."""
    progress, _ = TaskProgress.objects.select_for_update().get_or_create(user=user, task=task)
    if progress.hints_revealed < len(task.hints):
        progress.hints_revealed += 1
        progress.save(update_fields=["hints_revealed", "updated_at"])
    return task.hints[: progress.hints_revealed]


@transaction.atomic
def solution_reveal(*, user, task: Task) -> str:
    progress, _ = TaskProgress.objects.select_for_update().get_or_create(user=user, task=task)
    if progress.solution_revealed_at is None:
        progress.solution_revealed_at = timezone.now()
        progress.save(update_fields=["solution_revealed_at", "updated_at"])
    return task.solution_html
