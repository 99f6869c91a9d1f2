"""Sign-in lockout: AUTH_LOCKOUT_FAILURES failures lock the account for AUTH_LOCKOUT_MINUTES."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.lockout import accounts_unlock, is_locked
from audit.models import AuditEvent
from tests import factories

LOGIN = "/accounts/login/"


def _sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def person(db):
    return factories.UserFactory(username="pio.treas")


def test_three_failures_lock_the_account_and_the_page_says_for_how_long(client, person):
    for _ in range(2):
        response = _sign_in(client, "pio.treas", "wrong password")
        assert response.status_code == 200
        assert "Sign-in failed" in response.content.decode()
    response = _sign_in(client, "pio.treas", "wrong password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "This account is locked" in page
    assert "locked for 15 more minutes" in page
    # Even the right password is refused while the lock lasts, and no session is made.
    response = _sign_in(client, "pio.treas", factories.PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.locked_out", actor_username="pio.treas").exists()
    assert AuditEvent.objects.filter(action="auth.sign_in_failed", actor_username="pio.treas").count() >= 3


def test_the_lock_ends_after_the_lockout_period(client, person):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            _sign_in(client, "pio.treas", "wrong password")
        assert _sign_in(client, "pio.treas", factories.PASSWORD).status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        response = _sign_in(client, "pio.treas", "wrong password")
        assert "locked for 15 more minutes" in response.content.decode()  # a try while locked restarts the clock
    with time_machine.travel(start + datetime.timedelta(minutes=26), tick=False):
        response = _sign_in(client, "pio.treas", factories.PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_another_account_is_not_locked(client, person):
    other = factories.UserFactory(username="cx.lead")
    for _ in range(3):
        _sign_in(client, "pio.treas", "wrong password")
    assert _sign_in(client, "cx.lead", factories.PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_a_success_before_the_limit_resets_the_count(client, person):
    for _ in range(2):
        _sign_in(client, "pio.treas", "wrong password")
    assert _sign_in(client, "pio.treas", factories.PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert _sign_in(client, "pio.treas", "wrong password").status_code == 200


@pytest.mark.parametrize(("limit", "minutes"), [(5, 30)])
def test_limit_and_period_come_from_settings(client, person, settings, limit, minutes):
    settings.AUTH_LOCKOUT_FAILURES = settings.AXES_FAILURE_LIMIT = limit
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=minutes)
    for _ in range(limit - 1):
        assert _sign_in(client, "pio.treas", "wrong password").status_code == 200
    response = _sign_in(client, "pio.treas", "wrong password")
    assert response.status_code == 429
    assert f"After {limit} failed sign-ins" in response.content.decode()
    assert f"locked for {minutes} more minutes" in response.content.decode()


def test_an_omb_admin_unlocks_from_the_admin(client, person, admin_user):
    for _ in range(3):
        _sign_in(client, "pio.treas", "wrong password")
    assert AccessAttempt.objects.filter(username="pio.treas").exists()
    admin_client = type(client)()
    admin_client.force_login(admin_user)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin_client.get(changelist)
    assert page.status_code == 200
    assert "pio.treas" in page.content.decode()
    attempt = AccessAttempt.objects.get(username="pio.treas")
    response = admin_client.post(
        changelist, {"action": "unlock_accounts", "_selected_action": [attempt.pk]}, follow=True
    )
    assert "Unlocked 1 account(s): pio.treas" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="pio.treas").exists()
    assert AuditEvent.objects.filter(action="auth.unlocked", actor=admin_user, details__username="pio.treas").exists()
    assert _sign_in(client, "pio.treas", factories.PASSWORD).status_code == 302


def test_only_omb_admins_unlock_and_the_locked_flag_follows_the_rule(client, person, admin_user, omb_viewer_user):
    for _ in range(3):
        _sign_in(client, "pio.treas", "wrong password")
    attempt = AccessAttempt.objects.get(username="pio.treas")
    assert is_locked(attempt)
    for not_an_admin in (omb_viewer_user, factories.deputy_of(factories.AgencyFactory())):
        with pytest.raises(PermissionDenied):
            accounts_unlock(actor=not_an_admin, usernames={"pio.treas"})
    assert AccessAttempt.objects.filter(username="pio.treas").exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert not is_locked(attempt)  # the period has passed
    assert accounts_unlock(actor=admin_user, usernames={"pio.treas"}) == ["pio.treas"]
    assert not AccessAttempt.objects.exists()


def test_omb_viewers_do_not_see_lockouts_or_the_audit_log(client, omb_viewer_user):
    client.force_login(omb_viewer_user)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403


def test_the_admin_sign_in_is_locked_too(client, admin_user):
    for _ in range(3):
        client.post("/admin/login/", {"username": "omb.admin", "password": "wrong password"})
    response = client.post("/admin/login/", {"username": "omb.admin", "password": factories.PASSWORD})
    assert response.status_code == 429
    assert "This account is locked" in response.content.decode()


# --- issue 16: a stranger who knows a user name cannot lock its owner out -----------------------------

STRANGER, OWNER = "203.0.113.9", "198.51.100.7"


def _sign_in_from(client, address, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_stranger_s_failures_lock_only_the_stranger_s_address(client, person):
    """The attacker's three failures lock pio.treas *from the attacker's address*; the owner signs in."""
    for _ in range(3):
        _sign_in_from(client, STRANGER, "pio.treas", "wrong password")
    # FedRAMP AC-7: the single source that failed three times in a row is locked, even with the right password.
    locked = _sign_in_from(client, STRANGER, "pio.treas", factories.PASSWORD)
    assert locked.status_code == 429 and "This account is locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    owner = type(client)()
    response = _sign_in_from(owner, OWNER, "pio.treas", factories.PASSWORD)
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(person.pk)


def test_the_owner_s_own_failures_from_one_place_still_lock_that_place(client, person):
    for _ in range(2):
        assert _sign_in_from(client, OWNER, "pio.treas", "wrong password").status_code == 200
    assert _sign_in_from(client, OWNER, "pio.treas", "wrong password").status_code == 429
    assert _sign_in_from(client, OWNER, "pio.treas", factories.PASSWORD).status_code == 429


@pytest.fixture
def many_places_failed(client, person, admin_user, settings):
    """AUTH_SLOWDOWN_FAILURES failures for pio.treas, two from each of five addresses (none of them locked)."""
    settings.AUTH_SLOWDOWN_FAILURES, settings.AUTH_SLOWDOWN_SECONDS = 10, 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for index in range(10):
            _sign_in_from(client, f"192.0.2.{index // 2 + 1}", "pio.treas", "wrong password")
    return start


def test_many_failures_from_many_places_slow_the_account_and_alert_its_owner_and_omb_admins(
    client, person, admin_user, many_places_failed, mailoutbox
):
    start = many_places_failed
    with time_machine.travel(start + datetime.timedelta(seconds=5), tick=False):
        response = _sign_in_from(client, "192.0.2.99", "pio.treas", "another guess")
    assert response.status_code == 429
    assert response["Retry-After"] == "25"
    page = response.content.decode()
    assert "Wait 25 seconds and try again" in page and "This account is locked" not in page
    # The refused try was not counted (it reached no password check), and nobody was locked.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 10
    assert not AccessAttempt.objects.filter(ip_address="192.0.2.99").exists()
    # The owner and the OMB admins are told, once.
    assert sorted(address for message in mailoutbox for address in message.to + message.bcc) == [
        "omb.admin@example.gov",
        "pio.treas@example.gov",
    ]
    assert "10 failed sign-ins for pio.treas" in mailoutbox[0].subject
    alert = AuditEvent.objects.get(action="auth.slowdown_alert")
    assert alert.actor_username == "pio.treas" and alert.details["failures"] == 10
    assert AuditEvent.objects.filter(action="auth.sign_in_slowed", actor_username="pio.treas").exists()
    with time_machine.travel(start + datetime.timedelta(seconds=10), tick=False):
        assert _sign_in_from(client, "192.0.2.98", "pio.treas", "again").status_code == 429
    assert len(mailoutbox) == 2  # no second alert within the period


def test_a_slowed_account_s_owner_signs_in_after_the_wait(client, person, admin_user, many_places_failed):
    """Slowed, not blocked: once the wait is over, the owner's right password works from their own place."""
    start = many_places_failed
    owner = type(client)()
    with time_machine.travel(start + datetime.timedelta(seconds=31), tick=False):
        response = _sign_in_from(owner, OWNER, "pio.treas", factories.PASSWORD)
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(person.pk)


def test_the_slowdown_is_off_below_its_threshold(client, person, settings, mailoutbox):
    settings.AUTH_SLOWDOWN_FAILURES = 10
    for index in range(9):
        _sign_in_from(client, f"192.0.2.{index + 1}", "pio.treas", "wrong password")
    assert _sign_in_from(client, OWNER, "pio.treas", factories.PASSWORD).status_code == 302
    assert mailoutbox == []
