"""Writes for courses: importing a course folder, and a student's lesson progress."""

from __future__ import annotations

import hashlib
import logging
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from courses.content import ContentError, CourseSpec, Problem, load_course
from courses.markdown import BrokenLink, render
from courses.models import Course, Lesson, LessonProgress, Module

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass
class ImportResult:
    course: Course
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    unchanged: int = 0


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _lesson_urls(spec: CourseSpec) -> dict[Path, str]:
    return {lesson.path.resolve(): reverse("courses:lesson", args=[spec.slug, lesson.slug]) for lesson in spec.lessons}


def _resolver_for(path: Path, urls: dict[Path, str]):
    def resolve(href: str) -> str | None:
        if not href or href.startswith(("#", "/")) or "://" in href or href.startswith("mailto:"):
            return None
        target, _, anchor = href.partition("#")
        if not target.endswith(".md"):
            return None
        resolved = Path(posixpath.normpath(str(path.parent / target))).resolve()
        if resolved not in urls:
            raise BrokenLink(href, None)
        return urls[resolved] + (f"#{anchor}" if anchor else "")

    return resolve


def render_course(spec: CourseSpec) -> dict:
    """Render every Markdown text of the course; raise ContentError listing broken links."""
    urls = _lesson_urls(spec)
    problems: list[Problem] = []
    rendered: dict = {}

    def rel(path: Path) -> str:
        return str(path.relative_to(spec.path.parent))

    def do(key, text: str, path: Path, line_offset: int = 0):
        try:
            rendered[key] = render(text, resolver=_resolver_for(path, urls), line_offset=line_offset)
        except BrokenLink as exc:
            problems.append(Problem(rel(path), exc.line, str(exc)))

    do(("course",), spec.description, spec.path / "course.yaml")
    for lesson in spec.lessons:
        do(("lesson", lesson.slug), lesson.body, lesson.path, lesson.body_line - 1)
    for lab in spec.labs:
        do(("lab", lab.slug), lab.intro, lab.path / "intro.md")
        for task in lab.tasks:
            do(("task", lab.slug, task.slug), task.instructions, task.path / "instructions.md")
            solution = task.solution_markdown or f"```bash\n{task.solution_script.rstrip()}\n```\n"
            do(("solution", lab.slug, task.slug), solution, task.path / "solution.md")
            for i, hint in enumerate(task.hints):
                do(("hint", lab.slug, task.slug, i), hint, lab.path / "lab.yaml")
    if problems:
        raise ContentError(problems)
    return rendered


@transaction.atomic
def course_import(*, path: Path | str, progress: Progress | None = None) -> ImportResult:
    """Import (or re-import) the course folder at `path` in one transaction.

    Re-importing updates what changed and archives what was removed (kept for students' history),
    never duplicates rows and never touches progress. Invalid content raises ContentError
    (every problem with its file and line) before anything is written.
    """
    from labs.services import labs_sync  # labs are part of the course folder

    root = Path(path).resolve()
    spec = load_course(root)
    rendered = render_course(spec)
    total = 1 + len(spec.modules) + len(spec.lessons) + len(spec.labs)
    step = 0

    def tick(label: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(step, total, label)

    course, created = Course.objects.select_for_update().get_or_create(slug=spec.slug, defaults={"title": spec.title})
    result = ImportResult(course=course)
    (result.created if created else result.updated).append(f"course {spec.slug}")
    course.title, course.summary = spec.title, spec.summary
    course.description_html = rendered[("course",)]
    course.source_path = str(root)
    course.source_digest = _digest(root)
    course.imported_at = timezone.now()
    course.save()
    tick(f"course {spec.slug}")

    modules = {m.slug: m for m in course.modules.all()}
    lessons = {lesson.slug: lesson for lesson in course.lessons.all()}
    sequence = 0
    seen_lessons: set[str] = set()
    for module_spec in spec.modules:
        module = modules.get(module_spec.slug) or Module(course=course, slug=module_spec.slug)
        fresh = module.pk is None
        values = {
            "title": module_spec.title,
            "summary": module_spec.summary,
            "position": module_spec.position,
            "is_archived": False,
        }
        _apply(module, values, result, f"module {module_spec.slug}", fresh)
        tick(f"module {module_spec.slug}")
        for lesson_spec in module_spec.lessons:
            sequence += 1
            seen_lessons.add(lesson_spec.slug)
            lesson = lessons.get(lesson_spec.slug) or Lesson(course=course, slug=lesson_spec.slug)
            values = {
                "module": module,
                "title": lesson_spec.title,
                "summary": lesson_spec.summary,
                "minutes": lesson_spec.minutes,
                "position": lesson_spec.position,
                "sequence": sequence,
                "body_markdown": lesson_spec.body,
                "body_html": rendered[("lesson", lesson_spec.slug)],
                "source_file": str(lesson_spec.path.relative_to(root)),
                "is_archived": False,
            }
            _apply(lesson, values, result, f"lesson {lesson_spec.slug}", lesson.pk is None)
            lessons[lesson_spec.slug] = lesson
            tick(f"lesson {lesson_spec.slug}")

    seen_modules = {m.slug for m in spec.modules}
    for slug, module in modules.items():
        if slug not in seen_modules and not module.is_archived:
            module.is_archived = True
            module.save(update_fields=["is_archived"])
            result.archived.append(f"module {slug}")
    for slug, lesson in lessons.items():
        if slug not in seen_lessons and not lesson.is_archived:
            lesson.is_archived = True
            lesson.save(update_fields=["is_archived"])
            result.archived.append(f"lesson {slug}")

    labs_sync(course=course, spec=spec, rendered=rendered, lessons=lessons, result=result, tick=tick)
    log.info(
        "imported course %s: %d created, %d updated, %d archived",
        spec.slug,
        len(result.created),
        len(result.updated),
        len(result.archived),
    )
    return result


def _apply(obj, values: dict, result: ImportResult, label: str, fresh: bool) -> None:
    changed = fresh or any(getattr(obj, k) != v for k, v in values.items())
    for key, value in values.items():
        setattr(obj, key, value)
    if changed:
        obj.save()
        (result.created if fresh else result.updated).append(label)
    else:
        result.unchanged += 1


# --- progress ----------------------------------------------------------------------------------------


def lesson_visit(*, user, lesson: Lesson) -> LessonProgress:
    """Record that the student opened the lesson (for 'continue where you left off')."""
    now = timezone.now()
    progress, created = LessonProgress.objects.get_or_create(user=user, lesson=lesson)
    if not created:
        LessonProgress.objects.filter(pk=progress.pk).update(last_seen_at=now)
        progress.last_seen_at = now
    return progress


@transaction.atomic
def lesson_complete(*, user, lesson: Lesson, source: str = LessonProgress.Source.MANUAL) -> LessonProgress:
    progress, _ = LessonProgress.objects.select_for_update().get_or_create(user=user, lesson=lesson)
    if progress.completed_at is None:
        progress.completed_at = timezone.now()
        progress.completed_by = source
        progress.save(update_fields=["completed_at", "completed_by"])
    return progress


@transaction.atomic
def lesson_uncomplete(*, user, lesson: Lesson) -> LessonProgress:
    progress, _ = LessonProgress.objects.select_for_update().get_or_create(user=user, lesson=lesson)
    progress.completed_at = None
    progress.completed_by = ""
    progress.save(update_fields=["completed_at", "completed_by"])
    return progress


__all__ = ["ContentError", "ImportResult", "course_import", "lesson_complete", "lesson_uncomplete", "lesson_visit"]
