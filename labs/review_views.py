"""Instructors' review: the queue, a submission with its evidence, grading, grade export."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, guess_lexer_for_filename
from pygments.util import ClassNotFound

from accounts.selectors import cohort_for_teacher, cohorts_taught_by
from labs import grading, selectors
from labs.errors import LabError
from labs.models import Lab

FILTERS = ("lab", "student", "status")


class ReviewForm(forms.Form):
    points = forms.IntegerField(min_value=0, max_value=100000)
    feedback = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), required=False, max_length=grading.FEEDBACK_MAX
    )


def _teacher_or_404(user):
    if not user.is_admin and not cohorts_taught_by(user=user).exists():
        raise Http404("Not found")


def _filters(request) -> dict:
    return {key: request.GET.get(key, "").strip()[:80] for key in FILTERS}


@login_required
def review_queue(request):
    _teacher_or_404(request.user)
    filters = _filters(request)
    submissions = selectors.submissions_for_teacher(user=request.user, **filters)[:300]
    course_ids = cohorts_taught_by(user=request.user).values_list("course_id", flat=True)
    labs = Lab.objects.filter(is_archived=False, course_id__in=course_ids).order_by("course", "position")
    context = {
        "submissions": submissions,
        "filters": filters,
        "labs": labs,
        "query": urlencode(filters),
        "ungraded": selectors.ungraded_count_for(user=request.user),
    }
    return render(request, "teach/review_queue.html", context)


def _file_view(f) -> dict:
    data = bytes(f.content)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"file": f, "binary": True, "html": ""}
    try:
        lexer = guess_lexer_for_filename(f.path, text)
    except ClassNotFound:
        lexer = TextLexer()
    return {"file": f, "binary": False, "html": highlight(text, lexer, HtmlFormatter(nowrap=True))}


@login_required
def submission_detail(request, submission_id):
    submission = selectors.submission_for_teacher(user=request.user, submission_id=submission_id)
    if submission is None:
        raise Http404("No such submission")
    filters = _filters(request)
    review = getattr(submission, "review", None)
    form = ReviewForm(
        request.POST or None,
        initial={
            "points": review.points if review else submission.auto_points,
            "feedback": review.feedback_markdown if review else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            grading.review_save(
                submission=submission,
                grader=request.user,
                points=form.cleaned_data["points"],
                feedback=form.cleaned_data["feedback"],
            )
        except LabError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Graded {submission.user.display_name}'s {submission.lab.title} v{submission.version}."
            )
            if "next" in request.POST:
                queue = selectors.submissions_for_teacher(user=request.user, **{**filters, "status": "ungraded"})
                following = queue.exclude(pk=submission.pk).first()
                if following is not None:
                    return redirect(reverse("teach:submission", args=[following.pk]) + "?" + urlencode(filters))
                messages.info(request, "Nothing left to grade in this queue.")
            return redirect(reverse("teach:reviews") + "?" + urlencode(filters))
    versions = selectors.submissions_for_teacher(user=request.user).filter(user=submission.user, lab=submission.lab)
    context = {
        "submission": submission,
        "review": review,
        "form": form,
        "filters": filters,
        "query": urlencode(filters),
        "files": [_file_view(f) for f in submission.files.all()],
        "recordings": submission.recordings.order_by("started_at"),
        "versions": versions,
        "max_points": submission.total_points,
    }
    return render(request, "teach/submission.html", context)


@login_required
def grades_csv(request, cohort_slug):
    cohort = cohort_for_teacher(user=request.user, slug=cohort_slug)
    if cohort is None:
        raise Http404("No such cohort")
    header, rows = grading.grades_csv_rows(cohort=cohort)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="grades-{cohort.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


@login_required
def teach_home(request):
    _teacher_or_404(request.user)
    cohorts = cohorts_taught_by(user=request.user).order_by("-starts_on", "name")
    return render(
        request, "teach/home.html", {"cohorts": cohorts, "ungraded": selectors.ungraded_count_for(user=request.user)}
    )
