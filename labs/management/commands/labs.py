"""Operators' lab commands: list, start, stop, reap, reconcile (and queues for `make run`)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from labs import services
from labs.errors import LabError
from labs.models import DockerHost, Lab, LabSession


def find_session(ref: str) -> LabSession:
    ref = ref.strip().lower().replace("-", "")
    if len(ref) < 6:
        raise CommandError("give at least 6 characters of the session id")
    matches = [
        s
        for s in LabSession.objects.select_related("lab", "user", "host").order_by("-requested_at")[:5000]
        if s.id.hex.startswith(ref)
    ]
    if not matches:
        raise CommandError(f"no session {ref}")
    if len(matches) > 1:
        raise CommandError(f"{ref} matches {len(matches)} sessions; give more of the id")
    return matches[0]


def find_lab(ref: str) -> Lab:
    course, _, slug = ref.rpartition("/")
    labs = Lab.objects.select_related("course").filter(slug=slug, is_archived=False)
    if course:
        labs = labs.filter(course__slug=course)
    labs = list(labs)
    if not labs:
        raise CommandError(f"no lab {ref}")
    if len(labs) > 1:
        raise CommandError(f"{ref} is ambiguous; use course/lab")
    return labs[0]


class Command(BaseCommand):
    help = "Manage lab sessions: list | start --user U --lab L | stop ID | reap | reconcile"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="live sessions (--all for recent ended ones too)")
        ls.add_argument("--all", action="store_true")
        start = sub.add_parser("start", help="start a session and wait until it runs or fails")
        start.add_argument("--user", required=True)
        start.add_argument("--lab", required=True, help="lab slug or course/lab")
        start.add_argument("--timeout", type=float, default=120)
        stop = sub.add_parser("stop", help="stop a session (id or id prefix) and remove its container")
        stop.add_argument("session")
        sub.add_parser("reap", help="expire sessions past their time to live or idle timeout")
        sub.add_parser("reconcile", help="match containers and sessions; remove strays")
        sub.add_parser("queues", help="print the Celery queues a worker on this machine should consume")
        self.extend_parser(sub)

    def extend_parser(self, sub) -> None:
        """Subcommands added by later features (checks, selftest)."""
        from labs.management import lab_checks

        lab_checks.add_parsers(sub)

    def handle(self, *args, action, **options):
        handler = getattr(self, f"do_{action}", None)
        if handler is None:
            from labs.management import lab_checks

            return lab_checks.handle(self, action, **options)
        return handler(**options)

    def do_queues(self, **options):
        names = ["labs.host." + h for h in DockerHost.objects.filter(enabled=True).values_list("name", flat=True)]
        self.stdout.write(",".join(names or ["labs.host.local"]))

    def do_list(self, *, all=False, **options):
        sessions = LabSession.objects.select_related("lab", "user", "host").order_by("-requested_at")
        if not all:
            sessions = sessions.filter(state__in=LabSession.LIVE_STATES)
        rows = list(sessions[:200])
        if not rows:
            self.stdout.write("No live lab sessions." if not all else "No lab sessions.")
            return
        now = timezone.now()
        header = f"{'SESSION':<14}{'USER':<16}{'LAB':<26}{'STATE':<14}{'HOST':<10}{'CONTAINER':<14}{'LEFT':>7}"
        self.stdout.write(header)
        for s in rows:
            left = ""
            if s.state == LabSession.State.RUNNING and s.expires_at:
                left = f"{max(0, int((s.expires_at - now).total_seconds() // 60))}m"
            self.stdout.write(
                f"{s.short_id:<14}{s.user.username[:15]:<16}{s.lab.slug[:25]:<26}{s.state:<14}"
                f"{(s.host.name if s.host else '-')[:9]:<10}{(s.container_id[:12] or '-'):<14}{left:>7}"
            )

    def do_start(self, *, user, lab, timeout, **options):
        person = User.objects.filter(Q(username=user) | Q(email__iexact=user)).first()
        if person is None:
            raise CommandError(f"no user {user}")
        lab_obj = find_lab(lab)
        try:
            session = services.lab_session_start(user=person, lab=lab_obj, actor=None)
        except LabError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"session {session.id} ({session.state})")
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            # Works with or without a worker: dispatch and provision are idempotent, so doing them
            # here as well as in a worker never makes a second container.
            services.lab_sessions_dispatch()
            session.refresh_from_db()
            if session.state == LabSession.State.PROVISIONING:
                session = services.lab_session_provision(session_id=session.id)
            if session.state != last:
                position = services.queue_position(session) if session.state == "requested" else None
                self.stdout.write(f"  {session.state}" + (f" (queue position {position})" if position else ""))
                last = session.state
            if session.state in (LabSession.State.RUNNING, *LabSession.END_STATES):
                break
            time.sleep(0.5)
        if session.state != LabSession.State.RUNNING:
            raise CommandError(f"session {session.id} is {session.state}: {session.error or 'timed out waiting'}")
        self.stdout.write(self.style.SUCCESS(f"running: session {session.id} container {session.container_id}"))

    def do_stop(self, *, session, **options):
        obj = find_session(session)
        obj = services.lab_session_stop(session=obj, reason="stopped by an operator")
        if obj.state == LabSession.State.STOPPING:
            obj = services.lab_session_teardown(session_id=obj.id)
        self.stdout.write(self.style.SUCCESS(f"session {obj.id}: {obj.state}"))

    def do_reap(self, **options):
        reaped = services.lab_sessions_reap()
        for session_id, why in reaped:
            if why != "stuck":
                services.lab_session_teardown(session_id=session_id)
            self.stdout.write(f"  {session_id}: {why}")
        self.stdout.write(self.style.SUCCESS(f"reaped {len(reaped)} session(s)"))

    def do_reconcile(self, **options):
        result = services.lab_sessions_reconcile()
        for name in result["removed"]:
            self.stdout.write(f"  removed stray container {name}")
        for session_id in result["failed"]:
            self.stdout.write(f"  session {session_id}: container gone, marked failed")
        self.stdout.write(
            self.style.SUCCESS(f"reconciled: {len(result['removed'])} removed, {len(result['failed'])} marked failed")
        )
