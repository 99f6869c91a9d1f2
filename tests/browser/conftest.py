"""Browser tests: one headless Debian Chromium per session, driven by Playwright against live_server."""

from __future__ import annotations

import datetime
import os

import pytest
from django.test import Client
from django.utils import timezone

from challenge_cards.models import EASTERN
from tests import factories

# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def sign_in(page, live_server):
    """Sign a user in by session cookie (the sign-in form itself has its own test)."""

    def _sign_in(user):
        client = Client()
        client.force_login(user)
        page.context.clear_cookies()
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        return page

    return _sign_in


@pytest.fixture
def world(transactional_db):
    """Three agencies with deputy secretaries, a delegate, an OMB admin, a past and a next meeting, one card."""
    now = timezone.now()
    treasury = factories.AgencyFactory(name="Department of the Treasury", abbreviation="TREAS")
    labor = factories.AgencyFactory(name="Department of Labor", abbreviation="DOL")
    usda = factories.AgencyFactory(name="Department of Agriculture", abbreviation="USDA")
    deputy = factories.deputy_of(
        treasury, user__username="deputy.treas", user__first_name="Kevin", user__last_name="Park"
    )
    delegate = factories.delegate_of(
        treasury, user__username="delegate.treas", user__first_name="Dana", user__last_name="Cole"
    )
    factories.deputy_of(labor, user__username="deputy.dol", user__first_name="Lena", user__last_name="Ortiz")
    factories.deputy_of(usda, user__username="deputy.usda", user__first_name="Sam", user__last_name="Reyes")
    admin = factories.omb_admin(user__username="omb.admin", user__first_name="Olivia", user__last_name="Marchetti")
    priority = factories.PmaPriorityFactory(number=2, short_title="Services and CX", title="Excellent services")
    past = factories.MeetingFactory(starts_at=now - datetime.timedelta(days=20), status="held")
    in_8_days = timezone.localdate() + datetime.timedelta(days=8)
    upcoming = factories.MeetingFactory(
        starts_at=datetime.datetime.combine(in_8_days, datetime.time(10), tzinfo=EASTERN)
    )
    card = factories.ChallengeCardFactory(
        agency=treasury,
        issued_to=deputy,
        meeting=past,
        priority=priority,
        title="Cut IRS phone wait times",
        issued_at=past.starts_at,
        due_date=in_8_days,  # the next meeting's day in Washington (a UTC date is a day later each evening there)
        metric_name="Average phone wait",
        metric_unit="minutes",
        metric_baseline=28,
        metric_target=3,
        metric_value=20,
    )
    action = factories.FollowUpActionFactory(card=card, description="Hire 200 customer service representatives")
    return {
        "treasury": treasury,
        "labor": labor,
        "usda": usda,
        "deputy": deputy,
        "delegate": delegate,
        "admin": admin,
        "priority": priority,
        "past": past,
        "upcoming": upcoming,
        "card": card,
        "action": action,
    }
