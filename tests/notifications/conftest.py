"""Fixtures for the notifications tests: the default rules, a council with a meeting and a card."""

import datetime

import pytest

from challenge_cards.models import EASTERN, Meeting
from notifications.models import ReminderRule
from tests import factories

# Tuesday, December 1, 2026, 10:00 Eastern: Thanksgiving (Thursday, November 26) falls in the week before.
MEETING_AT = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=EASTERN)
LAST_MEETING_AT = datetime.datetime(2026, 11, 3, 10, 0, tzinfo=EASTERN)


def at(day: datetime.date | str, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """A moment in Eastern time, for time_machine."""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=EASTERN)


@pytest.fixture(autouse=True)
def local_webhook_receivers(settings):
    """The delivery tests' receivers listen on http://127.0.0.1: the settings made for local testing.

    tests/notifications/test_webhook_addresses.py turns both off again to test production's rules.
    """
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def default_rules(db):
    """The defaults the data migration makes (a transactional test's flush removes them)."""
    for rule, days in [("meeting_reminder", 7), ("meeting_reminder", 1), ("stale_cards", 2)]:
        ReminderRule.objects.get_or_create(rule=rule, business_days_before=days)


@pytest.fixture
def last_meeting(db):
    return Meeting.objects.create(starts_at=LAST_MEETING_AT, status=Meeting.Status.HELD)


@pytest.fixture
def next_meeting(db):
    return Meeting.objects.create(starts_at=MEETING_AT, location="Eisenhower Executive Office Building")


@pytest.fixture
def council(default_rules, agency, deputy, delegate, admin_user, priority, last_meeting, next_meeting):
    """Treasury with a deputy secretary and a delegate, an OMB admin, and one open card issued last meeting."""
    card = factories.ChallengeCardFactory(
        agency=agency,
        issued_to=deputy,
        issued_by=admin_user,
        meeting=last_meeting,
        priority=priority,
        title="Run a pooled hiring action for data scientists",
        due_date=MEETING_AT.date(),
    )
    return {"card": card, "meeting": next_meeting, "last_meeting": last_meeting}


@pytest.fixture
def shared_db(request, django_db_blocker, tmp_path):
    """A test database that other connections and processes (threads, a Celery worker) can open too.

    PostgreSQL: the usual test database (test_<name>) with real commits (transactional_db);
    its URL goes to the worker. SQLite: the in-memory test database is private to this
    process, so the test runs on a temporary SQLite file instead (WAL, immediate
    transactions, a lock timeout from config.settings.base), migrated for the test and
    swapped in as the default connection for its duration.
    Yields the DATABASE_URL to give a worker subprocess.
    """
    from django.core.management import call_command
    from django.db import connections

    request.getfixturevalue("transactional_db")
    if connections["default"].vendor == "postgresql":
        db = connections["default"].settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        yield f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        return
    path = tmp_path / "shared.sqlite3"
    with django_db_blocker.unblock():
        in_memory = connections["default"]
        configured = connections.settings["default"]
        file_settings = {**in_memory.settings_dict, "NAME": str(path)}
        # New connections (other threads) read connections.settings; this thread's is swapped directly.
        connections.settings["default"] = file_settings
        connections["default"] = in_memory.__class__(file_settings, alias="default")
        try:
            call_command("migrate", verbosity=0, interactive=False)
            yield f"sqlite:///{path}"
        finally:
            connections["default"].close()
            connections.settings["default"] = configured
            connections["default"] = in_memory
