"""Instructors' live labs panel (observe, extend, stop: each audited) and the admins' capacity page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.selectors import cohort_for_teacher_or_404
from labs import selectors, services
from labs.errors import LabError
from labs.models import LabSession


@login_required
def live_labs(request, cohort_slug):
    cohort = cohort_for_teacher_or_404(user=request.user, slug=cohort_slug)
    sessions = list(selectors.live_sessions_for_cohort(cohort=cohort))
    now = timezone.now()
    for s in sessions:
        s.seconds_left = max(0, int((s.expires_at - now).total_seconds())) if s.expires_at else None
    return render(
        request,
        "teach/live.html",
        {"cohort": cohort, "sessions": sessions, "ungraded": selectors.ungraded_count_for(user=request.user)},
    )


@login_required
def live_stats(request, cohort_slug):
    cohort = cohort_for_teacher_or_404(user=request.user, slug=cohort_slug)
    sessions = list(selectors.live_sessions_for_cohort(cohort=cohort))
    return JsonResponse(
        {"stats": services.session_stats(sessions=sessions), "states": {str(s.pk): s.state for s in sessions}}
    )


@login_required
@require_POST
def live_action(request, cohort_slug, session_id, action):
    cohort = cohort_for_teacher_or_404(user=request.user, slug=cohort_slug)
    session = selectors.live_session_for_teacher(user=request.user, cohort=cohort, session_id=session_id)
    if session is None or action not in ("extend", "stop"):
        raise Http404("No such session")
    try:
        if action == "extend":
            services.session_extend_by(session=session, actor=request.user, cohort=cohort)
            messages.success(request, f"Extended {session.user.display_name}'s {session.lab.title}.")
        else:
            services.session_stop_by(session=session, actor=request.user, cohort=cohort)
            messages.success(request, f"Stopping {session.user.display_name}'s {session.lab.title}.")
    except LabError as exc:
        messages.error(request, str(exc))
    return redirect("teach:live", cohort_slug=cohort.slug)


@login_required
def capacity(request):
    if not request.user.is_admin:
        raise Http404("Not found")
    rows = selectors.capacity_rows()  # health as beat last recorded it: a GET never pings an engine
    hosts = [r["host"] for r in rows]
    queued = LabSession.objects.filter(state=LabSession.State.REQUESTED, host__isnull=True)
    oldest = queued.order_by("requested_at").values_list("requested_at", flat=True).first()
    totals = LabSession.objects.aggregate(
        running=Count("id", filter=Q(state=LabSession.State.RUNNING)),
        failed_today=Count("id", filter=Q(state=LabSession.State.FAILED, ended_at__date=timezone.localdate())),
    )
    return render(
        request,
        "teach/capacity.html",
        {
            "rows": rows,
            "queued": queued.count(),
            "oldest": oldest,
            "totals": totals,
            "hosts_total": sum(h.capacity for h in hosts if h.enabled),
        },
    )
