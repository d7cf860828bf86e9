"""Shared set-up for the benchmarks: a scratch database (SQLite in a temporary folder unless
BENCH_DATABASE_URL is set), Redis db 6, a container label of its own, and helpers that print
one JSON object as the last line. Each bench cleans up what it made."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="berth-bench-"))


def setup_django(instance: str = "berthbench") -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SCRATCH / 'bench.sqlite3'}")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
    os.environ["BERTH_INSTANCE"] = instance
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ["BERTH_RECORDINGS_DIR"] = str(SCRATCH / "recordings")
    os.environ["BERTH_GATEWAY_DIR"] = str(SCRATCH / "gw")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def eager_celery() -> None:
    from config.celery_app import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


def bench_lab(instance: str):
    """A clean engine for `instance` and the mini test course with a cohort: (cohort, lab)."""
    from tests import factories

    remove_labelled(instance)
    course = factories.import_mini_course()
    cohort = factories.make_cohort(course, "bench")
    return cohort, course.labs.get(slug="first")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "n": len(values),
    }


def remove_labelled(instance: str) -> None:
    import docker

    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": f"org.berth.instance={instance}"}):
        container.remove(force=True, v=True)
    for network in client.networks.list(filters={"label": f"org.berth.instance={instance}"}):
        try:
            network.remove()
        except docker.errors.APIError:
            pass


def finish(result: dict) -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    print(json.dumps(result))
