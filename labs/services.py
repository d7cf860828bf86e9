"""Writes for labs. Lifecycle transitions, checks, submissions and reviews all live here; views,
consumers, Celery tasks and management commands call these functions and hold no rules."""

from __future__ import annotations

import datetime as _dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from labs import notify
from labs.errors import InvalidTransition, LabError, NotAllowed, QuotaExceeded
from labs.models import DockerHost, Lab, LabSession, LabSessionEvent, Task

log = logging.getLogger(__name__)


# --- content import -------------------------------------------------------------------------------


def labs_sync(*, course, spec, rendered: dict, lessons: dict, result, tick) -> None:
    """Upsert the course's labs and tasks from their specs (inside course_import's transaction)."""
    from courses.services import _apply

    labs = {lab.slug: lab for lab in Lab.objects.filter(course=course)}
    seen: set[str] = set()
    for lab_spec in spec.labs:
        seen.add(lab_spec.slug)
        lab = labs.get(lab_spec.slug) or Lab(course=course, slug=lab_spec.slug)
        lesson = None
        if lab_spec.lesson_ref:
            lesson = lessons.get(lab_spec.lesson_ref.split("/", 1)[1])
        values = {
            "title": lab_spec.title,
            "intro_markdown": lab_spec.intro,
            "intro_html": rendered[("lab", lab_spec.slug)],
            "lesson": lesson,
            "position": lab_spec.position,
            "image": lab_spec.image,
            "docker_enabled": lab_spec.docker_enabled,
            "memory_bytes": lab_spec.memory_bytes,
            "cpus": lab_spec.cpus,
            "pids_limit": lab_spec.pids_limit,
            "disk_bytes": lab_spec.disk_bytes,
            "ttl_seconds": lab_spec.ttl_seconds,
            "idle_timeout_seconds": lab_spec.idle_timeout_seconds,
            "max_extensions": lab_spec.max_extensions,
            "extension_seconds": lab_spec.extension_seconds,
            "check_user": lab_spec.check_user,
            "collect_paths": lab_spec.collect_paths,
            "relax": lab_spec.relax,
            "source_dir": str(lab_spec.path.relative_to(spec.path)),
            "is_archived": False,
        }
        _apply(lab, values, result, f"lab {lab_spec.slug}", lab.pk is None)
        tasks = {t.slug: t for t in lab.tasks.all()}
        seen_tasks = set()
        for task_spec in lab_spec.tasks:
            seen_tasks.add(task_spec.slug)
            task = tasks.get(task_spec.slug) or Task(lab=lab, slug=task_spec.slug)
            key = (lab_spec.slug, task_spec.slug)
            values = {
                "title": task_spec.title,
                "position": task_spec.position,
                "instructions_markdown": task_spec.instructions,
                "instructions_html": rendered[("task", *key)],
                "check_script": task_spec.check_script,
                "solution_script": task_spec.solution_script,
                "solution_html": rendered[("solution", *key)],
                "hints": [rendered[("hint", *key, i)] for i in range(len(task_spec.hints))],
                "points": task_spec.points,
                "needs": task_spec.needs,
                "timeout_seconds": task_spec.timeout_seconds,
                "is_archived": False,
            }
            _apply(task, values, result, f"task {lab_spec.slug}/{task_spec.slug}", task.pk is None)
        for slug, task in tasks.items():
            if slug not in seen_tasks and not task.is_archived:
                task.is_archived = True
                task.save(update_fields=["is_archived"])
                result.archived.append(f"task {lab_spec.slug}/{slug}")
        labs[lab_spec.slug] = lab
        tick(f"lab {lab_spec.slug}")
    for slug, lab in labs.items():
        if slug not in seen and not lab.is_archived:
            lab.is_archived = True
            lab.save(update_fields=["is_archived"])
            result.archived.append(f"lab {slug}")
    # Lessons point at the lab whose terminal their Run buttons use.
    by_slug = {slug: lab for slug, lab in labs.items() if slug in seen}
    for lesson_spec in spec.lessons:
        lesson = lessons[lesson_spec.slug]
        lab = by_slug.get(lesson_spec.lab_slug) if lesson_spec.lab_slug else None
        if lesson.lab_id != (lab.pk if lab else None):
            lesson.lab = lab
            lesson.save(update_fields=["lab"])


# --- lifecycle -------------------------------------------------------------------------------------
#
# requested ──▶ provisioning ──▶ running ──▶ stopping ──▶ stopped | expired
#     │               │             │  ▲
#     └───────────────┴─────────────┴──┴──▶ failed          (running ──reset──▶ provisioning)
#
# Each transition is one function below: it checks the move is allowed, records a
# LabSessionEvent (who, when, why), and tells the page after commit. Work on the engine happens
# in Celery tasks (labs.tasks), which call the *_provision / *_teardown functions by session id.

S = LabSession.State
TRANSITIONS: dict[str, set[str]] = {
    S.REQUESTED: {S.PROVISIONING, S.STOPPED, S.FAILED},
    S.PROVISIONING: {S.RUNNING, S.STOPPING, S.FAILED},
    S.RUNNING: {S.STOPPING, S.PROVISIONING, S.FAILED},
    S.STOPPING: {S.STOPPED, S.EXPIRED, S.FAILED},
}
ACTIVITY_WRITE_INTERVAL = _dt.timedelta(seconds=30)
PROVISION_DEADLINE = _dt.timedelta(minutes=5)


def _transition(session: LabSession, to: str, *, action: str, actor=None, reason: str = "", **fields) -> LabSession:
    """Move a (locked) session to `to`; record and announce it. The only writer of `state`."""
    if to not in TRANSITIONS.get(session.state, set()):
        raise InvalidTransition(f"A lab session cannot go from {session.state} to {to}.")
    previous = session.state
    session.state = to
    for key, value in fields.items():
        setattr(session, key, value)
    if to in LabSession.END_STATES:
        session.ended_at = timezone.now()
    session.save()
    LabSessionEvent.objects.create(
        session=session, from_state=previous, to_state=to, action=action, actor=actor, reason=reason[:2000]
    )
    log.info("lab session %s: %s -> %s (%s%s)", session.id, previous, to, action, f": {reason}" if reason else "")
    announce(session)
    return session


def _record(session: LabSession, *, action: str, actor=None, reason: str = "") -> None:
    LabSessionEvent.objects.create(
        session=session,
        from_state=session.state,
        to_state=session.state,
        action=action,
        actor=actor,
        reason=reason[:2000],
    )


def session_snapshot(session: LabSession) -> dict:
    """What the lab page needs to draw the session (sent over the WebSocket and embedded in HTML)."""
    return {
        "id": str(session.id),
        "state": session.state,
        "state_label": session.get_state_display(),
        "expires_at": session.expires_at.isoformat() if session.expires_at else None,
        "extensions_left": max(0, session.lab.max_extensions - session.extensions_used),
        "queue_position": queue_position(session) if session.state == S.REQUESTED and session.host_id is None else None,
        "error": session.error,
        "end_reason": session.end_reason,
        "docker": session.lab.docker_enabled,
    }


def announce(session: LabSession) -> None:
    snapshot = session_snapshot(session)
    notify.send_on_commit(
        notify.status_group(session.user_id, session.lab_id), {"type": "session.update", "session": snapshot}
    )
    notify.send_on_commit(notify.session_group(session.id), {"type": "session.state", "state": session.state})


def queue_position(session: LabSession) -> int:
    return LabSession.objects.filter(
        state=S.REQUESTED, host__isnull=True, requested_at__lte=session.requested_at
    ).count()


def _locked(session_id) -> LabSession:
    return (
        LabSession.objects.select_for_update(of=("self",))
        .select_related("lab", "lab__course", "host")
        .get(pk=session_id)
    )


def _max_live_for(user, cohort) -> int:
    if cohort is not None and cohort.max_concurrent_labs:
        return cohort.max_concurrent_labs
    return settings.BERTH_MAX_LIVE_SESSIONS_PER_USER


def lab_session_start(*, user, lab, actor=None) -> LabSession:
    """Start the student's sandbox for `lab`, or return the live one they already have.

    Safe under a spawn storm: fifty concurrent clicks make one session (a partial unique index
    allows one live session per student and lab), and so one container.
    """
    from accounts.selectors import can_use_course, student_cohort_for_course

    if not can_use_course(user=user, course=lab.course) or lab.is_archived:
        raise NotAllowed("This lab is not part of a course you are enrolled in.")
    existing = LabSession.objects.filter(user=user, lab=lab, state__in=LabSession.LIVE_STATES).first()
    if existing:
        return existing
    cohort = student_cohort_for_course(user=user, course=lab.course)
    try:
        with transaction.atomic():
            # One start at a time per student (locks their user row, not sessions other work reads).
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            live = list(LabSession.objects.filter(user=user, state__in=LabSession.LIVE_STATES).select_related("lab"))
            mine = next((s for s in live if s.lab_id == lab.pk), None)
            if mine is not None:
                return mine
            limit = _max_live_for(user, cohort)
            if len(live) >= limit:
                names = ", ".join(sorted({s.lab.title for s in live}))
                raise QuotaExceeded(f"You can run {limit} lab(s) at a time and have {names} open. Stop one first.")
            ttl = (cohort.lab_ttl_minutes * 60) if cohort and cohort.lab_ttl_minutes else lab.ttl_seconds
            session = LabSession.objects.create(user=user, lab=lab, cohort=cohort, state=S.REQUESTED, ttl_seconds=ttl)
            LabSessionEvent.objects.create(session=session, to_state=S.REQUESTED, action="request", actor=actor or user)
            announce(session)
            transaction.on_commit(_dispatch_soon)
    except IntegrityError:
        # A concurrent request created it between our check and our insert: that one is ours.
        existing = LabSession.objects.filter(user=user, lab=lab, state__in=LabSession.LIVE_STATES).first()
        if existing is None:
            raise
        return existing
    return session


def _dispatch_soon() -> None:
    from labs import tasks

    tasks.dispatch_lab_sessions.delay()


def default_host() -> DockerHost:
    host, _ = DockerHost.objects.get_or_create(
        name="local", defaults={"base_url": settings.BERTH_DOCKER_URL, "capacity": settings.BERTH_DEFAULT_HOST_CAPACITY}
    )
    return host


@transaction.atomic
def lab_sessions_dispatch() -> list[LabSession]:
    """Place waiting sessions on hosts with free capacity, oldest first; queue the rest.

    Returns the sessions moved to provisioning; the caller (a task) enqueues their provisioning.
    """
    if not DockerHost.objects.exists():
        default_host()
    hosts = list(DockerHost.objects.select_for_update().filter(enabled=True, healthy=True).order_by("name"))
    busy = dict(
        LabSession.objects.filter(host__in=hosts, state__in=[S.PROVISIONING, S.RUNNING, S.STOPPING])
        .values_list("host")
        .annotate(n=Count("id"))
        .values_list("host", "n")
    )
    free = {h.pk: h.capacity - busy.get(h.pk, 0) for h in hosts}
    waiting = list(
        LabSession.objects.select_for_update(of=("self",))
        .select_related("lab", "lab__course")
        .filter(state=S.REQUESTED)
        .order_by("requested_at")
    )
    placed = []
    for session in waiting:
        host = max(hosts, key=lambda h: free[h.pk], default=None)
        if host is None or free[host.pk] <= 0:
            announce(session)  # tell it its (new) queue position
            continue
        free[host.pk] -= 1
        _transition(session, S.PROVISIONING, action="dispatch", reason=f"placed on {host.name}", host=host)
        placed.append(session)
    return placed


def sandbox_spec_for(session: LabSession):
    from labs.runtime import SandboxSpec
    from labs.runtime.docker import LABEL_INSTANCE, LABEL_KIND, LABEL_LAB, LABEL_SESSION, LABEL_USER

    lab = session.lab
    name = container_name_for(session)
    labels = {
        LABEL_INSTANCE: settings.BERTH_INSTANCE,
        LABEL_KIND: "lab",
        LABEL_SESSION: str(session.id),
        LABEL_USER: str(session.user_id),
        LABEL_LAB: f"{lab.course.slug}/{lab.slug}",
    }
    docker = lab.docker_enabled
    gateway_dir = None
    if docker:
        from labs.gateway import registry

        gateway_dir = str(registry.session_dir(session.id))
    return SandboxSpec(
        name=name,
        image=lab.image,
        labels=labels,
        memory_bytes=lab.memory_bytes,
        cpus=lab.cpus,
        pids_limit=lab.pids_limit,
        disk_bytes=lab.disk_bytes,
        hostname=lab.slug[:40] or "lab",
        relax=frozenset(lab.relax),
        runtime=settings.BERTH_LAB_RUNTIME,
        network=f"{name}-net" if docker or "network" in lab.relax else None,
        cgroup_parent=cgroup_parent_for(session) if docker else "",
        gateway_dir=gateway_dir,
    )


def container_name_for(session: LabSession) -> str:
    return f"{settings.BERTH_INSTANCE}-lab-{session.id.hex}"


def cgroup_parent_for(session: LabSession) -> str:
    return f"/berth/{settings.BERTH_INSTANCE}/{session.id.hex}"


def backend_for(session: LabSession):
    from labs.runtime import get_backend

    return get_backend(session.host.base_url if session.host_id else None)


def lab_session_provision(*, session_id, fresh: bool = False) -> LabSession:
    """Make the session's container exist and run (idempotent: the container name is fixed).

    Called by the provision task (and `manage.py labs start`). A second delivery finds the same
    container; a session that was stopped meanwhile gets its container removed instead.
    Raises BackendUnavailable for the task to retry.
    """
    from labs.runtime import SandboxError, SandboxGone

    session = LabSession.objects.select_related("lab", "lab__course", "host").get(pk=session_id)
    if session.state != S.PROVISIONING:
        return session  # already running, stopped or failed: nothing to do
    backend = backend_for(session)
    spec = sandbox_spec_for(session)
    try:
        if fresh:
            backend.stop(spec.name, now=True)
        if session.lab.docker_enabled:
            from labs.gateway import registry

            registry.session_register(session=session, spec=spec)
        handle = backend.start(spec)
        if session.lab.docker_enabled:
            registry.wait_ready(session.id, timeout=10)
    except (SandboxError, SandboxGone, LabError) as exc:
        return lab_session_fail(session_id=session.id, reason=f"Could not start the lab: {exc}")
    with transaction.atomic():
        session = _locked(session_id)
        if session.state != S.PROVISIONING:
            # Stopped or failed while we were starting it: do not leave the container behind.
            transaction.on_commit(lambda: _teardown_later(session.id))
            return session
        now = timezone.now()
        expires = (
            session.expires_at if fresh and session.expires_at else now + _dt.timedelta(seconds=session.ttl_seconds)
        )
        _transition(
            session,
            S.RUNNING,
            action="provisioned",
            reason=f"container {handle.id[:12]}",
            container_id=handle.id,
            container_name=handle.name,
            started_at=session.started_at or now,
            expires_at=expires,
            last_activity_at=now,
            error="",
        )
    return session


def _teardown_later(session_id) -> None:
    from labs import tasks

    host_name = LabSession.objects.filter(pk=session_id).values_list("host__name", flat=True).first()
    queue = f"labs.host.{host_name}" if host_name else None
    tasks.teardown_lab_session.apply_async(args=[str(session_id)], queue=queue)


@transaction.atomic
def lab_session_fail(*, session_id, reason: str) -> LabSession:
    session = _locked(session_id)
    if session.state in LabSession.END_STATES:
        return session
    _transition(session, S.FAILED, action="fail", reason=reason, error=reason[:2000], end_reason="failed")
    transaction.on_commit(lambda: _teardown_later(session.id))
    transaction.on_commit(_dispatch_soon)
    return session


@transaction.atomic
def lab_session_stop(*, session: LabSession, actor=None, reason: str = "stopped by the student") -> LabSession:
    session = _locked(session.pk)
    if session.state == S.REQUESTED:
        return _transition(session, S.STOPPED, action="stop", actor=actor, reason=reason, end_reason=reason)
    if session.state in (S.PROVISIONING, S.RUNNING):
        _transition(session, S.STOPPING, action="stop", actor=actor, reason=reason, end_reason=reason)
        transaction.on_commit(lambda: _teardown_later(session.id))
    return session


@transaction.atomic
def lab_session_expire(*, session: LabSession, reason: str) -> LabSession:
    session = _locked(session.pk)
    if session.state in (S.RUNNING, S.PROVISIONING):
        _transition(session, S.STOPPING, action="expire", reason=reason, end_reason=f"expired: {reason}")
        transaction.on_commit(lambda: _teardown_later(session.id))
    return session


def lab_session_teardown(*, session_id) -> LabSession:
    """Remove the container and everything the session made, then end the session. Idempotent."""
    session = LabSession.objects.select_related("lab", "host").get(pk=session_id)
    backend = backend_for(session)
    backend.stop(container_name_for(session), now=True)
    if session.container_id:
        backend.stop(session.container_id, now=True)
    if session.lab.docker_enabled:
        from labs.gateway import registry

        registry.session_unregister(session.id)
        backend.remove_session_objects(str(session.id))
    with transaction.atomic():
        session = _locked(session_id)
        if session.state == S.STOPPING:
            final = S.EXPIRED if session.end_reason.startswith("expired") else S.STOPPED
            _transition(session, final, action="teardown", reason="container removed")
    transaction.on_commit(_dispatch_soon)
    return session


@transaction.atomic
def lab_session_extend(*, session: LabSession, actor=None) -> LabSession:
    session = _locked(session.pk)
    if session.state != S.RUNNING:
        raise InvalidTransition("Only a running lab can be extended.")
    is_operator = actor is not None and actor.pk != session.user_id
    if session.extensions_used >= session.lab.max_extensions and not is_operator:
        raise QuotaExceeded("This lab cannot be extended any further.")
    minutes = session.lab.extension_seconds // 60
    session.expires_at = max(session.expires_at or timezone.now(), timezone.now()) + _dt.timedelta(
        seconds=session.lab.extension_seconds
    )
    if not is_operator:
        session.extensions_used += 1
    session.save(update_fields=["expires_at", "extensions_used"])
    _record(session, action="extend", actor=actor, reason=f"+{minutes} min")
    announce(session)
    return session


@transaction.atomic
def lab_session_reset(*, session: LabSession, actor=None) -> LabSession:
    """Replace the sandbox with a fresh container (same session, same time left)."""
    session = _locked(session.pk)
    if session.state != S.RUNNING:
        raise InvalidTransition("Only a running lab can be reset.")
    _transition(session, S.PROVISIONING, action="reset", actor=actor, reason="fresh container requested")
    transaction.on_commit(lambda: _provision_later(session, fresh=True))
    return session


def _provision_later(session: LabSession, *, fresh: bool = False) -> None:
    from labs import tasks

    tasks.provision_lab_session.apply_async(
        args=[str(session.id)], kwargs={"fresh": fresh}, queue=session.host.queue if session.host_id else None
    )


def lab_session_touch(*, session_id, now=None) -> bool:
    """Mark activity (keystrokes) for the idle reaper; writes at most every 30 s per session."""
    now = now or timezone.now()
    updated = LabSession.objects.filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=now - ACTIVITY_WRITE_INTERVAL),
        pk=session_id,
        state=S.RUNNING,
    ).update(last_activity_at=now)
    return bool(updated)


def lab_sessions_reap(*, now=None) -> list[tuple[str, str]]:
    """Expire running sessions past their time to live or idle timeout; fail stuck ones."""
    now = now or timezone.now()
    reaped = []
    for session in LabSession.objects.filter(state=S.RUNNING).select_related("lab"):
        if session.expires_at and session.expires_at <= now:
            lab_session_expire(session=session, reason="time limit reached")
            reaped.append((str(session.id), "ttl"))
        elif (
            session.last_activity_at
            and session.last_activity_at + _dt.timedelta(seconds=session.lab.idle_timeout_seconds) <= now
        ):
            lab_session_expire(session=session, reason="idle for too long")
            reaped.append((str(session.id), "idle"))
    stuck = LabSession.objects.filter(state=S.PROVISIONING, requested_at__lt=now - PROVISION_DEADLINE)
    for session in stuck:
        lab_session_fail(session_id=session.id, reason="the lab did not start in time")
        reaped.append((str(session.id), "stuck"))
    stuck_stopping = LabSession.objects.filter(state=S.STOPPING, requested_at__lt=now - PROVISION_DEADLINE)
    for session in stuck_stopping:
        transaction.on_commit(lambda sid=session.id: _teardown_later(sid))
    return reaped


def lab_sessions_reconcile() -> dict:
    """Match containers to sessions on every host: remove labelled containers without a live
    session; fail running sessions whose container is gone. Returns what it did."""
    from labs.runtime import BackendUnavailable
    from labs.runtime.docker import LABEL_SESSION

    removed, failed = [], []
    for host in DockerHost.objects.filter(enabled=True):
        from labs.runtime import get_backend

        backend = get_backend(host.base_url)
        try:
            handles = backend.list_managed()
        except BackendUnavailable:
            log.warning("reconcile: host %s is unavailable", host.name)
            continue
        by_session = {h.labels.get(LABEL_SESSION): h for h in handles}
        live = {str(s.id): s for s in LabSession.objects.filter(state__in=LabSession.LIVE_STATES)}
        recent = timezone.now() - _dt.timedelta(seconds=60)
        for session_id, handle in by_session.items():
            session = live.get(session_id)
            if session is None:
                backend.stop(handle.id, now=True)
                if hasattr(backend, "remove_session_objects"):
                    backend.remove_session_objects(session_id)
                removed.append(handle.name)
            elif session.state == S.RUNNING and not handle.running:
                lab_session_fail(session_id=session.id, reason=f"the sandbox stopped (exit {handle.exit_code})")
                failed.append(session_id)
        for session_id, session in live.items():
            if session.host_id != host.pk:
                continue
            if (
                session.state == S.RUNNING
                and session_id not in by_session
                and session.started_at
                and session.started_at < recent
            ):
                lab_session_fail(session_id=session.id, reason="the sandbox disappeared")
                failed.append(session_id)
        if hasattr(backend, "remove_orphans"):
            backend.remove_orphans(live_session_ids=set(live))
    return {"removed": removed, "failed": failed}


def checks_request_auto(*, session: LabSession) -> bool:
    """Queue one round of continuous checks for the session unless one is queued or running."""
    from django.core.cache import cache

    from labs import tasks

    if not cache.add(f"auto-check-queued:{session.pk}", "1", 120):
        return False
    tasks.auto_check_session.apply_async(args=[str(session.pk)], queue=session.host.queue if session.host_id else None)
    return True


# --- operators and instructors ---------------------------------------------------------------------


def _audit(*, actor, action: str, session: LabSession, cohort=None, **details) -> None:
    from labs.models import AuditEntry

    AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type="lab_session",
        target_id=str(session.pk),
        cohort=cohort or session.cohort,
        details={"user": session.user_id, "lab": session.lab.slug, **details},
    )


@transaction.atomic
def session_extend_by(*, session: LabSession, actor, cohort=None) -> LabSession:
    session = lab_session_extend(session=session, actor=actor)
    _audit(
        actor=actor,
        action="lab.extend",
        session=session,
        cohort=cohort,
        expires_at=session.expires_at.isoformat() if session.expires_at else None,
    )
    return session


@transaction.atomic
def session_stop_by(*, session: LabSession, actor, cohort=None) -> LabSession:
    session = lab_session_stop(session=session, actor=actor, reason=f"stopped by {actor.display_name}")
    _audit(actor=actor, action="lab.stop", session=session, cohort=cohort)
    return session


def session_observed(*, session: LabSession, actor, cohort=None) -> None:
    _audit(actor=actor, action="lab.observe", session=session, cohort=cohort)


def session_stats(*, sessions) -> dict[str, dict]:
    """CPU and memory of running sessions' containers, read concurrently. CPU percent compares
    with the previous reading (kept in the cache), so the first call shows only memory."""
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import cache

    from labs.runtime import LabRuntimeError

    running = [s for s in sessions if s.state == S.RUNNING and s.container_id]
    keys = {s.container_id: f"stats-sample:{s.container_id}" for s in running}
    previous = cache.get_many(list(keys.values()))

    def read(session):
        try:
            stats = backend_for(session).stats(session.container_id, previous=previous.get(keys[session.container_id]))
        except LabRuntimeError:
            return str(session.pk), None
        return str(session.pk), stats

    out, samples = {}, {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for session_id, stats in pool.map(read, running):
            if stats is None:
                continue
            out[session_id] = {
                "cpu_percent": stats.cpu_percent,
                "memory_bytes": stats.memory_bytes,
                "memory_limit": stats.memory_limit,
                "pids": stats.pids,
            }
            container = next(s.container_id for s in running if str(s.pk) == session_id)
            samples[keys[container]] = stats.sample
    if samples:
        cache.set_many(samples, timeout=600)
    return out


def hosts_check_health() -> list[DockerHost]:
    """Ping every Docker host (short timeout); unhealthy hosts get no new sessions."""
    from labs.runtime import engine

    hosts = list(DockerHost.objects.all())
    for host in hosts:
        try:
            version = engine.ping(engine.EngineAddress.parse(host.base_url), timeout=3)
            host.healthy, host.last_error = True, ""
            host.engine_version = version
        except (OSError, engine.EngineHTTPError, ValueError) as exc:
            host.healthy, host.last_error = False, str(exc)[:500]
        host.last_checked_at = timezone.now()
        host.save(update_fields=["healthy", "last_error", "engine_version", "last_checked_at"])
    return hosts
