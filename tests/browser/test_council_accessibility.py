"""axe finds no violations on the council's pages: an initiative, the conversation on a card, the meeting's record."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from challenge_cards import services as card_services
from challenge_cards.models import Meeting
from council import services
from tests import factories
from tests.browser.test_accessibility import assert_no_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def council_world(world):
    admin, card, past = world["admin"], world["card"], world["past"]
    labor_card = factories.ChallengeCardFactory(
        agency=world["labor"],
        meeting=past,
        priority=world["priority"],
        title="Hire through pooled hiring",
        issued_at=past.starts_at,
        due_date=card.due_date,
        metric_name="People hired",
        metric_unit="people",
        metric_baseline=0,
        metric_target=80,
        metric_value=30,
    )
    initiative = services.initiative_create(
        actor=admin,
        title="Pooled hiring: 400 hires",
        priority=world["priority"],
        target_name="People hired through pooled hiring",
        target_value=Decimal(400),
        target_unit="people",
        starts_on=past.starts_at.date(),
        target_date=card.due_date,
        cards=[card, labor_card],
    )
    comment = services.comment_post(actor=world["deputy"], card=card, body="@delegate.treas please add the hires.")
    services.record_attendance_set(actor=admin, meeting=past, agency=world["treasury"], name="Kevin Park")
    services.record_attendance_set(
        actor=admin, meeting=past, agency=world["labor"], name="Ana Lee", mode="video", substitute=True
    )
    services.record_minutes_set(actor=admin, meeting=past, minutes="The council reviewed pooled hiring.")
    card_services.card_review(actor=admin, card=labor_card, expected_version=None, disposition="accepted")
    Meeting.objects.filter(pk=past.pk).update(status="held")
    past.refresh_from_db()
    past.closed_at = timezone.now()
    past.save(update_fields=["closed_at", "updated_at"])  # the close-out's save publishes the record
    return {**world, "initiative": initiative, "comment": comment}


def test_the_council_pages_have_no_axe_violations(page, live_server, council_world, sign_in):
    base = live_server.url
    world = council_world

    def check(path: str, what: str) -> None:
        page.goto(base + path)
        assert_no_violations(page, what)

    sign_in(world["deputy"])
    check("/initiatives/", "initiatives")
    check(world["initiative"].get_absolute_url(), "initiative (a deputy's view)")
    expect(page.get_by_test_id("initiative-agencies")).to_contain_text("TREAS")
    expect(page.get_by_test_id("initiative-agencies")).not_to_contain_text("DOL")
    check(world["card"].get_absolute_url() + "#conversation", "card page with its conversation")
    check(f"/comments/{world['comment'].pk}/edit/", "edit a comment")
    page.get_by_label("Comment").fill("@deputy.dol see this")
    page.get_by_role("button", name="Save the comment").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    assert_no_violations(page, "edit a comment with an error")
    check(f"/meetings/{world['past'].pk}/record/", "meeting record (published)")

    sign_in(world["admin"])
    check(world["initiative"].get_absolute_url(), "initiative (OMB admin, with the add form)")
    page.get_by_text("Add cards to the initiative").click()
    assert_no_violations(page, "initiative with the add form open")
    check("/initiatives/new/", "make an initiative")
    page.get_by_role("button", name="Make the initiative").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    assert_no_violations(page, "make an initiative with errors")
    check(f"/meetings/{world['past'].pk}/record/", "meeting record (OMB admin)")
    page.get_by_text("Publish a correction").click()
    assert_no_violations(page, "meeting record with the correction form open")
    check(f"/meetings/{world['upcoming'].pk}/record/", "draft record with the attendance and minutes forms")
    check("/scorecard/", "scorecard")
    expect(page.get_by_test_id("scorecard-initiatives")).to_be_visible()  # fetched by htmx after the page
    assert_no_violations(page, "scorecard with the initiatives' rows")
    check("/initiatives/across-meetings/", "initiatives across meetings (without JavaScript)")
    check("/initiatives/pages/", "initiative pages of the briefing packet")
