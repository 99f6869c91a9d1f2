"""The acceptance with the demo data: "Pooled hiring: 400 hires", five agencies summed against 400, pace, a trend
over three meetings; a deputy sees the total and their own card; the packet, the scorecard and the API agree."""

from decimal import Decimal

import pytest

from challenge_cards import demo
from council import selectors
from council.models import Initiative


@pytest.fixture
def seeded(db):
    demo.seed()
    return Initiative.objects.get(title="Pooled hiring: 400 hires")


def test_the_demo_initiative_sums_five_agencies_against_400_over_three_meetings(seeded, client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="omb.admin")
    rollup = selectors.initiative_rollup(admin, seeded.pk)
    assert rollup.agency_count == 5 and seeded.target_value == Decimal(400)
    assert rollup.total == Decimal(72 + 66 + 51 + 40 + 36)
    meetings = [item for item in rollup.history if item.meeting is not None]
    assert [item.total for item in meetings] == [
        Decimal(0),
        Decimal(25 + 20 + 12 + 10 + 8),
        Decimal(50 + 42 + 30 + 22 + 20),
    ]
    assert rollup.pace in ("on_pace", "behind")
    deputy = next(row.cards[0].issued_to for row in rollup.rows if row.agency.abbreviation == "VA")
    mine = selectors.initiative_rollup(deputy, seeded.pk)
    assert mine.total == rollup.total
    assert [row.agency.abbreviation for row in mine.visible_rows] == ["VA"]
    client.force_login(deputy)
    api = client.get(f"/api/v1/initiatives/{seeded.pk}/").json()
    assert api["total"] == f"{rollup.total:.2f}" and [row["agency"] for row in api["agencies"]] == ["VA"]
    page = client.get(seeded.get_absolute_url())
    assert b"Pooled hiring: 400 hires" in page.content and b"initiative-trend" in page.content
    client.force_login(admin)
    scorecard = client.get("/scorecard/")
    assert b'hx-get="/initiatives/across-meetings/"' in scorecard.content
    rows = client.get("/initiatives/across-meetings/", headers={"HX-Request": "true"})
    assert b'data-testid="scorecard-initiatives"' in rows.content and b"Pooled hiring: 400 hires" in rows.content
    assert b"<html" not in rows.content  # the fragment htmx swaps into the scorecard
    packet_pages = client.get("/initiatives/pages/", headers={"HX-Request": "true"})
    assert packet_pages.content.count(b'class="cc-initiative-page"') == Initiative.objects.count()
