"""No form body makes a page answer 5xx (issue 16, failure 1, for the pages): property tests post
arbitrary fields and values (NUL characters, huge numbers, odd dates, very long text) to every page form."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

PROPERTY = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALUES = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="\x00\x01\ud7ff\ue000\uffff0123456789-:.T+", max_size=12),
    st.integers().map(str),
    st.sampled_from(["", "0", "-1", "9" * 40, "1e999", "NaN", "2026-02-30", "9999-12-31", "0001-01-01", "x" * 6000]),
)
NAMES = [
    "version",
    "status",
    "agency_rating",
    "metric_value",
    "note",
    "loaded_status",
    "loaded_agency_rating",
    "loaded_metric_value",
    "description",
    "owned_by",
    "owner",
    "owner_name",
    "due_date",
    "reason",
    "title",
    "url",
    "date",
    "value",
    "time",
    "duration_minutes",
    "location",
    "agenda_notes",
    "name",
    "expires_days",
]


@pytest.fixture
def pages(agency, deputy, admin_user, meeting, priority):
    card = factories.ChallengeCardFactory(
        agency=agency,
        issued_to=deputy,
        meeting=meeting,
        priority=priority,
        metric_name="Hires",
        metric_target=400,
        due_date=datetime.date.today() + datetime.timedelta(days=90),
    )
    action = factories.FollowUpActionFactory(card=card)
    paths = [
        f"/cards/{card.pk}/",
        f"/cards/{card.pk}/actions/",
        f"/cards/{card.pk}/evidence/",
        f"/cards/{card.pk}/review/",
        f"/cards/{card.pk}/interim-targets/",
        *(f"/actions/{action.pk}/{op}/" for op in ("complete", "reopen", "drop", "reassign", "due-date")),
        "/meetings/schedule/",
        "/cards/issue/",
        "/profile/tokens/",
    ]
    clients = []
    for user in (deputy, admin_user):
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients, paths, card


def _prefixed(name: str, card_pk: int) -> list[str]:
    return [name, f"drop-{name}", f"reassign-{name}", f"due-{name}", f"card-{card_pk}-{name}"]


@given(data=st.data())
@PROPERTY
def test_no_form_body_makes_a_page_answer_5xx(pages, data):
    clients, paths, card = pages
    names = [prefixed for name in NAMES for prefixed in _prefixed(name, card.pk)]
    for client in clients:
        for path in paths:
            body = data.draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=6))
            response = client.post(path, body)
            assert response.status_code < 500, (path, body)
