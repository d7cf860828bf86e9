"""Course pages: catalog, course overview, lesson, progress buttons, the student dashboard."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import active_memberships, can_use_course
from courses import selectors, services
from courses.models import Course, Lesson


def catalog(request):
    return render(request, "courses/catalog.html", {"courses": selectors.published_courses()})


def course_detail(request, course_slug):
    course = get_object_or_404(selectors.published_courses(), slug=course_slug)
    progress = selectors.course_progress(course=course, user=request.user)
    return render(request, "courses/course.html", {"course": course, "progress": progress})


def _lesson_or_404(course_slug: str, lesson_slug: str) -> Lesson:
    return get_object_or_404(
        Lesson.objects.select_related("course", "module", "lab"),
        course__slug=course_slug,
        course__is_published=True,
        slug=lesson_slug,
        is_archived=False,
    )


@login_required
def lesson_detail(request, course_slug, lesson_slug):
    lesson = _lesson_or_404(course_slug, lesson_slug)
    services.lesson_visit(user=request.user, lesson=lesson)
    prev, nxt = selectors.lesson_neighbours(lesson=lesson)
    progress = selectors.course_progress(course=lesson.course, user=request.user)
    context = {
        "lesson": lesson,
        "course": lesson.course,
        "prev": prev,
        "next": nxt,
        "progress": progress,
        "is_complete": lesson.pk in progress.done_ids,
        "completing_lab": lesson.completing_labs.filter(is_archived=False).first(),
        "can_run": bool(lesson.lab_id) and can_use_course(user=request.user, course=lesson.course),
    }
    return render(request, "courses/lesson.html", context)


@login_required
@require_POST
def lesson_mark(request, course_slug, lesson_slug):
    lesson = _lesson_or_404(course_slug, lesson_slug)
    if request.POST.get("done") == "0":
        services.lesson_uncomplete(user=request.user, lesson=lesson)
        return redirect(lesson)
    services.lesson_complete(user=request.user, lesson=lesson)
    _, nxt = selectors.lesson_neighbours(lesson=lesson)
    return redirect(nxt if nxt and request.POST.get("next") else lesson)


@login_required
def dashboard(request):
    from labs import selectors as lab_selectors

    memberships = list(active_memberships(user=request.user))
    course_ids = {m.cohort.course_id for m in memberships}
    courses = list(Course.objects.filter(pk__in=course_ids, is_published=True))
    progress = [selectors.course_progress(course=c, user=request.user) for c in courses]
    context = {
        "memberships": memberships,
        "progress": progress,
        "active_sessions": lab_selectors.live_sessions_for_user(user=request.user),
        "feedback": lab_selectors.recent_feedback_for(user=request.user),
    }
    return render(request, "dashboard.html", context)


@login_required
def student_progress(request, username):
    """One student's progress: for themselves, their instructors and admins; 404 for anyone else."""
    from accounts.models import User
    from accounts.selectors import can_view_user

    subject = User.objects.filter(username=username, is_active=True).first()
    if subject is None or not can_view_user(viewer=request.user, subject=subject):
        raise Http404("No such student")
    course_ids = {m.cohort.course_id for m in active_memberships(user=subject)}
    courses = Course.objects.filter(pk__in=course_ids, is_published=True)
    progress = [selectors.course_progress(course=c, user=subject) for c in courses]
    return render(request, "courses/student_progress.html", {"subject": subject, "progress": progress})
