"""What /healthz reports: the database, Redis and every enabled Docker host, each with a short timeout."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection

from labs.runtime import engine


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check()
        return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1), **(detail or {})}
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure as "down"
        return {
            "ok": False,
            "ms": round((time.monotonic() - started) * 1000, 1),
            "error": f"{type(exc).__name__}: {exc}",
        }


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _redis() -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _docker(base_url: str):
    def check() -> dict:
        return {"api_version": engine.ping(engine.EngineAddress.parse(base_url), timeout=3)}

    return check


def docker_hosts() -> list[tuple[str, str]]:
    from labs.models import DockerHost

    try:
        hosts = [(h.name, h.base_url) for h in DockerHost.objects.filter(enabled=True)]
    except Exception:  # noqa: BLE001 - the database may be the thing that is down
        hosts = []
    return hosts or [("default", settings.BERTH_DOCKER_URL)]


def platform_health() -> dict:
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    for name, url in docker_hosts():
        checks[f"docker:{name}"] = _timed(_docker(url))
    down = [name for name, result in checks.items() if not result["ok"]]
    return {"status": "ok" if not down else "degraded", "down": down, "checks": checks}
