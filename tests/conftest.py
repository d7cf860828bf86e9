import pytest

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
