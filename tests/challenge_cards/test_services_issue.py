"""card_issue: the same card to many agencies' deputy secretaries, all or nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from challenge_cards import services, signals
from challenge_cards.models import EASTERN, CardStatus, CardUpdate, ChallengeCard, Meeting, UpdateKind
from tests import factories

ISSUE = {"title": "Ramp up CX capacity", "ask": "Name a CX lead and fund two HCD researchers."}


@pytest.fixture
def agencies(db):
    return [factories.AgencyFactory(abbreviation=abbreviation) for abbreviation in ("HHS", "VA", "SSA")]


@pytest.fixture
def deputies(agencies):
    return {agency.pk: factories.deputy_of(agency) for agency in agencies}


def _no_cards_written():
    return not ChallengeCard.objects.exists() and not CardUpdate.objects.exists()


def test_issue_to_many_agencies(admin_user, meeting, priority, agencies, deputies):
    cards = services.card_issue(actor=admin_user, meeting=meeting, agencies=agencies, priority=priority, **ISSUE)
    assert len(cards) == 3
    assert ChallengeCard.objects.count() == 3
    stored = ChallengeCard.objects.order_by("agency__abbreviation")
    assert sorted(card.agency_id for card in stored) == sorted(a.pk for a in agencies)
    for card in stored:
        assert card.issued_to_id == deputies[card.agency_id].pk
        assert card.issued_by == admin_user
        assert card.meeting == meeting
        assert card.status == CardStatus.NOT_STARTED
        assert card.version == 1
        history = list(card.updates.all())
        assert len(history) == 1
        assert history[0].kind == UpdateKind.ISSUED
        assert history[0].author == admin_user
    assert len({card.issue_batch for card in stored}) == 1


def test_each_issue_gets_its_own_batch(admin_user, meeting, priority, agencies, deputies):
    first = services.card_issue(actor=admin_user, meeting=meeting, agencies=agencies[:1], priority=priority, **ISSUE)
    second = services.card_issue(
        actor=admin_user, meeting=meeting, agencies=agencies[:1], priority=priority, title="Another", ask="Another ask."
    )
    assert first[0].issue_batch != second[0].issue_batch


def test_issued_to_is_the_current_deputy(admin_user, meeting, priority, agency):
    factories.deputy_of(agency, ended_on=datetime.date(2025, 1, 20))
    current = factories.deputy_of(agency)
    [card] = services.card_issue(actor=admin_user, meeting=meeting, agencies=[agency], priority=priority, **ISSUE)
    assert card.issued_to == current


def test_agency_without_a_deputy_still_gets_the_card(admin_user, meeting, priority, agency):
    [card] = services.card_issue(actor=admin_user, meeting=meeting, agencies=[agency], priority=priority, **ISSUE)
    assert card.issued_to is None


def test_one_inactive_agency_means_nothing_is_issued(admin_user, meeting, priority, agencies, deputies):
    agencies[1].active = False
    agencies[1].save()
    with pytest.raises(ValidationError) as error:
        services.card_issue(actor=admin_user, meeting=meeting, agencies=agencies, priority=priority, **ISSUE)
    assert "agencies" in error.value.message_dict
    assert _no_cards_written()


def test_a_duplicate_title_for_one_agency_means_nothing_is_issued(admin_user, meeting, priority, agencies, deputies):
    factories.ChallengeCardFactory(meeting=meeting, agency=agencies[2], priority=priority, title=ISSUE["title"])
    with pytest.raises(ValidationError) as error:
        services.card_issue(actor=admin_user, meeting=meeting, agencies=agencies, priority=priority, **ISSUE)
    assert "title" in error.value.message_dict
    assert ChallengeCard.objects.count() == 1
    assert not CardUpdate.objects.exists()


def test_a_failure_after_the_cards_are_written_rolls_all_of_them_back(
    admin_user, meeting, priority, agencies, deputies
):
    def fail(**kwargs):
        raise RuntimeError("receiver failed")

    signals.cards_issued.connect(fail)
    try:
        with pytest.raises(RuntimeError):
            services.card_issue(actor=admin_user, meeting=meeting, agencies=agencies, priority=priority, **ISSUE)
    finally:
        signals.cards_issued.disconnect(fail)
    assert _no_cards_written()


@pytest.mark.parametrize("who", ["deputy", "delegate", "omb_viewer_user"])
def test_only_omb_admins_issue(meeting, priority, agency, request, who):
    with pytest.raises(PermissionDenied):
        services.card_issue(
            actor=request.getfixturevalue(who), meeting=meeting, agencies=[agency], priority=priority, **ISSUE
        )
    assert _no_cards_written()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"ask": ""}, "ask"),
        ({"metric_target": 400}, "metric_name"),
        ({"horizon": "decade"}, "horizon"),
        ({"agencies": []}, "agencies"),
    ],
)
def test_bad_input_is_refused_with_the_field(admin_user, meeting, priority, agency, changes, field):
    arguments = {"actor": admin_user, "meeting": meeting, "agencies": [agency], "priority": priority, **ISSUE}
    with pytest.raises(ValidationError) as error:
        services.card_issue(**{**arguments, **changes})
    assert field in error.value.message_dict
    assert _no_cards_written()


def test_strategy_must_belong_to_the_priority(admin_user, meeting, priority, agency):
    strategy = factories.PmaStrategyFactory(priority=factories.PmaPriorityFactory(number=2))
    with pytest.raises(ValidationError) as error:
        services.card_issue(
            actor=admin_user, meeting=meeting, agencies=[agency], priority=priority, strategy=strategy, **ISSUE
        )
    assert "strategy" in error.value.message_dict


def test_cards_cannot_be_issued_at_a_cancelled_meeting(admin_user, priority, agency):
    meeting = factories.MeetingFactory(status=Meeting.Status.CANCELLED)
    with pytest.raises(ValidationError) as error:
        services.card_issue(actor=admin_user, meeting=meeting, agencies=[agency], priority=priority, **ISSUE)
    assert "meeting" in error.value.message_dict


def test_metric_value_starts_at_the_baseline(admin_user, meeting, priority, agency):
    [card] = services.card_issue(
        actor=admin_user,
        meeting=meeting,
        agencies=[agency],
        priority=priority,
        metric_name="Phone wait time",
        metric_baseline=28,
        metric_target=3,
        **ISSUE,
    )
    card.refresh_from_db()
    assert card.metric_value == 28


def _at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=EASTERN)


def test_default_due_date_is_the_next_scheduled_meeting(admin_user, priority, agency):
    issuing = factories.MeetingFactory(starts_at=_at(2026, 1, 13))
    factories.MeetingFactory(starts_at=_at(2026, 2, 3), status=Meeting.Status.CANCELLED)
    factories.MeetingFactory(starts_at=_at(2026, 2, 17))
    factories.MeetingFactory(starts_at=_at(2026, 3, 10))
    [card] = services.card_issue(actor=admin_user, meeting=issuing, agencies=[agency], priority=priority, **ISSUE)
    assert card.due_date == datetime.date(2026, 2, 17)


def test_default_due_date_uses_the_eastern_date_of_the_next_meeting(admin_user, priority, agency):
    issuing = factories.MeetingFactory(starts_at=_at(2026, 1, 13))
    factories.MeetingFactory(starts_at=_at(2026, 2, 17, hour=22))  # already Feb 18 in UTC
    [card] = services.card_issue(actor=admin_user, meeting=issuing, agencies=[agency], priority=priority, **ISSUE)
    assert card.due_date == datetime.date(2026, 2, 17)


def test_default_due_date_is_a_month_later_without_a_next_meeting(admin_user, priority, agency):
    issuing = factories.MeetingFactory(starts_at=_at(2026, 1, 13))
    [card] = services.card_issue(actor=admin_user, meeting=issuing, agencies=[agency], priority=priority, **ISSUE)
    assert card.due_date == datetime.date(2026, 2, 10)  # the 2nd Tuesday of February


def test_an_explicit_due_date_wins(admin_user, meeting, priority, agency):
    [card] = services.card_issue(
        actor=admin_user,
        meeting=meeting,
        agencies=[agency],
        priority=priority,
        due_date=datetime.date(2027, 9, 30),
        **ISSUE,
    )
    assert card.due_date == datetime.date(2027, 9, 30)
    assert card.updates.get().changes["due_date"] == [None, "2027-09-30"]
