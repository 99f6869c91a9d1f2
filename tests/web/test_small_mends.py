"""Small mends: a baseline of 0 shows as 0 in the issue preview."""

from __future__ import annotations

from django.urls import reverse

from challenge_cards.models import ChallengeCard

from .test_omb_pages import issue_data


def test_the_issue_preview_shows_a_baseline_of_zero_as_zero(client_for, admin_user, meeting, priority, agency, deputy):
    data = {
        **issue_data(meeting, priority, [agency]),
        "metric_name": "High-impact service providers with a CX lead",
        "metric_baseline": "0",
        "metric_target": "35",
    }
    html = client_for(admin_user).post(reverse("challenge_cards:card_issue"), data).content.decode()
    assert "High-impact service providers with a CX lead: 0 → 35" in html
    assert "—" not in html.split("High-impact service providers with a CX lead:", 1)[1].split("</p>", 1)[0]
    assert not ChallengeCard.objects.exists()
