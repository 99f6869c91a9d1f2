import pytest
from django.urls import reverse

from tests import factories


@pytest.mark.parametrize(
    "name",
    ["home", "card_list", "meeting_list", "review_board", "agency_list", "card_issue"],
)
def test_omb_admin_pages_render(client_for, admin_user, card, name):
    factories.FollowUpActionFactory(card=card)
    response = client_for(admin_user).get(reverse(f"challenge_cards:{name}"))
    assert response.status_code == 200, response.content[:2000]


def test_deputy_pages_render(client_for, deputy, card):
    action = factories.FollowUpActionFactory(card=card)
    client = client_for(deputy)
    for url in [
        reverse("challenge_cards:home"),
        card.get_absolute_url(),
        reverse("challenge_cards:action_detail", args=[action.pk]),
        card.meeting.get_absolute_url(),
        reverse("agencies:profile"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:3000])
