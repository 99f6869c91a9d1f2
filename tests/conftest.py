"""Fixtures shared by every test module."""

import pytest

from tests import factories

# Fixtures that start a Celery worker (or another server) in a subprocess; `make test-fast` leaves
# out the tests that use them, the browser tests and the fault tests (test_fault_*.py).
WORKER_FIXTURES = frozenset({"shared_db", "workers"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if WORKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.celery_worker)
        if item.path.name.startswith("test_fault_"):
            item.add_marker(pytest.mark.fault)
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        postgresql = [item for item in items if item.get_closest_marker("postgresql")]
        if postgresql:
            config.hook.pytest_deselected(items=postgresql)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql")]
            config.stash[_NOT_ON_SQLITE] = len(postgresql)


_NOT_ON_SQLITE = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, config):
    if count := config.stash.get(_NOT_ON_SQLITE, 0):
        terminalreporter.write_line(
            f"{count} tests check PostgreSQL itself and were not run on SQLite: set DATABASE_URL to run them (CI does)",
            yellow=True,
        )


@pytest.fixture(scope="session", autouse=True)
def _close_stray_test_database_sessions(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end sessions that live servers or workers left open.

    Otherwise PostgreSQL refuses to drop it ("being accessed by other users") and the next run
    finds a stale test database.
    """
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def _meetings_start_two_weeks_out():
    """Factory meetings count from two weeks out in every test: a suite-long sequence would pass 2100."""
    factories.MeetingFactory.reset_sequence()


@pytest.fixture
def agency(db):
    return factories.AgencyFactory(name="Department of the Treasury", abbreviation="TREAS")


@pytest.fixture
def other_agency(db):
    return factories.AgencyFactory(name="Department of Labor", abbreviation="DOL")


@pytest.fixture
def deputy(agency):
    return factories.deputy_of(agency, user__username="deputy.treas")


@pytest.fixture
def delegate(agency, deputy):
    return factories.delegate_of(agency, user__username="delegate.treas")


@pytest.fixture
def other_deputy(other_agency):
    return factories.deputy_of(other_agency, user__username="deputy.dol")


@pytest.fixture
def admin_user(db):
    return factories.omb_admin(user__username="omb.admin")


@pytest.fixture
def omb_viewer_user(db):
    return factories.omb_viewer(user__username="omb.viewer")


@pytest.fixture
def priority(db):
    return factories.PmaPriorityFactory(number=1, short_title="Workforce", title="Strengthening the federal workforce")


@pytest.fixture
def meeting(db):
    return factories.MeetingFactory()


@pytest.fixture
def card(agency, deputy, meeting, priority):
    return factories.ChallengeCardFactory(agency=agency, issued_to=deputy, meeting=meeting, priority=priority)
