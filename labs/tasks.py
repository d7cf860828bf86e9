"""Celery tasks: thin wrappers that take ids and call labs.services. The only module that knows
Celery. Engine hiccups (BackendUnavailable) are retried with backoff; the rest is recorded."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError

from labs import services
from labs.runtime import BackendUnavailable

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=5, soft_time_limit=120, time_limit=150)
def provision_lab_session(self, session_id: str, fresh: bool = False) -> None:
    try:
        services.lab_session_provision(session_id=session_id, fresh=fresh)
    except BackendUnavailable as exc:
        try:
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30))
        except MaxRetriesExceededError:
            services.lab_session_fail(session_id=session_id, reason=f"The Docker host did not answer: {exc}")


@shared_task(bind=True, acks_late=True, max_retries=8, soft_time_limit=60, time_limit=90)
def teardown_lab_session(self, session_id: str) -> None:
    try:
        services.lab_session_teardown(session_id=session_id)
    except BackendUnavailable as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def dispatch_lab_sessions() -> int:
    placed = services.lab_sessions_dispatch()
    for session in placed:
        provision_lab_session.apply_async(args=[str(session.id)], queue=session.host.queue)
    return len(placed)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def reap_lab_sessions() -> int:
    reaped = services.lab_sessions_reap()
    dispatch_lab_sessions.delay()
    return len(reaped)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def reconcile_lab_sessions() -> dict:
    return services.lab_sessions_reconcile()


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def auto_check_session(session_id: str) -> int:
    from django.core.cache import cache

    from labs import checks

    try:
        return len(checks.check_auto(session_id=session_id))
    finally:
        cache.delete(f"auto-check-queued:{session_id}")


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def check_docker_hosts() -> int:
    return sum(1 for host in services.hosts_check_health() if host.healthy)
