"""Bulk enrolment from CSV (email, name, role): parse with every problem named by line, then
apply all or nothing. New people get an account and an email with a link to set a password."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Cohort, Membership, User
from accounts.services import membership_add

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
ROLES = {"student": Membership.Role.STUDENT, "instructor": Membership.Role.INSTRUCTOR}
HEADER_ALIASES = {
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "name": "name",
    "full name": "name",
    "full_name": "name",
    "role": "role",
}


class EnrolmentError(Exception):
    """The file cannot be read at all (not CSV, wrong columns, too big)."""


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str
    role: str


@dataclass
class Preview:
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def parse(data: bytes | str) -> Preview:
    """Read the CSV. A header row names the columns (email, name, role; role may be omitted,
    meaning student). Every bad row is reported with its line number."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise EnrolmentError(f"The file is larger than {MAX_BYTES // 1024 // 1024} MB.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise EnrolmentError(f"The file is not UTF-8 text (byte {exc.start}). Save it as CSV UTF-8.") from exc
    try:
        dialect = csv.Sniffer().sniff(data[:4096], delimiters=",;\t") if data.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(data), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise EnrolmentError("The file is empty.") from None
    except csv.Error as exc:
        raise EnrolmentError(f"Line 1: {exc}") from None
    columns = [HEADER_ALIASES.get(h.strip().lower()) for h in header]
    if "email" not in columns:
        raise EnrolmentError("Line 1 must be a header naming the columns: email, name, role.")
    index = {name: columns.index(name) for name in ("email", "name", "role") if name in columns}
    preview = Preview()
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(preview.rows) + len(preview.problems) >= MAX_ROWS:
                raise EnrolmentError(f"At most {MAX_ROWS} rows per file.")
            values = {key: cells[i].strip() if i < len(cells) else "" for key, i in index.items()}
            email, name = values.get("email", "").lower(), values.get("name", "")
            role = (values.get("role") or "student").lower()
            problems = []
            try:
                validate_email(email)
            except ValidationError:
                problems.append(f"“{email or '(empty)'}” is not a valid email address")
            if role not in ROLES:
                problems.append(f"unknown role “{role}” (use student or instructor)")
            if len(name) > 150:
                problems.append("the name is longer than 150 characters")
            if email in seen:
                problems.append(f"{email} is listed twice (also on line {seen[email]})")
            else:
                seen[email] = line
            if problems:
                preview.problems.extend((line, p) for p in problems)
            else:
                preview.rows.append(Row(line=line, email=email, name=name, role=ROLES[role]))
    except csv.Error as exc:
        raise EnrolmentError(f"Line {reader.line_num}: {exc}") from None
    if not preview.rows and not preview.problems:
        raise EnrolmentError("The file has a header but no rows.")
    return preview


@dataclass
class Outcome:
    created: list[User] = field(default_factory=list)
    enrolled: list[User] = field(default_factory=list)
    unchanged: list[User] = field(default_factory=list)


def _username_for(email: str) -> str:
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower())[:30] or "user"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def apply(*, cohort: Cohort, preview: Preview, actor=None, base_url: str = "") -> Outcome:
    """Enrol every row, or nothing if any row is bad or anything fails. Emails to new people
    are sent only after the transaction commits."""
    if not preview.ok:
        raise EnrolmentError("Fix the problems in the file first; nothing was changed.")
    outcome = Outcome()
    with transaction.atomic():
        existing = {u.email.lower(): u for u in User.objects.filter(email__in=[r.email for r in preview.rows])}
        for row in preview.rows:
            user = existing.get(row.email)
            if user is None:
                user = User(username=_username_for(row.email), email=row.email, full_name=row.name)
                user.set_unusable_password()
                user.save()
                outcome.created.append(user)
            before = Membership.objects.filter(user=user, cohort=cohort, role=row.role, is_active=True).exists()
            membership_add(user=user, cohort=cohort, role=row.role)
            (outcome.unchanged if before else outcome.enrolled).append(user)
        from labs.models import AuditEntry

        AuditEntry.objects.create(
            actor=actor,
            action="cohort.enrol_csv",
            target_type="cohort",
            target_id=cohort.slug,
            cohort=cohort,
            details={"created": len(outcome.created), "enrolled": len(outcome.enrolled), "rows": len(preview.rows)},
        )
        created = list(outcome.created)
        transaction.on_commit(lambda: _send_welcome(created, cohort, base_url))
    return outcome


def _send_welcome(users: list[User], cohort: Cohort, base_url: str) -> None:
    base = base_url.rstrip("/") or getattr(settings, "BERTH_BASE_URL", "http://127.0.0.1:8000")
    for user in users:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = base + reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
        send_mail(
            subject=f"Your Berth account for {cohort.name}",
            message=(
                f"Hello {user.display_name},\n\nYou have been enrolled in {cohort.name} "
                f"({cohort.course.title}) on Berth. Your username is {user.username}.\n"
                f"Set your password here to sign in:\n\n{link}\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
