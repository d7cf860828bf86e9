"""The cohort heatmap: content on a small fixture, constant queries on a large one, CSV, and
who may see it."""

import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from courses.models import Lesson, LessonProgress
from courses.selectors import cohort_heatmap
from labs.models import Task, TaskProgress
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def classroom(mini_course):
    cohort = factories.make_cohort(mini_course, "class")
    people = {n: factories.make_user(n, full_name=n.title()) for n in ("amy", "bo", "cy", "teacher")}
    for n in ("amy", "bo", "cy"):
        factories.enrol(people[n], cohort)
    factories.enrol(people["teacher"], cohort, "instructor")
    lessons = {lesson.slug: lesson for lesson in Lesson.objects.all()}
    tasks = {t.slug: t for t in Task.objects.all()}
    now = timezone.now()
    LessonProgress.objects.create(user=people["amy"], lesson=lessons["hello"], completed_at=now)
    LessonProgress.objects.create(user=people["amy"], lesson=lessons["second"])
    LessonProgress.objects.create(user=people["bo"], lesson=lessons["hello"], completed_at=now)
    TaskProgress.objects.create(user=people["amy"], task=tasks["make-file"], passed_at=now, attempts=2)
    TaskProgress.objects.create(user=people["amy"], task=tasks["say-hello"], hints_revealed=1, attempts=1)
    TaskProgress.objects.create(user=people["bo"], task=tasks["make-file"], passed_at=now, hints_revealed=2, attempts=3)
    TaskProgress.objects.create(user=people["cy"], task=tasks["make-file"], solution_revealed_at=now)
    return {"cohort": cohort, **people}


def test_heatmap_content(classroom):
    data = cohort_heatmap(cohort=classroom["cohort"])
    # lessons in course order; the lab's tasks right after the lesson the lab completes ("more")
    assert [(c["kind"], c["label"]) for c in data.columns] == [
        ("lesson", "Hello"),
        ("lesson", "Second"),
        ("lesson", "More things"),
        ("task", "Make a file"),
        ("task", "Say hello"),
    ]
    rows = {s["username"]: s for s in data.students}
    assert rows["amy"]["cells"] == "210ph" and rows["amy"]["done"] == 2
    assert rows["bo"]["cells"] == "200qn" and rows["bo"]["done"] == 2
    assert rows["cy"]["cells"] == "000sn" and rows["cy"]["done"] == 0
    assert data.rates == [67, 0, 0, 67, 0]
    assert "teacher" not in rows


def test_heatmap_page_and_csv(client, classroom):
    client.force_login(classroom["teacher"])
    page = client.get(reverse("teach:heatmap", args=["class"]))
    assert page.status_code == 200
    embedded = json.loads(
        page.content.decode().split('id="heatmap-data" type="application/json">')[1].split("</script>")[0]
    )
    assert len(embedded["students"]) == 3 and embedded["legend"]["task"]["q"] == "passed with hints"
    response = client.get(reverse("teach:heatmap-csv", args=["class"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["username", "name", "done", "Basics: Hello"]
    amy = next(r for r in rows if r[0] == "amy")
    assert amy[3:] == ["done", "in progress", "not started", "passed", "hint used"]
    assert rows[-1][3:] == ["67%", "0%", "0%", "67%", "0%"]
    detail = client.get(reverse("teach:student", args=["class", "amy"])).content.decode()
    assert "Make a file" in detail and "Amy" in detail


def test_query_count_does_not_grow_with_students(client, mini_course, django_assert_max_num_queries):
    cohort = factories.make_cohort(mini_course, "big")
    teacher = factories.make_user("bigteacher")
    factories.enrol(teacher, cohort, "instructor")
    lessons = list(Lesson.objects.all())
    tasks = list(Task.objects.all())
    users = User.objects.bulk_create([User(username=f"s{i:03d}", full_name=f"Student {i:03d}") for i in range(500)])
    Membership.objects.bulk_create([Membership(user=u, cohort=cohort) for u in users])
    now = timezone.now()
    LessonProgress.objects.bulk_create(
        [
            LessonProgress(user=u, lesson=lesson, completed_at=now if i % 2 else None)
            for i, u in enumerate(users)
            for lesson in lessons
        ]
    )
    TaskProgress.objects.bulk_create(
        [
            TaskProgress(user=u, task=t, passed_at=now if i % 3 else None, attempts=1)
            for i, u in enumerate(users)
            for t in tasks
        ]
    )
    client.force_login(teacher)
    client.get(reverse("teach:heatmap", args=["big"]))  # warm caches (sessions, content types)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("teach:heatmap", args=["big"]))
    assert page.status_code == 200 and page.context["student_count"] == 500


def test_two_cohorts_cannot_see_each_other(client, classroom, mini_course):
    other = factories.make_cohort(mini_course, "other")
    outsider = factories.make_user("outsider-teacher")
    factories.enrol(outsider, other, "instructor")
    client.force_login(outsider)
    for name, args in [
        ("teach:heatmap", ["class"]),
        ("teach:heatmap-csv", ["class"]),
        ("teach:live", ["class"]),
        ("teach:live-stats", ["class"]),
        ("teach:student", ["class", "amy"]),
        ("teach:grades-csv", ["class"]),
        ("teach:cohort-people", ["class"]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client.get(reverse("teach:heatmap", args=["no-such-cohort"])).status_code == 404
    # a student of another cohort is not a student of this one, even by URL
    stranger = factories.make_user("stranger")
    factories.enrol(stranger, other)
    client.force_login(classroom["teacher"])
    assert client.get(reverse("teach:student", args=["class", "stranger"])).status_code == 404
    client.force_login(classroom["amy"])  # students see no teaching page
    assert client.get(reverse("teach:heatmap", args=["class"])).status_code == 404
    assert client.get(reverse("teach:home")).status_code == 404
