import pytest

from config.celery_app import app as celery_app
from labs.runtime import get_backend
from tests import factories


@pytest.fixture
def mini_course(db):
    return factories.import_mini_course()


@pytest.fixture
def cohort(mini_course):
    return factories.make_cohort(mini_course, "cohort-a")


@pytest.fixture
def student(cohort):
    user = factories.make_user("stella")
    factories.enrol(user, cohort)
    return user


@pytest.fixture
def instructor(cohort):
    user = factories.make_user("ivan")
    factories.enrol(user, cohort, role="instructor")
    return user


@pytest.fixture
def admin_user(db):
    return factories.make_user("root", staff=True)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures know whether the test failed (to dump container logs on failure).
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


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
    from django.conf import settings

    label = f"org.berth.instance={settings.BERTH_INSTANCE}"
    for container in client.containers.list(all=True, filters={"label": label}):
        if failed:
            try:
                print(f"--- logs of {container.name} ---\n" + container.logs(tail=50).decode(errors="replace"))
            except Exception:  # noqa: BLE001, S110 - best effort while cleaning up
                pass
        container.remove(force=True, v=True)
    for network in client.networks.list(filters={"label": label}):
        try:
            network.remove()
        except Exception:  # noqa: BLE001, S110 - already gone
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

    return {
        "course": course,
        "cohort": cohort,
        "alice": alice,
        "bob": bob,
        "lab": Lab.objects.get(slug="first"),
        "backend": engine_cleanup,
    }
