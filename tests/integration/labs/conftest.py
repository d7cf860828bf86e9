"""Fixtures for tests against the real Docker engine: eager Celery, a lab, and cleanup that
removes every container this test instance labelled (dumping their logs when a test failed)."""

import pytest

from config.celery_app import app as celery_app
from labs.runtime import get_backend
from tests import factories


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield celery_app
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def backend():
    return get_backend()


@pytest.fixture
def engine_cleanup(request, backend):
    """Remove every container, network labelled with the test instance, after the test."""
    yield backend
    client = backend.client
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for container in client.containers.list(all=True, filters={"label": "org.berth.instance=berthtest"}):
        if failed:
            try:
                print(f"--- logs of {container.name} ---\n" + container.logs(tail=50).decode(errors="replace"))
            except Exception:  # noqa: BLE001 - best effort while cleaning up
                pass
        container.remove(force=True, v=True)
    for network in client.networks.list(filters={"label": "org.berth.instance=berthtest"}):
        try:
            network.remove()
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture
def lab_env(transactional_db, eager_celery, engine_cleanup):
    """The mini course imported, a cohort with two students, the lab, and the engine cleaned after."""
    course = factories.import_mini_course()
    cohort = factories.make_cohort(course, "lab-cohort")
    alice, bob = factories.make_user("alice"), factories.make_user("bob")
    factories.enrol(alice, cohort)
    factories.enrol(bob, cohort)
    from labs.models import Lab

    return {"course": course, "cohort": cohort, "alice": alice, "bob": bob, "lab": Lab.objects.get(slug="first"),
            "backend": engine_cleanup}
