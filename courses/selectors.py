"""Reads for courses and progress."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from courses.models import Course, Lesson, LessonProgress, Module


def published_courses() -> QuerySet[Course]:
    return Course.objects.filter(is_published=True).annotate(
        lesson_count=Count("lessons", filter=Q(lessons__is_archived=False))
    )


def course_lessons(*, course: Course) -> QuerySet[Lesson]:
    return Lesson.objects.filter(course=course, is_archived=False).select_related("module").order_by("sequence")


@dataclass
class ModuleProgress:
    module: Module
    lessons: list[Lesson]
    done: int

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class CourseProgress:
    course: Course
    modules: list[ModuleProgress]
    done_ids: set[int]
    continue_lesson: Lesson | None

    @property
    def done(self) -> int:
        return sum(m.done for m in self.modules)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.modules)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def course_progress(*, course: Course, user) -> CourseProgress:
    """Per-module progress and where to continue, for one student (3 queries)."""
    lessons = list(course_lessons(course=course))
    rows = []
    if user.is_authenticated:
        rows = list(LessonProgress.objects.filter(user=user, lesson__course=course, lesson__is_archived=False)
                    .values("lesson_id", "completed_at", "last_seen_at"))
    done_ids = {r["lesson_id"] for r in rows if r["completed_at"]}
    modules: dict[int, ModuleProgress] = {}
    for module in Module.objects.filter(course=course, is_archived=False).order_by("position"):
        modules[module.pk] = ModuleProgress(module=module, lessons=[], done=0)
    for lesson in lessons:
        mp = modules.get(lesson.module_id)
        if mp is not None:
            mp.lessons.append(lesson)
            mp.done += lesson.pk in done_ids
    return CourseProgress(course=course, modules=list(modules.values()), done_ids=done_ids,
                          continue_lesson=_continue_at(lessons, rows, done_ids))


def _continue_at(lessons: list[Lesson], rows: list[dict], done_ids: set[int]) -> Lesson | None:
    """The last lesson opened if unfinished, else the first unfinished one after it."""
    if not lessons:
        return None
    if not rows:
        return lessons[0]
    last = max(rows, key=lambda r: r["last_seen_at"])["lesson_id"]
    index = next((i for i, lesson in enumerate(lessons) if lesson.pk == last), 0)
    for lesson in lessons[index:] + lessons[:index]:
        if lesson.pk not in done_ids:
            return lesson
    return None


def lesson_neighbours(*, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    qs = Lesson.objects.filter(course_id=lesson.course_id, is_archived=False)
    prev = qs.filter(sequence__lt=lesson.sequence).order_by("-sequence").first()
    nxt = qs.filter(sequence__gt=lesson.sequence).order_by("sequence").first()
    return prev, nxt


def lesson_progress_for(*, user, lesson: Lesson) -> LessonProgress | None:
    if not user.is_authenticated:
        return None
    return LessonProgress.objects.filter(user=user, lesson=lesson).first()
