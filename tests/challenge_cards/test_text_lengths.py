"""One length rule per free-text field, the same for pages, the API and the services (issue 16, failure 8:
a page stored a 6,000-character note that the API refused)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from challenge_cards import forms, services
from challenge_cards.api import serializers
from challenge_cards.domain import LONG_TEXT_MAX_LENGTH, NOTE_MAX_LENGTH
from challenge_cards.models import CardUpdate
from core.api.views import etag_for
from tests.api.conftest import client_for

NOTE_FIELDS = [
    (forms.CardUpdateForm, "note"),
    (forms.ActionCompleteForm, "note"),
    (forms.ActionDropForm, "reason"),
    (forms.ReviewForm, "reason"),
    (forms.CardIssueFields, "note"),
    (serializers.ActionNoteSerializer, "note"),
    (serializers.ActionDropSerializer, "reason"),
    (serializers.CardIssueSerializer, "note"),
]
LONG_TEXT_FIELDS = [
    (forms.CardIssueFields, "ask"),
    (forms.MeetingScheduleForm, "agenda_notes"),
    (serializers.CardIssueSerializer, "ask"),
    (serializers.MeetingInputSerializer, "agenda_notes"),
]


def _max_length(form_or_serializer, name: str) -> int:
    declared = getattr(form_or_serializer, "base_fields", None) or form_or_serializer().fields
    return declared[name].max_length


@pytest.mark.parametrize(("holder", "name"), NOTE_FIELDS)
def test_every_note_and_reason_takes_the_one_limit(holder, name):
    assert _max_length(holder, name) == NOTE_MAX_LENGTH == 5000


@pytest.mark.parametrize(("holder", "name"), LONG_TEXT_FIELDS)
def test_every_ask_and_agenda_takes_the_long_text_limit(holder, name):
    assert _max_length(holder, name) == LONG_TEXT_MAX_LENGTH


def test_the_card_page_refuses_the_note_the_api_refuses(client, deputy, card):
    client.force_login(deputy)
    before = CardUpdate.objects.count()
    typed = {
        "version": card.version,
        "status": card.status,
        "loaded_status": card.status,
        "agency_rating": "",
        "loaded_agency_rating": "",
    }
    response = client.post(f"/cards/{card.pk}/", {**typed, "note": "x" * 6000})
    assert response.status_code == 400
    assert "at most 5000 characters" in response.content.decode()
    assert CardUpdate.objects.count() == before
    api = client_for(deputy).post(
        f"/api/v1/cards/{card.pk}/updates/", {"note": "x" * 6000}, format="json", HTTP_IF_MATCH=etag_for("card", card)
    )
    assert api.status_code == 400 and list(api.json()["errors"]) == ["note"]
    assert CardUpdate.objects.count() == before
    assert client.post(f"/cards/{card.pk}/", {**typed, "note": "x" * 5000}).status_code == 302  # the limit itself


def test_the_services_refuse_it_too(deputy, card):
    with pytest.raises(ValidationError) as refused:
        services.card_update(actor=deputy, card=card, expected_version=card.version, note="x" * 5001)
    assert refused.value.message_dict == {"note": ["Keep this to 5,000 characters (it has 5,001)."]}
