"""Writes for people: sign-up by join code or invite, memberships, demo accounts."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Cohort, Invite, Membership, User


class SignupError(Exception):
    """A sign-up that cannot go ahead, with a message the person can act on."""


@dataclass(frozen=True)
class JoinTicket:
    cohort: Cohort
    role: str
    invite: Invite | None = None


def join_ticket_for(*, code: str = "", invite_token: str = "") -> JoinTicket:
    """What a join code or invite link lets a newcomer join; raises SignupError if nothing valid."""
    today = timezone.localdate()
    if invite_token:
        invite = (
            Invite.objects.select_related("cohort").filter(token=invite_token).first()
            if _is_uuid(invite_token)
            else None
        )
        if invite is None or not invite.usable():
            raise SignupError("This invite link is not valid any more. Ask your instructor for a new one.")
        return JoinTicket(cohort=invite.cohort, role=invite.role, invite=invite)
    code = code.strip().upper()
    if code:
        cohort = Cohort.objects.filter(join_code=code, join_code_enabled=True).first()
        if cohort is None:
            raise SignupError("That join code is not valid. Check it with your instructor.")
        if cohort.ends_on and cohort.ends_on < today:
            raise SignupError("This cohort has ended and no longer accepts new students.")
        return JoinTicket(cohort=cohort, role=Membership.Role.STUDENT)
    raise SignupError("Sign-up needs a join code from your instructor.")


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


@transaction.atomic
def user_signup(
    *, username: str, email: str, password: str, full_name: str = "", code: str = "", invite_token: str = ""
) -> User:
    ticket = None
    if code or invite_token or not settings.BERTH_OPEN_SIGNUP:
        ticket = join_ticket_for(code=code, invite_token=invite_token)
    if User.objects.filter(username__iexact=username).exists():
        raise SignupError("That username is taken.")
    if email and User.objects.filter(email__iexact=email).exists():
        raise SignupError("An account with that email exists already. Sign in, or reset your password.")
    user = User(username=username, email=email, full_name=full_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise SignupError(" ".join(exc.messages)) from exc
    user.set_password(password)
    user.save()
    if ticket is not None:
        membership_add(user=user, cohort=ticket.cohort, role=ticket.role)
        if ticket.invite is not None:
            invite_use(invite=ticket.invite)
    return user


@transaction.atomic
def invite_use(*, invite: Invite) -> None:
    locked = Invite.objects.select_for_update().get(pk=invite.pk)
    if not locked.usable():
        raise SignupError("This invite link has been used up.")
    locked.uses += 1
    locked.save(update_fields=["uses"])


@transaction.atomic
def membership_add(*, user: User, cohort: Cohort, role: str = Membership.Role.STUDENT) -> Membership:
    """Enrol (or re-activate) a person in a cohort with a role; idempotent."""
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, cohort=cohort, defaults={"role": role}
    )
    if not created and (membership.role != role or not membership.is_active):
        membership.role = role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership) -> Membership:
    """Take someone out of a cohort without deleting their history."""
    if membership.is_active:
        membership.is_active = False
        membership.deactivated_at = timezone.now()
        membership.save(update_fields=["is_active", "deactivated_at"])
    return membership


# --- cohort administration ----------------------------------------------------------------------


def _audit(*, actor, action: str, cohort: Cohort, target_type: str, target_id: str, **details) -> None:
    from labs.models import AuditEntry

    AuditEntry.objects.create(
        actor=actor, action=action, target_type=target_type, target_id=str(target_id), cohort=cohort, details=details
    )


@transaction.atomic
def cohort_save(*, cohort: Cohort, instructors, actor) -> Cohort:
    """Create or update a cohort and make its instructor memberships match `instructors`
    (removed instructors are deactivated, not deleted)."""
    created = cohort.pk is None
    cohort.full_clean()
    cohort.save()
    wanted = {u.pk for u in instructors}
    for user in instructors:
        membership_add(user=user, cohort=cohort, role=Membership.Role.INSTRUCTOR)
    for membership in Membership.objects.filter(cohort=cohort, role=Membership.Role.INSTRUCTOR, is_active=True):
        if membership.user_id not in wanted:
            membership_deactivate(membership=membership)
    _audit(
        actor=actor,
        action="cohort.create" if created else "cohort.update",
        cohort=cohort,
        target_type="cohort",
        target_id=cohort.slug,
        instructors=sorted(wanted),
    )
    return cohort


@transaction.atomic
def membership_set_active(*, membership: Membership, active: bool, actor) -> Membership:
    """Take someone out of a cohort (history kept) or bring them back; audited."""
    if active:
        membership = membership_add(user=membership.user, cohort=membership.cohort, role=membership.role)
    else:
        membership = membership_deactivate(membership=membership)
    _audit(
        actor=actor,
        action="membership.reactivate" if active else "membership.deactivate",
        cohort=membership.cohort,
        target_type="user",
        target_id=membership.user_id,
        role=membership.role,
    )
    return membership


@transaction.atomic
def invite_create(*, cohort: Cohort, role: str, expires_at, max_uses: int | None, actor) -> Invite:
    if expires_at is not None and expires_at <= timezone.now():
        raise SignupError("The expiry must be in the future.")
    invite = Invite.objects.create(cohort=cohort, role=role, expires_at=expires_at, max_uses=max_uses, created_by=actor)
    _audit(actor=actor, action="invite.create", cohort=cohort, target_type="invite", target_id=invite.pk, role=role)
    return invite


@transaction.atomic
def invite_revoke(*, invite: Invite, actor) -> Invite:
    invite.revoked = True
    invite.save(update_fields=["revoked"])
    _audit(actor=actor, action="invite.revoke", cohort=invite.cohort, target_type="invite", target_id=invite.pk)
    return invite
