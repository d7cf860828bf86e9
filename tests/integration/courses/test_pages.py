"""Course pages and progress, and who may see whose progress."""

import pytest
from django.urls import reverse

from courses.models import Lesson, LessonProgress
from courses.services import lesson_complete
from tests import factories

pytestmark = pytest.mark.django_db


def test_catalog_and_course_overview_are_public(client, mini_course):
    assert "Mini Course" in client.get("/").content.decode()
    page = client.get(reverse("courses:course", args=["mini"])).content.decode()
    assert "Basics" in page and "Hello" in page and "Sign in to start" in page


def test_lesson_needs_login(client, mini_course):
    response = client.get(reverse("courses:lesson", args=["mini", "hello"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_student_marks_lesson_complete_and_sees_progress(client, student):
    client.force_login(student)
    page = client.get(reverse("courses:lesson", args=["mini", "hello"])).content.decode()
    assert 'class="code-block runnable"' in page and "Open the lab" in page
    response = client.post(reverse("courses:lesson-mark", args=["mini", "hello"]), {"next": "1"})
    assert response.status_code == 302 and response["Location"] == "/courses/mini/second/"
    progress = LessonProgress.objects.get(user=student, lesson__slug="hello")
    assert progress.completed_at is not None and progress.completed_by == "manual"
    course_page = client.get(reverse("courses:course", args=["mini"])).content.decode()
    assert "1 of 3 lessons done" in course_page
    assert 'aria-valuenow="50"' in course_page  # Basics: 1 of 2
    assert "Continue where you left off" in course_page and 'href="/courses/mini/second/"' in course_page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 of 3 lessons" in dashboard


def test_unmarking(client, student):
    client.force_login(student)
    lesson = Lesson.objects.get(slug="hello")
    lesson_complete(user=student, lesson=lesson)
    client.post(reverse("courses:lesson-mark", args=["mini", "hello"]), {"done": "0"})
    assert LessonProgress.objects.get(user=student, lesson=lesson).completed_at is None


def test_archived_lessons_are_404(client, student):
    client.force_login(student)
    Lesson.objects.filter(slug="second").update(is_archived=True)
    assert client.get(reverse("courses:lesson", args=["mini", "second"])).status_code == 404


def test_progress_page_permissions(client, cohort, student, instructor, admin_user):
    lesson_complete(user=student, lesson=Lesson.objects.get(slug="hello"))
    url = reverse("student-progress", args=[student.username])
    other_student = factories.make_user("mallory")
    factories.enrol(other_student, cohort)
    other_cohort = factories.make_cohort(cohort.course, "cohort-b")
    foreign_instructor = factories.make_user("frank")
    factories.enrol(foreign_instructor, other_cohort, role="instructor")

    client.force_login(student)
    assert client.get(url).status_code == 200
    for viewer in (instructor, admin_user):
        client.force_login(viewer)
        page = client.get(url)
        assert page.status_code == 200 and "Hello" in page.content.decode()
    for viewer in (other_student, foreign_instructor):
        client.force_login(viewer)
        assert client.get(url).status_code == 404
        # an unknown user gives the same answer: nothing leaks about who exists
        assert client.get(reverse("student-progress", args=["nobody-here"])).status_code == 404
