"""Reads for courses and progress."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet

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
        rows = list(
            LessonProgress.objects.filter(user=user, lesson__course=course, lesson__is_archived=False).values(
                "lesson_id", "completed_at", "last_seen_at"
            )
        )
    done_ids = {r["lesson_id"] for r in rows if r["completed_at"]}
    modules: dict[int, ModuleProgress] = {}
    for module in Module.objects.filter(course=course, is_archived=False).order_by("position"):
        modules[module.pk] = ModuleProgress(module=module, lessons=[], done=0)
    for lesson in lessons:
        mp = modules.get(lesson.module_id)
        if mp is not None:
            mp.lessons.append(lesson)
            mp.done += lesson.pk in done_ids
    return CourseProgress(
        course=course,
        modules=list(modules.values()),
        done_ids=done_ids,
        continue_lesson=_continue_at(lessons, rows, done_ids),
    )


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


# --- instructors: the cohort heatmap ------------------------------------------------------------------

LESSON_STATES = {"0": "not started", "1": "in progress", "2": "done"}
TASK_STATES = {
    "n": "not started",
    "a": "attempted",
    "h": "hint used",
    "s": "solution seen",
    "p": "passed",
    "q": "passed with hints",
    "r": "passed after the solution",
}


@dataclass
class Heatmap:
    columns: list[dict]
    students: list[dict]
    rates: list[int]

    def as_json(self) -> dict:
        return {
            "columns": self.columns,
            "students": self.students,
            "rates": self.rates,
            "legend": {"lesson": LESSON_STATES, "task": TASK_STATES},
        }


def _task_code(passed: bool, hints: int, solution: bool, attempts: int) -> str:
    if passed:
        return "r" if solution else ("q" if hints else "p")
    if solution:
        return "s"
    if hints:
        return "h"
    return "a" if attempts else "n"


def cohort_heatmap(*, cohort) -> Heatmap:
    """Students × (lessons and lab tasks) for one cohort, in five queries whatever its size.

    Each student's row is a string with one state code per column (LESSON_STATES, TASK_STATES)."""
    from accounts.selectors import students_of
    from labs.models import Task, TaskProgress

    course = cohort.course
    students = list(students_of(cohort=cohort).values("id", "username", "full_name", "first_name", "last_name"))
    lessons = list(
        Lesson.objects.filter(course=course, is_archived=False)
        .order_by("sequence")
        .values("id", "slug", "title", "module__title")
    )
    tasks = list(
        Task.objects.filter(lab__course=course, lab__is_archived=False, is_archived=False)
        .order_by("lab__position", "position")
        .values("id", "slug", "title", "lab__title", "lab__lesson_id")
    )
    tasks_after: dict[int | None, list[dict]] = {}
    for task in tasks:
        tasks_after.setdefault(task["lab__lesson_id"], []).append(task)
    columns: list[dict] = []
    for lesson in lessons:
        columns.append(
            {"kind": "lesson", "id": lesson["id"], "label": lesson["title"], "group": lesson["module__title"]}
        )
        for task in tasks_after.pop(lesson["id"], []):
            columns.append({"kind": "task", "id": task["id"], "label": task["title"], "group": task["lab__title"]})
    for leftover in tasks_after.values():  # labs not tied to a lesson go last
        columns.extend({"kind": "task", "id": t["id"], "label": t["title"], "group": t["lab__title"]} for t in leftover)

    # Booleans computed in SQL (no datetime parsing for tens of thousands of rows), filtered by the
    # cohort's students and the course's items without joins.
    ids = [s["id"] for s in students]
    lesson_ids = [lesson["id"] for lesson in lessons]
    task_ids = [task["id"] for task in tasks]
    done = ExpressionWrapper(Q(completed_at__isnull=False), output_field=BooleanField())
    lesson_state: dict[tuple[int, int], str] = {
        (user_id, lesson_id): "2" if completed else "1"
        for user_id, lesson_id, completed in LessonProgress.objects.filter(user_id__in=ids, lesson_id__in=lesson_ids)
        .annotate(done=done)
        .values_list("user_id", "lesson_id", "done")
    }
    passed = ExpressionWrapper(Q(passed_at__isnull=False), output_field=BooleanField())
    seen = ExpressionWrapper(Q(solution_revealed_at__isnull=False), output_field=BooleanField())
    task_state: dict[tuple[int, int], str] = {
        (user_id, task_id): _task_code(ok, hints, solution, attempts)
        for user_id, task_id, ok, hints, solution, attempts in TaskProgress.objects.filter(
            user_id__in=ids, task_id__in=task_ids
        )
        .annotate(ok=passed, solution=seen)
        .values_list("user_id", "task_id", "ok", "hints_revealed", "solution", "attempts")
    }

    done_per_column = [0] * len(columns)
    rows = []
    for student in students:
        codes = []
        finished = 0
        for i, column in enumerate(columns):
            key = (student["id"], column["id"])
            code = lesson_state.get(key, "0") if column["kind"] == "lesson" else task_state.get(key, "n")
            codes.append(code)
            if code in ("2", "p", "q", "r"):
                finished += 1
                done_per_column[i] += 1
        name = student["full_name"] or f"{student['first_name']} {student['last_name']}".strip() or student["username"]
        rows.append(
            {
                "id": student["id"],
                "username": student["username"],
                "name": name,
                "cells": "".join(codes),
                "done": finished,
            }
        )
    rates = [round(100 * d / len(students)) if students else 0 for d in done_per_column]
    return Heatmap(columns=columns, students=rows, rates=rates)
