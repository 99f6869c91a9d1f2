import pytest
from django.core.exceptions import ValidationError

from challenge_cards import services
from challenge_cards.models import CardStatus


def test_deputy_moves_card_to_in_progress_and_history_records_it(card, deputy):
    update = services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS
    assert card.version == 2
    assert update.changes == {"status": ["not_started", "in_progress"]}


def test_at_risk_without_note_is_refused(card, deputy):
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.AT_RISK)
    assert "note" in error.value.message_dict
