"""Cohort administration: cohorts, people, invites and CSV enrolment. Admins change things;
instructors of a cohort may look at its people."""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import enrolment, services
from accounts.models import Cohort, Invite, Membership, User
from accounts.selectors import cohort_for_teacher


def _admin_or_404(user) -> None:
    if not user.is_admin:
        raise Http404("Not found")


class CohortForm(forms.ModelForm):
    instructors = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="People who teach this cohort.",
    )

    class Meta:
        model = Cohort
        fields = [
            "course",
            "name",
            "slug",
            "starts_on",
            "ends_on",
            "join_code",
            "join_code_enabled",
            "lab_ttl_minutes",
            "max_concurrent_labs",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"lab_ttl_minutes": "Lab time to live (minutes)", "max_concurrent_labs": "Concurrent labs per student"}


@login_required
def cohort_edit(request, cohort_slug=None):
    _admin_or_404(request.user)
    cohort = get_object_or_404(Cohort, slug=cohort_slug) if cohort_slug else Cohort()
    initial = {}
    if cohort.pk:
        initial["instructors"] = User.objects.filter(
            memberships__cohort=cohort, memberships__is_active=True, memberships__role=Membership.Role.INSTRUCTOR
        )
    form = CohortForm(request.POST or None, instance=cohort, initial=initial)
    if request.method == "POST" and form.is_valid():
        cohort = form.save(commit=False)
        services.cohort_save(cohort=cohort, instructors=form.cleaned_data["instructors"], actor=request.user)
        messages.success(request, f"Saved {cohort.name}.")
        return redirect("teach:cohort-people", cohort_slug=cohort.slug)
    return render(request, "teach/cohort_form.html", {"form": form, "cohort": cohort})


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.STUDENT)
    expires_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    max_uses = forms.IntegerField(required=False, min_value=1, max_value=10000)


class EnrolForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row: email, name, role (student or instructor).")


@login_required
def cohort_people(request, cohort_slug):
    cohort = cohort_for_teacher(user=request.user, slug=cohort_slug)
    if cohort is None:
        raise Http404("No such cohort")
    memberships = (
        Membership.objects.filter(cohort=cohort)
        .select_related("user")
        .order_by("-is_active", "role", "user__full_name", "user__username")
    )
    invites = cohort.invites.order_by("-created_at")
    context = {
        "cohort": cohort,
        "memberships": memberships,
        "invites": invites,
        "invite_form": InviteForm(),
        "enrol_form": EnrolForm(),
        "can_admin": request.user.is_admin,
    }
    return render(request, "teach/cohort_people.html", context)


@login_required
@require_POST
def membership_toggle(request, cohort_slug, membership_id):
    _admin_or_404(request.user)
    membership = get_object_or_404(Membership, pk=membership_id, cohort__slug=cohort_slug)
    if membership.is_active:
        services.membership_set_active(membership=membership, active=False, actor=request.user)
        messages.success(request, f"{membership.user.display_name} was removed from the cohort (history kept).")
    else:
        services.membership_set_active(membership=membership, active=True, actor=request.user)
        messages.success(request, f"{membership.user.display_name} is back in the cohort.")
    return redirect("teach:cohort-people", cohort_slug=cohort_slug)


@login_required
@require_POST
def invite_create(request, cohort_slug):
    _admin_or_404(request.user)
    cohort = get_object_or_404(Cohort, slug=cohort_slug)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invite = services.invite_create(
                cohort=cohort,
                role=form.cleaned_data["role"],
                expires_at=form.cleaned_data["expires_at"],
                max_uses=form.cleaned_data["max_uses"],
                actor=request.user,
            )
        except services.SignupError as exc:
            messages.error(request, str(exc))
        else:
            link = request.build_absolute_uri(reverse("accounts:invite", args=[invite.token]))
            messages.success(request, f"Invite link created: {link}")
    else:
        messages.error(
            request, "Check the invite settings: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items())
        )
    return redirect("teach:cohort-people", cohort_slug=cohort_slug)


@login_required
@require_POST
def invite_revoke(request, cohort_slug, invite_id):
    _admin_or_404(request.user)
    invite = get_object_or_404(Invite, pk=invite_id, cohort__slug=cohort_slug)
    services.invite_revoke(invite=invite, actor=request.user)
    messages.success(request, "Invite revoked.")
    return redirect("teach:cohort-people", cohort_slug=cohort_slug)


SESSION_KEY = "enrolment-upload"


@login_required
def enrol(request, cohort_slug):
    """Upload → preview (every bad row with its line) → apply (all or nothing)."""
    _admin_or_404(request.user)
    cohort = get_object_or_404(Cohort, slug=cohort_slug)
    if request.method == "POST" and "apply" in request.POST:
        stored = request.session.get(SESSION_KEY) or {}
        if stored.get("cohort") != cohort.slug or stored.get("digest") != request.POST.get("digest"):
            messages.error(request, "The upload expired; choose the file again.")
            return redirect("teach:enrol", cohort_slug=cohort.slug)
        try:
            preview = enrolment.parse(stored["text"])
            outcome = enrolment.apply(
                cohort=cohort, preview=preview, actor=request.user, base_url=request.build_absolute_uri("/")
            )
        except enrolment.EnrolmentError as exc:
            messages.error(request, str(exc))
            return redirect("teach:enrol", cohort_slug=cohort.slug)
        request.session.pop(SESSION_KEY, None)
        messages.success(
            request,
            f"{len(outcome.created)} account(s) created and emailed a set-password link, "
            f"{len(outcome.enrolled)} enrolled, {len(outcome.unchanged)} already enrolled.",
        )
        return redirect("teach:cohort-people", cohort_slug=cohort.slug)
    form = EnrolForm(request.POST or None, request.FILES or None)
    context = {"cohort": cohort, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read(enrolment.MAX_BYTES + 1)
        try:
            preview = enrolment.parse(data)
        except enrolment.EnrolmentError as exc:
            form.add_error("file", str(exc))
        else:
            text = data.decode("utf-8-sig")
            digest = hashlib.sha256(text.encode()).hexdigest()
            if preview.ok:
                request.session[SESSION_KEY] = {"cohort": cohort.slug, "text": text, "digest": digest}
            existing = set(
                User.objects.filter(email__in=[r.email for r in preview.rows]).values_list("email", flat=True)
            )
            context.update({"preview": preview, "digest": digest, "existing": {e.lower() for e in existing}})
    return render(request, "teach/enrol.html", context)
