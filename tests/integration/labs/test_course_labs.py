"""The Docker Crash Course's six labs: their shape, and their self-test on the real engine.

The fast test checks what the importer made of content/docker-crash-course/labs (one lab per
module, 3-6 tasks each, every task complete, each lab completing the lab lesson of its module).
The slow one runs `manage.py labs selftest --all`: for every lab a fresh sandbox, every check
fails before any work, each reference solution makes its check pass, and all still pass at the end.
"""

from pathlib import Path

import pytest
from django.core.management import call_command

from courses.models import Lesson, Module
from labs.models import Lab, LabSession

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COURSE = Path(__file__).resolve().parents[3] / "content" / "docker-crash-course"
LABS = ["fundamentals", "internals", "building-images", "networking-and-volumes", "compose", "best-practices"]


@pytest.fixture
def course():
    call_command("import_course", str(COURSE))
    return COURSE


def test_the_course_has_one_complete_lab_per_module(course):
    labs = list(Lab.objects.filter(course__slug="docker-crash-course", is_archived=False).order_by("slug"))
    assert sorted(lab.slug for lab in labs) == sorted(LABS)
    for lab in labs:
        assert lab.docker_enabled and lab.image == "berth/lab-docker:1", lab.slug
        tasks = list(lab.tasks.filter(is_archived=False).order_by("position"))
        assert 3 <= len(tasks) <= 6, f"{lab.slug} has {len(tasks)} tasks"
        for task in tasks:
            where = f"{lab.slug}/{task.slug}"
            assert task.instructions_html.strip(), f"{where}: no instructions"
            assert task.check_script.strip() and "FAIL:" in task.check_script, f"{where}: no check"
            assert task.solution_script.strip(), f"{where}: no solution"
            assert len(task.hints) >= 2, f"{where}: fewer than 2 hints"
        # The lab completes (and is shown beside) a lesson of its own module, the one just before
        # the module's interview questions, and that lesson types into this lab.
        assert lab.lesson is not None, f"{lab.slug}: no lesson"
        module = Module.objects.get(course=lab.course, slug=lab.slug)
        assert lab.lesson.module_id == module.pk, f"{lab.slug}: lesson {lab.lesson.slug} is in another module"
        assert lab.lesson.lab_id == lab.pk, f"{lab.slug}: its lesson's front matter names another lab"
        lessons = list(
            Lesson.objects.filter(module=module, is_archived=False).order_by("position").values_list("slug", flat=True)
        )
        assert lessons[-1].startswith("interview-questions"), lessons
        assert lessons[-2] == lab.lesson.slug, lessons


def test_every_lab_passes_its_self_test(course, eager_celery, engine_cleanup, capsys):
    call_command("labs", "selftest", "--all")
    out = capsys.readouterr().out
    for slug in LABS:
        assert f"PASS docker-crash-course/{slug}" in out, out
    assert f"{len(LABS)} of {len(LABS)} lab(s) pass their self-test" in out, out
    assert not LabSession.objects.filter(state__in=LabSession.LIVE_STATES).exists()  # cleaned up
