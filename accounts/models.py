"""People and groups: users, cohorts of a course, memberships (with a role) and invites."""

import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def _join_code() -> str:
    # 10 characters from an alphabet without look-alikes: easy to read aloud in a classroom.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class User(AbstractUser):
    """A person. Admins are staff; instructor and student are roles per cohort (Membership)."""

    email = models.EmailField("email address", blank=True)
    full_name = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.is_staff


class Cohort(models.Model):
    """A group of students taking one course together, taught by one or more instructors."""

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    join_code = models.CharField(max_length=32, unique=True, default=_join_code)
    join_code_enabled = models.BooleanField(default=True, help_text="Anyone with the code may sign up as a student.")
    # Per-cohort lab limits; empty means the lab's own value / the platform default.
    lab_ttl_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Overrides each lab's time to live.")
    max_concurrent_labs = models.PositiveIntegerField(
        null=True, blank=True, help_text="Live lab sessions per student; empty = platform default."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="cohort_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        INSTRUCTOR = "instructor", "Instructor"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)
    is_active = models.BooleanField(default=True, help_text="Deactivate instead of deleting: history stays.")
    joined_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "cohort"], name="membership_unique")]
        indexes = [models.Index(fields=["cohort", "role", "is_active"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort} ({self.role})"


class Invite(models.Model):
    """A sign-up link for one cohort and role, with an optional expiry and use limit."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.STUDENT)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = unlimited.")
    uses = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Invite to {self.cohort} as {self.role}"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked:
            return False
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return self.max_uses is None or self.uses < self.max_uses
