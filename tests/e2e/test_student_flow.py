"""A demo student in real Chromium: a lesson marked complete; a lab's terminal typed into."""

from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from courses.models import LessonProgress
from tests import factories
from tests.e2e.conftest import ARTIFACTS, login, open_lab_terminal, type_line

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.slow]
COURSE = Path(__file__).resolve().parents[2] / "content" / "docker-crash-course"


@pytest.fixture
def demo(live_server_url):
    call_command("import_course", str(COURSE))
    call_command("seed_demo")
    return live_server_url


def test_student_opens_a_lesson_and_marks_it_complete(demo, page):
    login(page, demo, "alice", "berth-student")
    page.click("text=Docker Crash Course")
    page.click("#continue")
    page.wait_for_selector("article.lesson h1")
    title = page.inner_text("article.lesson h1")
    assert page.locator(".code-block.runnable .run-btn").count() >= 1
    page.click("#mark-complete")
    page.wait_for_load_state("networkidle")
    alice = User.objects.get(username="alice")
    done = LessonProgress.objects.get(user=alice, completed_at__isnull=False)
    assert done.lesson.title == title
    page.goto(f"{demo}/courses/docker-crash-course/")
    assert "1 of" in page.inner_text(".progress-summary")
    page.screenshot(path=str(ARTIFACTS / "course-progress.png"), full_page=True)


@pytest.fixture
def lab_url(demo, engine_cleanup):
    factories.import_mini_course()
    cohort = factories.make_cohort(factories.Course.objects.get(slug="mini"), "mini-demo")
    factories.enrol(User.objects.get(username="alice"), cohort)
    return f"{demo}/labs/mini/first/"


def test_student_types_in_the_lab_terminal_and_reloads(lab_url, demo, page):
    open_lab_terminal(page, demo, lab_url, "alice", "berth-student")
    type_line(page, "echo berth-$((6*7))")
    page.wait_for_function(
        "document.querySelector('.term-pane .xterm-rows').innerText.includes('berth-42')", timeout=20000
    )
    page.screenshot(path=str(ARTIFACTS / "lab-terminal.png"))
    page.reload()
    page.wait_for_selector(".term-pane .xterm-screen", timeout=20000)
    # the same tmux session: the previous output is still on the screen
    page.wait_for_function(
        "document.querySelector('.term-pane .xterm-rows').innerText.includes('berth-42')", timeout=20000
    )
    page.screenshot(path=str(ARTIFACTS / "lab-terminal-after-reload.png"))


def test_task_turns_green_submit_grade_and_feedback(lab_url, demo, page, browser):
    cohort = factories.Cohort.objects.get(slug="mini-demo")
    factories.enrol(User.objects.get(username="instructor"), cohort, "instructor")
    open_lab_terminal(page, demo, lab_url, "alice", "berth-student")
    type_line(page, "echo hello > ~/notes.txt")
    # continuous checking turns both tasks green without a click
    page.wait_for_selector('.task[data-task="make-file"].passed', timeout=40000)
    page.wait_for_selector('.task[data-task="say-hello"].passed', timeout=40000)
    page.screenshot(path=str(ARTIFACTS / "lab-tasks-green.png"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#btn-submit")
    page.wait_for_function(
        "document.getElementById('submit-status').innerText.includes('Submitted version 1')", timeout=60000
    )

    teacher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    login(teacher, demo, "instructor", "berth-teach")
    teacher.goto(f"{demo}/teach/reviews/?status=ungraded")
    teacher.click("#queue a.button")
    teacher.fill("#id_points", "14")
    teacher.fill("#id_feedback", "Great work, **Alice**.")
    teacher.screenshot(path=str(ARTIFACTS / "review-submission.png"), full_page=True)
    teacher.click("button[name=next]")
    teacher.wait_for_load_state("networkidle")

    page.goto(f"{demo}/dashboard/")
    assert page.inner_text(".nav .badge") == "1"
    feedback = page.inner_text(".feedback-row")
    assert "14/15" in feedback and "Great work, Alice." in feedback


def test_instructor_opens_the_heatmap_and_observes_a_student(lab_url, demo, page, browser):
    cohort = factories.Cohort.objects.get(slug="mini-demo")
    factories.enrol(User.objects.get(username="instructor"), cohort, "instructor")
    open_lab_terminal(page, demo, lab_url, "alice", "berth-student")
    type_line(page, "echo watched-by-teacher")

    teacher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    login(teacher, demo, "instructor", "berth-teach")
    teacher.goto(f"{demo}/teach/cohorts/mini-demo/progress/")
    teacher.wait_for_selector("#heatmap tbody tr")
    assert "Alice Student" in teacher.inner_text("#heatmap tbody")
    teacher.screenshot(path=str(ARTIFACTS / "heatmap.png"), full_page=True)
    teacher.goto(f"{demo}/teach/cohorts/mini-demo/live/")
    teacher.click("text=Observe")
    teacher.wait_for_function(
        "document.querySelector('#observe-terminal .xterm-rows') && "
        "document.querySelector('#observe-terminal .xterm-rows').innerText.includes('watched-by-teacher')",
        timeout=20000,
    )
    # the student keeps typing; the observer sees it live
    type_line(page, "echo second-line-live")
    teacher.wait_for_function(
        "document.querySelector('#observe-terminal .xterm-rows').innerText.includes('second-line-live')", timeout=20000
    )
    teacher.screenshot(path=str(ARTIFACTS / "observe.png"))


def test_run_button_starts_the_lab_and_types_the_command(lab_url, demo, page):
    login(page, demo, "alice", "berth-student")
    page.goto(f"{demo}/courses/mini/hello/")
    page.click(".code-block.runnable .run-btn")
    page.wait_for_selector("#terminal-dock .term-pane .xterm-screen", timeout=60000)
    page.wait_for_function(
        "document.querySelector('#terminal-dock .xterm-rows').innerText.includes('hello from the lesson')",
        timeout=30000,
    )
    page.screenshot(path=str(ARTIFACTS / "lesson-run-dock.png"))
