"""A lab on the real engine: the mini course, a cohort with two students, cleanup after."""

import pytest

from tests import factories


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
