#!/usr/bin/env python
"""The instructor heatmap at school scale: 500 students × 40 items (30 lessons, 10 lab tasks).

Builds the data in a scratch PostgreSQL database (created and dropped here; DATABASE_URL names
the server, default the one `make test` starts), then requests the heatmap page N times through
Django's test client (the full middleware, view, selectors and template). Baseline, same run:
the heatmap's underlying rows fetched with raw SQL (the floor any page must pay). The last line
is one JSON object: students, items, p50_ms, p95_ms, queries, raw_p50_ms, ratio_p50.
Usage: .venv/bin/python bench/dashboard.py [--students 500] [--n 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DATABASE_URL", "postgres://berth:berth@127.0.0.1:5432/berth")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    original = connection.settings_dict["NAME"]
    scratch = f"berth_bench_dashboard_{os.getpid()}"
    connection.settings_dict["TEST"] = {**connection.settings_dict.get("TEST", {}), "NAME": scratch}
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        result = run(args)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    print(json.dumps(result))


def run(args) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Cohort, Membership, User
    from courses.models import Course, Lesson, LessonProgress, Module
    from labs.models import Lab, Task, TaskProgress

    started = time.perf_counter()
    course = Course.objects.create(slug="bench", title="Bench course")
    lessons = []
    for m in range(6):
        module = Module.objects.create(course=course, slug=f"m{m}", title=f"Module {m}", position=m)
        for i in range(5):
            lessons.append(
                Lesson(
                    course=course,
                    module=module,
                    slug=f"l{m}-{i}",
                    title=f"Lesson {m}.{i}",
                    position=i,
                    sequence=m * 5 + i,
                    body_html="<p>x</p>",
                )
            )
    lessons = Lesson.objects.bulk_create(lessons)
    tasks = []
    for lab_no in range(2):
        lab = Lab.objects.create(
            course=course,
            slug=f"lab{lab_no}",
            title=f"Lab {lab_no}",
            image="berth/lab-base:1",
            lesson=lessons[15 * lab_no + 14],
            position=lab_no,
        )
        tasks += Task.objects.bulk_create(
            [Task(lab=lab, slug=f"t{i}", title=f"Task {i}", position=i, check_script="true") for i in range(5)]
        )
    cohort = Cohort.objects.create(course=course, slug="bench", name="Bench cohort")
    teacher = User.objects.create_user("bench-teacher", password=None)
    Membership.objects.create(user=teacher, cohort=cohort, role="instructor")
    users = User.objects.bulk_create(
        [User(username=f"student{i:04d}", full_name=f"Student {i:04d}") for i in range(args.students)]
    )
    Membership.objects.bulk_create([Membership(user=u, cohort=cohort) for u in users])
    now = timezone.now()
    LessonProgress.objects.bulk_create(
        [
            LessonProgress(user=u, lesson=lesson, completed_at=now if (i + j) % 3 else None)
            for i, u in enumerate(users)
            for j, lesson in enumerate(lessons)
            if (i * 7 + j) % 5
        ],
        batch_size=5000,
    )
    TaskProgress.objects.bulk_create(
        [
            TaskProgress(user=u, task=t, passed_at=now if (i + j) % 2 else None, hints_revealed=(i + j) % 3, attempts=1)
            for i, u in enumerate(users)
            for j, t in enumerate(tasks)
            if (i + j) % 4
        ],
        batch_size=5000,
    )
    setup_seconds = time.perf_counter() - started
    items = len(lessons) + len(tasks)

    client = Client()
    client.force_login(teacher)
    url = "/teach/cohorts/bench/progress/"
    assert client.get(url).status_code == 200  # warm up
    page_ms, queries = [], 0
    for _ in range(args.n):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)
            page_ms.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200 and len(response.content) > 0
        queries = len(ctx.captured_queries)

    student_ids = [u.pk for u in users]
    lesson_ids, task_ids = [lesson.pk for lesson in lessons], [t.pk for t in tasks]
    raw_ms = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT user_id, lesson_id, completed_at IS NOT NULL FROM courses_lessonprogress "
                "WHERE user_id = ANY(%s) AND lesson_id = ANY(%s)",
                [student_ids, lesson_ids],
            )
            cursor.fetchall()
            cursor.execute(
                "SELECT user_id, task_id, passed_at IS NOT NULL, hints_revealed, "
                "solution_revealed_at IS NOT NULL, attempts FROM labs_taskprogress "
                "WHERE user_id = ANY(%s) AND task_id = ANY(%s)",
                [student_ids, task_ids],
            )
            cursor.fetchall()
        raw_ms.append((time.perf_counter() - t0) * 1000)

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(round((len(values) - 1) * p / 100)))]

    p50, raw = statistics.median(page_ms), statistics.median(raw_ms)
    print(
        f"setup {setup_seconds:.1f}s; page p50 {p50:.1f} ms, raw rows p50 {raw:.1f} ms, {queries} queries, "
        f"{len(response.content) // 1024} KiB",
        file=sys.stderr,
    )
    return {
        "bench": "dashboard",
        "students": args.students,
        "items": items,
        "p50_ms": round(p50, 1),
        "p95_ms": round(pct(page_ms, 95), 1),
        "queries": queries,
        "raw_p50_ms": round(raw, 1),
        "ratio_p50": round(p50 / raw, 2),
        "page_bytes": len(response.content),
        "n": args.n,
        "baseline": "the same progress rows fetched with raw SQL",
    }


if __name__ == "__main__":
    main()
