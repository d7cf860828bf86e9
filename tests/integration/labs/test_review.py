"""Review queue, grading and export, and who may see what (two cohorts of one course)."""

import csv
import io

import pytest
from django.urls import reverse

from labs import grading
from labs.errors import NotAllowed
from labs.models import AuditEntry, Lab, Review
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(mini_course):
    lab = Lab.objects.get(slug="first")
    a, b = factories.make_cohort(mini_course, "cohort-a"), factories.make_cohort(mini_course, "cohort-b")
    people = {name: factories.make_user(name) for name in ("anna", "ben", "teach_a", "teach_b")}
    factories.enrol(people["anna"], a)
    factories.enrol(people["ben"], b)
    factories.enrol(people["teach_a"], a, "instructor")
    factories.enrol(people["teach_b"], b, "instructor")
    subs = {
        "anna1": factories.make_submission(people["anna"], lab, version=1, auto_points=5),
        "anna2": factories.make_submission(people["anna"], lab, version=2, auto_points=15),
        "ben1": factories.make_submission(people["ben"], lab, version=1, auto_points=10),
    }
    return {"lab": lab, "a": a, "b": b, **people, **subs}


def test_queue_shows_only_my_cohorts_newest_first(client, school):
    client.force_login(school["teach_a"])
    page = client.get(reverse("teach:reviews"))
    rows = list(page.context["submissions"])
    assert rows == [school["anna2"], school["anna1"]]
    client.force_login(school["teach_b"])
    assert list(client.get(reverse("teach:reviews")).context["submissions"]) == [school["ben1"]]


def test_queue_filters(client, school, admin_user):
    grading.review_save(submission=school["anna1"], grader=school["teach_a"], points=4, feedback="ok")
    client.force_login(admin_user)
    get = lambda **q: list(client.get(reverse("teach:reviews"), q).context["submissions"])  # noqa: E731
    assert len(get()) == 3
    assert get(student="ben") == [school["ben1"]]
    assert get(status="graded") == [school["anna1"]]
    assert school["anna1"] not in get(status="ungraded")
    assert get(lab="nope") == []


def test_guessed_ids_are_404(client, school):
    client.force_login(school["teach_b"])
    assert client.get(reverse("teach:submission", args=[school["anna1"].pk])).status_code == 404
    assert client.post(reverse("teach:submission", args=[school["anna1"].pk]), {"points": 1}).status_code == 404
    assert client.get(reverse("teach:grades-csv", args=["cohort-a"])).status_code == 404
    client.force_login(school["anna"])  # students cannot reach the teaching pages at all
    assert client.get(reverse("teach:reviews")).status_code == 404
    assert client.get(reverse("teach:submission", args=[school["anna1"].pk])).status_code == 404
    with pytest.raises(NotAllowed):
        grading.review_save(submission=school["anna1"], grader=school["teach_b"], points=1, feedback="")


def test_grade_is_capped_feedback_sanitized_and_save_and_next(client, school):
    client.force_login(school["teach_a"])
    url = reverse("teach:submission", args=[school["anna2"].pk]) + "?status=ungraded"
    response = client.post(
        url, {"points": 999, "feedback": "Nice! <script>alert(1)</script> **well done**", "next": "1"}
    )
    review = Review.objects.get(submission=school["anna2"])
    assert review.points == 15  # capped at the lab's total
    assert "<script" not in review.feedback_html and "<strong>well done</strong>" in review.feedback_html
    assert response.status_code == 302 and f"/teach/submissions/{school['anna1'].pk}/" in response["Location"]
    assert AuditEntry.objects.filter(action="submission.grade", target_id=str(school["anna2"].pk)).exists()


def test_student_sees_grade_and_badge_until_viewed(client, school):
    grading.review_save(submission=school["anna2"], grader=school["teach_a"], points=12, feedback="Good **work**")
    client.force_login(school["anna"])
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'class="badge" title="New feedback">1<' in dashboard
    assert "12/15" in dashboard and "<strong>work</strong>" in dashboard
    lab_page = client.get(reverse("labs:lab", args=["mini", "first"])).content.decode()
    assert "grade 12/15" in lab_page and ">new<" in lab_page
    after = client.get(reverse("dashboard")).content.decode()
    assert 'title="New feedback"' not in after  # seen on the lab page
    client.force_login(school["ben"])  # another student sees nothing of it
    assert "12/15" not in client.get(reverse("dashboard")).content.decode()


def test_grades_csv_one_row_per_student_one_column_per_lab(client, school):
    grading.review_save(submission=school["anna1"], grader=school["teach_a"], points=3, feedback="")
    grading.review_save(submission=school["anna2"], grader=school["teach_a"], points=14, feedback="")
    client.force_login(school["teach_a"])
    response = client.get(reverse("teach:grades-csv", args=["cohort-a"]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["username", "name", "email", "First lab (/15)", "total"]
    assert rows[1:] == [["anna", "Anna", "anna@example.com", "14", "14"]]  # latest graded version; ben is not in A
