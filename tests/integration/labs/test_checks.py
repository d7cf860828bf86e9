"""Checks in a real sandbox: semantics, ordering, continuous checks, hints and solutions,
submissions, and the lesson completed by a lab."""

import pytest
from django.urls import reverse

from courses.models import LessonProgress
from labs import checks, grading, services
from labs.errors import LabError
from labs.models import LabSession, Recording, Submission, Task, TaskAttempt, TaskProgress

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def running(lab_env):
    session = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    session.refresh_from_db()
    assert session.state == LabSession.State.RUNNING, session.error
    return session


def sh(session, script):
    result = services.backend_for(session).exec(session.container_id, ["bash", "-c", script], user="student")
    assert result.exit_code == 0, result.output
    return result.output


def task(slug):
    return Task.objects.get(slug=slug)


def test_fail_with_message_then_pass(running):
    attempt = checks.check_run(session=running, task=task("make-file"))
    assert not attempt.passed and not attempt.errored
    assert attempt.feedback == "~/notes.txt does not exist yet"
    sh(running, "touch ~/notes.txt")
    attempt = checks.check_run(session=running, task=task("make-file"))
    assert attempt.passed and attempt.feedback == "found it"
    progress = TaskProgress.objects.get(user=running.user, task=task("make-file"))
    assert progress.passed_at is not None and progress.attempts == 2
    assert TaskAttempt.objects.filter(session=running).count() == 2


def test_needs_ordering(running):
    with pytest.raises(LabError, match="Finish “Make a file” first"):
        checks.check_run(session=running, task=task("say-hello"))
    assert not TaskAttempt.objects.filter(task=task("say-hello")).exists()  # it did not run


def test_last_fail_line_is_the_feedback(running):
    sh(running, "touch ~/notes.txt")
    checks.check_run(session=running, task=task("make-file"))
    attempt = checks.check_run(session=running, task=task("say-hello"))
    assert attempt.feedback == "notes.txt does not say hello"
    assert "trailing" in attempt.output


def test_hanging_check_times_out_and_is_killed(running):
    t = task("make-file")
    t.check_script = "sleep 300 & sleep 300; echo never\n"
    t.timeout_seconds = 2
    t.save()
    attempt = checks.check_run(session=running, task=t)
    assert attempt.errored and not attempt.passed
    assert "did not finish within 2 s" in attempt.feedback
    assert attempt.duration_ms < 8000
    left = sh(running, "pgrep -c -f '[s]leep 300' || true").strip()
    assert left == b"0"  # the whole process group was killed


def test_flooding_check_is_capped(running):
    t = task("make-file")
    t.check_script = "yes 'flood flood flood'\n"
    t.save()
    attempt = checks.check_run(session=running, task=t)
    assert attempt.errored and not attempt.passed
    assert "more than 16 KiB of output" in attempt.feedback
    assert len(attempt.output) <= 16 * 1024


def test_student_cannot_tamper_with_checks(running):
    # the check is not a file in the sandbox: deleting everything the student can changes nothing
    sh(running, "rm -rf ~/* ~/.[!.]* /tmp/* 2>/dev/null; true")
    attempt = checks.check_run(session=running, task=task("make-file"))
    assert not attempt.errored and attempt.feedback == "~/notes.txt does not exist yet"
    # a check that cannot start (its user is gone) is "failed to run", never a pass
    lab = running.lab
    lab.check_user = "ghost"
    lab.save()
    attempt = checks.check_run(session=running, task=task("make-file"))
    assert attempt.errored and not attempt.passed and "failed to run" in attempt.feedback


def test_checks_need_a_running_lab(running):
    services.lab_session_stop(session=running)
    running.refresh_from_db()
    with pytest.raises(LabError, match="Start the lab first"):
        checks.check_run(session=running, task=task("make-file"))


def test_continuous_checks_complete_tasks_and_the_lesson(running, lab_env):
    assert checks.check_auto(session_id=running.id)[0].passed is False
    sh(running, "echo hello > ~/notes.txt")  # what the student types in the terminal
    attempts = checks.check_auto(session_id=running.id)
    assert [(a.task.slug, a.passed, a.kind) for a in attempts] == [
        ("make-file", True, "auto"),
        ("say-hello", True, "auto"),
    ]
    lesson = running.lab.lesson
    progress = LessonProgress.objects.get(user=running.user, lesson=lesson)
    assert progress.completed_at is not None and progress.completed_by == "lab"
    assert checks.check_auto(session_id=running.id) == []  # nothing left to check


def test_auto_check_request_is_deduplicated(running, eager_celery):
    from django.core.cache import cache

    cache.delete(f"auto-check-queued:{running.pk}")
    eager_celery.conf.task_always_eager = False
    try:
        assert services.checks_request_auto(session=running) is True
        assert services.checks_request_auto(session=running) is False  # one round queued at a time
    finally:
        eager_celery.conf.task_always_eager = True
        cache.delete(f"auto-check-queued:{running.pk}")


def test_hints_one_at_a_time_and_solution_are_recorded(client, running, lab_env):
    client.force_login(lab_env["alice"])
    url = reverse("labs:task-hint", args=["mini", "first", "make-file"])
    first = client.post(url).json()
    assert len(first["hints"]) == 1 and first["hints_left"] == 1
    second = client.post(url).json()
    assert len(second["hints"]) == 2 and second["hints_left"] == 0
    assert client.post(url).json()["hints_left"] == 0  # no more
    solution = client.post(reverse("labs:task-solution", args=["mini", "first", "make-file"])).json()["solution"]
    from courses.markdown import plain_text

    assert "touch /home/student/notes.txt" in plain_text(solution)
    progress = TaskProgress.objects.get(user=lab_env["alice"], task=task("make-file"))
    assert progress.hints_revealed == 2 and progress.solution_revealed_at is not None
    client.force_login(lab_env["bob"])  # another student's reveal does not count for alice
    client.post(url)
    assert TaskProgress.objects.get(user=lab_env["alice"], task=task("make-file")).hints_revealed == 2


def test_check_over_http_only_for_the_owner(client, running, lab_env):
    url = reverse("labs:task-check", args=[running.id, "make-file"])
    client.force_login(lab_env["bob"])
    assert client.post(url).status_code == 404
    client.force_login(lab_env["alice"])
    body = client.post(url).json()
    assert body["result"]["task"] == "make-file" and body["result"]["passed"] is False


def test_submission_snapshot_and_versions(running, lab_env):
    sh(running, "printf 'hello\\n\\x00\\xff binary' > ~/notes.txt")
    Recording.objects.create(session=running, path="/nonexistent.cast", size_bytes=10)
    checks.hint_reveal(user=running.user, task=task("say-hello"))
    first = grading.submission_create(session=running)
    assert first.version == 1 and first.auto_points == 15 and first.total_points == 15
    assert [r["passed"] for r in first.results] == [True, True]
    (notes,) = first.files.all()
    assert notes.path == "/home/student/notes.txt" and bytes(notes.content) == b"hello\n\x00\xff binary"
    assert first.recordings.count() == 1
    assert {h["task"]: h["hints"] for h in first.help_used} == {"make-file": 0, "say-hello": 1}
    sh(running, "rm ~/notes.txt")
    second = grading.submission_create(session=running)
    assert second.version == 2 and second.auto_points == 0
    assert second.files.get().missing is True
    first.refresh_from_db()
    assert first.auto_points == 15 and bytes(first.files.get().content).startswith(b"hello")  # unchanged
    with pytest.raises(ValueError, match="immutable"):
        first.save()
    assert Submission.objects.filter(user=running.user).count() == 2


def test_submitted_files_are_size_capped_and_links_not_followed(running, monkeypatch):
    monkeypatch.setattr(grading, "MAX_FILE_BYTES", 1000)
    sh(running, "head -c 5000 /dev/zero > ~/notes.txt")
    submission = grading.submission_create(session=running)
    notes = submission.files.get()
    assert notes.truncated and len(bytes(notes.content)) == 1000 and notes.size_bytes == 5000
    sh(running, "rm ~/notes.txt; ln -s /etc/shadow ~/notes.txt")
    notes = grading.submission_create(session=running).files.get()
    assert b"root:" not in bytes(notes.content) and b"links are not followed" in bytes(notes.content)
