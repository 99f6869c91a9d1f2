"""Two beats at once: two scans in two threads, each on its own database connection.

On PostgreSQL (DATABASE_URL set, as in CI) this exercises the unique key under real
concurrency: both inserts race, the index keeps one row. On SQLite the writes serialise.
"""

import threading

import pytest
import time_machine
from django.db import connections

from notifications import services
from notifications.models import Notification
from tests import factories

from .conftest import at


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shared_db")
def test_two_scans_at_once_make_each_notification_once(council, other_agency, admin_user, monkeypatch):
    for n in range(5):
        factories.delegate_of(other_agency, user__username=f"delegate{n}.dol")
    factories.ChallengeCardFactory(agency=other_agency, meeting=council["last_meeting"], issued_by=admin_user)
    monkeypatch.setattr("notifications.services.enqueue.notifications", lambda ids: None)
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def beat():
        try:
            barrier.wait(10)
            results.append(services.reminders_scan())
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    with time_machine.travel(at("2026-11-19"), tick=False):
        threads = [threading.Thread(target=beat) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    created = [pk for result in results for pk in result.created]
    expected = 2 + 5  # Treasury's deputy and delegate; Labor's five delegates (no deputy)
    assert Notification.objects.count() == expected
    assert sorted(created) == sorted(Notification.objects.values_list("pk", flat=True))  # each row claimed by one scan
