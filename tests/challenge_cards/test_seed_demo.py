import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from agencies.models import Agency, Membership, OmbRole, Role
from agencies.roles import roles_of
from challenge_cards import demo
from challenge_cards.management import bulk_demo
from challenge_cards.models import (
    ActionOwnerSide,
    CardUpdate,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Meeting,
    UpdateKind,
)

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO(), verbosity=0, **options)
    return out.getvalue()


def test_running_seed_demo_twice_duplicates_nothing():
    seed()
    first = demo.counts()
    output = seed()
    assert demo.counts() == first
    assert first["agencies"] == 29
    assert first["meetings"] == 4
    assert first["cards"] > 50
    assert first["follow-up actions"] > first["cards"]
    assert f"cards: {first['cards']:,}" in output
    assert "deputy.usda" in output


def test_seed_creates_the_named_users_and_their_roles():
    seed(password="another-demo-password")
    users = get_user_model().objects
    admin = users.get(username="omb.admin")
    assert roles_of(admin).omb_admin and admin.is_staff
    assert admin.check_password("another-demo-password")
    assert roles_of(users.get(username="omb.viewer")).omb_viewer
    usda = Agency.objects.get(abbreviation="USDA")
    deputy = users.get(username="deputy.usda")
    assert roles_of(deputy).deputy_of == {usda.pk}
    assert deputy.email == "deputy.usda@example.gov"
    treasury = Agency.objects.get(abbreviation="TREASURY")
    delegate = Membership.objects.get(user__username="delegate.treasury")
    assert (delegate.agency, delegate.role) == (treasury, Role.DELEGATE)
    assert delegate.title
    assert Membership.objects.filter(role=Role.DEPUTY_SECRETARY).count() == 24
    assert OmbRole.objects.count() == 2
    irs = Agency.objects.get(abbreviation="IRS")
    assert irs.parent == treasury and irs.hisp and not irs.cfo_act
    assert set(Agency.objects.filter(hisp=True, parent__isnull=False).values_list("abbreviation", flat=True)) == {
        "IRS",
        "CDFI",
        "IHS",
        "DCSA",
        "ITA",
    }


def test_seed_builds_meetings_cards_and_a_believable_history():
    seed()
    meetings = list(Meeting.objects.order_by("starts_at"))
    assert [m.status for m in meetings] == ["held", "held", "held", "scheduled"]
    local = [m.starts_at_eastern for m in meetings]
    assert {(t.weekday(), (t.day - 1) // 7, t.hour) for t in local} == {(1, 1, 10)}  # second Tuesday, 10:00
    admin = get_user_model().objects.get(username="omb.admin")
    assert not ChallengeCard.objects.exclude(issued_by=admin).exists()
    assert ChallengeCard.objects.filter(disposition=Disposition.CARRIED_OVER).exists()
    assert ChallengeCard.objects.filter(carried_over_from__isnull=False).exists()
    irs = ChallengeCard.objects.get(title__contains="IRS phone wait")
    assert (irs.metric_baseline, irs.metric_target) == (28, 3)
    updates = CardUpdate.objects.filter(kind=UpdateKind.UPDATE)
    assert updates.filter(on_behalf_of__isnull=False, author__username__startswith="delegate.").exists()
    assert updates.filter(status_to="at_risk").exclude(note="").exists()
    assert CardUpdate.objects.filter(kind=UpdateKind.OMB_REVIEW).exists()
    assert FollowUpAction.objects.filter(owned_by=ActionOwnerSide.OMB).exists()
    assert FollowUpAction.objects.filter(status="done").exists()
    assert FollowUpAction.objects.overdue().exists()
    # History of past meetings is dated after its meeting, not all "now".
    first = ChallengeCard.objects.filter(meeting=meetings[0]).first()
    issued = first.updates.get(kind=UpdateKind.ISSUED)
    assert meetings[0].starts_at < issued.created_at < meetings[1].starts_at


def test_large_scale_with_reduced_sizes_adds_the_requested_volume_once():
    seed(scale="large", agencies=32, cards_per_agency=3, actions_per_card=2)
    small_cards = ChallengeCard.objects.exclude(title__startswith=bulk_demo.TITLE_PREFIX).count()
    assert Agency.objects.count() == 32
    assert Agency.objects.filter(name__startswith="Test Agency ").count() == 3
    bench = ChallengeCard.objects.filter(title__startswith=bulk_demo.TITLE_PREFIX)
    assert bench.count() == 32 * 3
    assert FollowUpAction.objects.filter(card__in=bench).count() == 32 * 3 * 2
    assert CardUpdate.objects.filter(card__in=bench, kind=UpdateKind.ISSUED).count() == 32 * 3
    assert bench.filter(agency__abbreviation="USDA", issued_to__username="deputy.usda").count() == 3
    first = demo.counts()
    output = seed(scale="large", agencies=32, cards_per_agency=3, actions_per_card=2)
    assert demo.counts() == first
    assert "already there" in output
    assert ChallengeCard.objects.exclude(title__startswith=bulk_demo.TITLE_PREFIX).count() == small_cards


def test_seed_demo_refuses_to_run_under_production_settings(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="--i-know-this-is-production"):
        seed()
    assert not get_user_model().objects.filter(username=demo.ADMIN_USERNAME).exists()
    assert not Agency.objects.exists()


def test_seed_demo_runs_under_production_settings_when_told_so(settings):
    settings.PRODUCTION = True
    seed(i_know_this_is_production=True)
    assert get_user_model().objects.filter(username=demo.ADMIN_USERNAME).exists()
