"""Rules the database itself enforces, whatever code writes the row."""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from challenge_cards.models import ActionStatus, CardUpdate, ChallengeCard, Disposition, Meeting
from tests import factories


@contextmanager
def _refused():
    """The database refuses the write; the savepoint keeps the test's transaction usable on PostgreSQL."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


def test_card_title_is_unique_per_meeting_and_agency(card):
    with _refused():
        factories.ChallengeCardFactory(meeting=card.meeting, agency=card.agency, title=card.title)


def test_same_title_is_fine_for_another_agency_or_meeting(card, other_agency):
    factories.ChallengeCardFactory(meeting=card.meeting, agency=other_agency, title=card.title)
    factories.ChallengeCardFactory(meeting=factories.MeetingFactory(), agency=card.agency, title=card.title)
    assert ChallengeCard.objects.filter(title=card.title).count() == 3


def test_metric_target_needs_a_name(db):
    with _refused():
        factories.ChallengeCardFactory(metric_name="", metric_target=400)


def test_metric_target_with_a_name_is_fine(db):
    card = factories.ChallengeCardFactory(metric_name="Hires", metric_target=400)
    assert card.pk is not None


@pytest.mark.parametrize("disposition", [Disposition.DROPPED, Disposition.CARRIED_OVER])
def test_dropping_or_carrying_over_a_card_needs_a_reason(db, disposition):
    with _refused():
        factories.ChallengeCardFactory(disposition=disposition, disposition_reason="")


def test_a_carried_over_card_counts_the_carry(card):
    with _refused():
        factories.ChallengeCardFactory(carried_over_from=card, carry_count=0)


def test_done_action_needs_completed_at(card):
    with _refused():
        factories.FollowUpActionFactory(card=card, status=ActionStatus.DONE, completed_at=None)


def test_only_a_done_action_has_completed_at(card):
    with _refused():
        factories.FollowUpActionFactory(card=card, status=ActionStatus.OPEN, completed_at=timezone.now())


def test_done_action_with_completed_at_is_fine(card):
    action = factories.FollowUpActionFactory(card=card, status=ActionStatus.DONE, completed_at=timezone.now())
    assert action.pk is not None


def test_dropped_action_needs_a_reason(card):
    with _refused():
        factories.FollowUpActionFactory(card=card, status=ActionStatus.DROPPED, dropped_reason="")


def test_action_needs_a_description(card):
    with _refused():
        factories.FollowUpActionFactory(card=card, description="")


def test_two_live_meetings_cannot_start_at_the_same_time(meeting):
    with _refused():
        factories.MeetingFactory(starts_at=meeting.starts_at)


def test_a_cancelled_meeting_does_not_hold_its_time(meeting):
    factories.MeetingFactory(starts_at=meeting.starts_at, status=Meeting.Status.CANCELLED)
    assert Meeting.objects.filter(starts_at=meeting.starts_at).count() == 2


def test_card_history_cannot_be_edited(card, deputy):
    update = factories.CardUpdateFactory(card=card, author=deputy, note="Original.")
    update.note = "Rewritten."
    with pytest.raises(ValueError, match="append-only"):
        update.save()
    with pytest.raises(ValueError, match="append-only"):
        update.save(update_fields=["note", "certification"])
    assert CardUpdate.objects.get(pk=update.pk).note == "Original."


def test_card_history_cannot_be_deleted(card, deputy):
    update = factories.CardUpdateFactory(card=card, author=deputy)
    with pytest.raises(ValueError, match="append-only"):
        update.delete()
    assert CardUpdate.objects.filter(pk=update.pk).exists()


def test_only_the_certification_may_be_stamped_on_history(card, deputy):
    update = factories.CardUpdateFactory(card=card, author=deputy, certification="pending")
    update.certification = "certified"
    update.certified_by = deputy
    update.certified_at = timezone.now()
    update.save(update_fields=["certification", "certified_by", "certified_at"])
    assert CardUpdate.objects.get(pk=update.pk).certification == "certified"
