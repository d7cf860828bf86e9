"""course_import: idempotent, all-or-nothing, and it never loses a student's progress."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from courses.content import ContentError
from courses.models import Course, Lesson, LessonProgress, Module
from courses.services import course_import, lesson_complete
from labs.models import Lab, Task
from tests import factories

pytestmark = pytest.mark.django_db

REAL_COURSE = Path(__file__).resolve().parents[3] / "content" / "docker-crash-course"


def counts():
    return (
        Course.objects.count(),
        Module.objects.count(),
        Lesson.objects.count(),
        Lab.objects.count(),
        Task.objects.count(),
    )


def test_import_creates_everything_in_order(tmp_path):
    course = factories.import_mini_course(tmp_path)
    lessons = list(Lesson.objects.filter(course=course).order_by("sequence"))
    assert [(lesson.module.slug, lesson.slug, lesson.sequence) for lesson in lessons] == [
        ("basics", "hello", 1),
        ("basics", "second", 2),
        ("more", "more", 3),
    ]
    hello = lessons[0]
    # internal links are rewritten to lesson URLs (anchors kept)
    assert 'href="/courses/mini/second/#part-two"' in hello.body_html
    assert 'href="/courses/mini/more/"' in lessons[1].body_html
    assert hello.lab.slug == "first"
    lab = Lab.objects.get(course=course, slug="first")
    assert lab.lesson.slug == "more" and lab.pids_limit == 128 and lab.collect_paths == ["/home/student/notes.txt"]
    assert list(lab.tasks.values_list("slug", "points")) == [("make-file", 5), ("say-hello", 10)]
    assert "<code>touch</code>" in lab.tasks.first().hints[0]


def test_reimport_is_idempotent_and_updates_text(tmp_path):
    factories.import_mini_course(tmp_path)
    before = counts()
    result = course_import(path=tmp_path / "mini")
    assert counts() == before
    assert result.created == [] and result.updated == ["course mini"]
    lesson_file = tmp_path / "mini" / "01-basics" / "02-second.md"
    lesson_file.write_text(lesson_file.read_text().replace("Back to", "Return to"))
    result = course_import(path=tmp_path / "mini")
    assert "lesson second" in result.updated
    assert "Return to" in Lesson.objects.get(slug="second").body_html
    assert counts() == before


def test_progress_survives_reimport_and_lesson_removal(tmp_path):
    course = factories.import_mini_course(tmp_path)
    user = factories.make_user()
    second = Lesson.objects.get(course=course, slug="second")
    lesson_complete(user=user, lesson=second)
    (tmp_path / "mini" / "01-basics" / "02-second.md").unlink()
    hello = tmp_path / "mini" / "01-basics" / "01-hello.md"
    hello.write_text(hello.read_text().replace("Next is [the second lesson](02-second.md#part-two).", "Next."))
    result = course_import(path=tmp_path / "mini")
    assert "lesson second" in result.archived
    second.refresh_from_db()
    assert second.is_archived
    assert LessonProgress.objects.get(user=user, lesson=second).completed_at is not None
    # it comes back with the progress intact when restored
    (tmp_path / "mini" / "01-basics" / "02-second.md").write_text("---\ntitle: Second again\n---\nHi\n")
    course_import(path=tmp_path / "mini")
    second.refresh_from_db()
    assert not second.is_archived and second.title == "Second again"
    assert LessonProgress.objects.get(user=user, lesson=second).completed_at is not None


def test_bad_content_changes_nothing(tmp_path):
    factories.import_mini_course(tmp_path)
    before = counts()
    title_before = Lesson.objects.get(slug="hello").title
    root = tmp_path / "mini"
    hello = root / "01-basics" / "01-hello.md"
    hello.write_text(hello.read_text().replace("title: Hello", "title: Hello changed"))
    second = root / "01-basics" / "02-second.md"
    second.write_text(second.read_text() + "\nA [broken link](../02-more/99-nowhere.md).\n")
    with pytest.raises(ContentError) as info:
        course_import(path=root)
    assert [str(p) for p in info.value.problems] == [
        "mini/01-basics/02-second.md:9: link to '../02-more/99-nowhere.md' does not point to a lesson of this course"
    ]
    assert counts() == before
    assert Lesson.objects.get(slug="hello").title == title_before


def test_a_failure_midway_rolls_back(tmp_path, monkeypatch):
    factories.import_mini_course(tmp_path)
    before = counts()
    lab_yaml = tmp_path / "mini" / "labs" / "first" / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace("title: First lab", "title: Renamed lab"))

    import labs.services

    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(labs.services, "labs_sync", explode)
    with pytest.raises(RuntimeError):
        course_import(path=tmp_path / "mini")
    assert counts() == before
    assert Lab.objects.get(slug="first").title == "First lab"


def test_command_reports_problems_with_file_and_line(tmp_path, capsys):
    factories.import_mini_course(tmp_path)
    (tmp_path / "mini" / "02-more" / "module.yaml").write_text("title: [oops\n")
    with pytest.raises(CommandError):
        call_command("import_course", str(tmp_path / "mini"))
    err = capsys.readouterr().err
    assert "nothing was changed" in err and "mini/02-more/module.yaml:" in err


def test_the_real_course_imports_twice_without_duplicates():
    call_command("import_course", str(REAL_COURSE))
    before = counts()
    assert Module.objects.filter(course__slug="docker-crash-course").count() == 6
    call_command("import_course", str(REAL_COURSE))
    assert counts() == before
    html = "".join(Lesson.objects.values_list("body_html", flat=True))
    assert "<script" not in html
    assert "code-block runnable" in html
