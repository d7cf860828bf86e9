"""`manage.py labs check SESSION` and `manage.py labs selftest LAB|--all`.

selftest is the authors' track test: a fresh sandbox per lab, every check must fail before any
work, each task's reference solution runs in order and its check must then pass, and at the end
every check must still pass. A table is printed; any failure exits non-zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.core.management.base import CommandError

SELFTEST_USER = "berth-selftest"


def add_parsers(sub) -> None:
    check = sub.add_parser("check", help="run every check of a session now and print the results")
    check.add_argument("session")
    selftest = sub.add_parser(
        "selftest", help="prove each lab's checks fail before and pass after the reference solutions"
    )
    selftest.add_argument("labs", nargs="*", help="lab slugs or course/lab")
    selftest.add_argument("--all", action="store_true", help="every lab of every course")
    selftest.add_argument("--keep", action="store_true", help="leave the sandbox running when a lab fails")


def handle(command, action, **options):
    if action == "check":
        return do_check(command, **options)
    if action == "selftest":
        return do_selftest(command, **options)
    raise CommandError(f"unknown action {action}")


def do_check(command, *, session, **options):
    from labs import checks
    from labs.errors import LabError
    from labs.management.commands.labs import find_session
    from labs.models import TaskAttempt

    obj = find_session(session)
    rows = []
    for task in obj.lab.tasks.filter(is_archived=False).order_by("position"):
        try:
            attempt = checks.check_run(session=obj, task=task, kind=TaskAttempt.Kind.CLI, wait=30)
            rows.append(
                (
                    task.slug,
                    "pass" if attempt.passed else ("ERROR" if attempt.errored else "fail"),
                    f"{attempt.duration_ms} ms",
                    attempt.feedback,
                )
            )
        except LabError as exc:
            rows.append((task.slug, "skipped", "", str(exc)))
    _table(command, ["task", "result", "time", "feedback"], rows)


@dataclass
class LabReport:
    lab: str
    rows: list[tuple] = field(default_factory=list)
    ok: bool = True
    seconds: float = 0.0


def _selftest_user():
    from accounts.models import User

    user, created = User.objects.get_or_create(
        username=SELFTEST_USER, defaults={"full_name": "Berth self-test", "is_staff": True}
    )
    if created or not user.is_staff or not user.is_active:
        user.is_staff, user.is_active = True, True
        user.set_unusable_password()
        user.save()
    return user


def run_solution(session, task) -> tuple[bool, str]:
    from labs.services import backend_for

    if not task.solution_script.strip():
        return False, "no solution.sh"
    result = backend_for(session).exec(
        session.container_id,
        ["timeout", "-k", "5", "180", "bash", "-s"],
        user=session.lab.check_user or "student",
        stdin=task.solution_script.encode(),
        timeout=190,
        max_output=256 * 1024,
        env={"HOME": "/home/student", "LANG": "C.UTF-8", "BERTH_TASK": task.slug},
        workdir="/home/student",
    )
    tail = result.output.decode(errors="replace").strip().splitlines()[-3:]
    return result.exit_code == 0, " | ".join(tail)[-300:]


def selftest_lab(lab, *, keep: bool = False) -> LabReport:
    from labs import checks, services
    from labs.models import LabSession

    report = LabReport(lab=f"{lab.course.slug}/{lab.slug}")
    started = time.monotonic()
    user = _selftest_user()
    old = LabSession.objects.filter(user=user, lab=lab, state__in=LabSession.LIVE_STATES).first()
    if old is not None:
        services.lab_session_stop(session=old, reason="selftest: a fresh sandbox")
        services.lab_session_teardown(session_id=old.pk)
    session = services.lab_session_start(user=user, lab=lab)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        services.lab_sessions_dispatch()
        session.refresh_from_db()
        if session.state == LabSession.State.PROVISIONING:
            session = services.lab_session_provision(session_id=session.pk)
        if session.state in (LabSession.State.RUNNING, *LabSession.END_STATES):
            break
        time.sleep(0.3)
    if session.state != LabSession.State.RUNNING:
        report.ok = False
        report.rows.append(("(sandbox)", "ERROR", session.error or session.state, "", ""))
        return report
    tasks = list(lab.tasks.filter(is_archived=False).order_by("position"))
    try:
        before = {t.slug: checks.execute(session=session, task=t) for t in tasks}
        for task in tasks:
            pre = before[task.slug]
            pre_ok = not pre.passed and not pre.errored
            sol_ok, sol_out = run_solution(session, task)
            post = checks.execute(session=session, task=task)
            ok = pre_ok and sol_ok and post.passed
            report.ok &= ok
            report.rows.append(
                (
                    task.slug,
                    "fails" if pre_ok else ("ERROR: " + pre.feedback if pre.errored else "PASSES BEFORE WORK"),
                    "ok" if sol_ok else f"FAILED: {sol_out}",
                    "passes" if post.passed else f"FAILS: {post.feedback}",
                    "ok" if ok else "FAIL",
                )
            )
        for task in tasks:  # later solutions must not undo earlier tasks
            final = checks.execute(session=session, task=task)
            if not final.passed:
                report.ok = False
                report.rows.append((task.slug, "", "", f"FAILS AT THE END: {final.feedback}", "FAIL"))
    finally:
        if report.ok or not keep:
            services.lab_session_stop(session=session, reason="selftest finished")
            services.lab_session_teardown(session_id=session.pk)
    report.seconds = time.monotonic() - started
    return report


def do_selftest(command, *, labs, all, keep, **options):
    from labs.management.commands.labs import find_lab
    from labs.models import Lab

    if all:
        targets = list(
            Lab.objects.filter(is_archived=False).select_related("course").order_by("course__slug", "position")
        )
    elif labs:
        targets = [find_lab(ref) for ref in labs]
    else:
        raise CommandError("name the labs to test, or --all")
    if not targets:
        raise CommandError("no labs to test: import a course first")
    with GatewayIfNeeded(targets):
        reports = []
        for lab in targets:
            command.stdout.write(f"selftest {lab.course.slug}/{lab.slug} …")
            report = selftest_lab(lab, keep=keep)
            reports.append(report)
            _table(command, ["task", "before the work", "solution", "after", "verdict"], report.rows)
            style = command.style.SUCCESS if report.ok else command.style.ERROR
            command.stdout.write(style(f"  {'PASS' if report.ok else 'FAIL'} {report.lab} ({report.seconds:.1f} s)"))
    failed = [r.lab for r in reports if not r.ok]
    summary = f"{len(reports) - len(failed)} of {len(reports)} lab(s) pass their self-test"
    if failed:
        raise CommandError(f"{summary}; failing: {', '.join(failed)}")
    command.stdout.write(command.style.SUCCESS(summary))


class GatewayIfNeeded:
    """Docker labs need the gateway. If none serves this platform's folder, run one in-process
    for the duration of the self-test."""

    def __init__(self, labs):
        self.needed = any(lab.docker_enabled for lab in labs)
        self.server = None

    def __enter__(self):
        if self.needed:
            from labs.gateway import embedded

            self.server = embedded.start_if_not_running()
        return self

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.stop()
        return False


def _table(command, header: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    widths = [min(60, max(len(str(c)) for c in col)) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))
    command.stdout.write("  " + line)
    for row in rows:
        command.stdout.write("  " + "  ".join(str(c)[:60].ljust(w) for c, w in zip(row, widths, strict=False)))
