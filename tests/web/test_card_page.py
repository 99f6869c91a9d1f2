"""The card page: posting updates, stale writes, permissions (Django test client)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from challenge_cards import services
from challenge_cards.models import CardStatus, CardUpdate, Certification
from tests import factories


def post_update(client, card, **data):
    payload = {"version": card.version, "status": card.status, "agency_rating": "", "note": ""}
    payload.update(data)
    return client.post(card.get_absolute_url(), payload)


def test_deputy_posts_an_update(client_for, deputy, card):
    response = post_update(
        client_for(deputy), card, status=CardStatus.IN_PROGRESS, agency_rating="green", note="On it."
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.status, card.agency_rating, card.version) == (CardStatus.IN_PROGRESS, "green", 2)


def test_at_risk_without_a_note_shows_the_error_next_to_the_field(client_for, deputy, card):
    response = post_update(client_for(deputy), card, status=CardStatus.AT_RISK)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_note-error"' in html
    assert 'aria-describedby="id_note-hint id_note-error"' in html
    assert "usa-alert--error" in html
    card.refresh_from_db()
    assert card.status == CardStatus.NOT_STARTED


def test_stale_update_is_refused_and_keeps_what_was_typed(client_for, deputy, delegate, card):
    loaded_version = card.version
    services.card_update(actor=deputy, card=card, expected_version=loaded_version, status=CardStatus.IN_PROGRESS)
    response = post_update(
        client_for(delegate),
        card,
        version=loaded_version,
        status=CardStatus.NOT_STARTED,
        loaded_status=CardStatus.NOT_STARTED,
        agency_rating="yellow",
        loaded_agency_rating="",
        note="My typed note.",
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else updated this card" in html
    assert "My typed note." in html
    form = response.context["update_form"]
    assert form.initial["version"] == 2
    assert form.initial["status"] == CardStatus.IN_PROGRESS  # the other person's change stands
    assert form.initial["agency_rating"] == "yellow"  # what this person changed is kept
    assert not CardUpdate.objects.filter(note="My typed note.").exists()


def test_delegate_update_is_on_behalf_of_the_deputy(client_for, deputy, delegate, card):
    post_update(client_for(delegate), card, status=CardStatus.IN_PROGRESS, note="Started.")
    update = CardUpdate.objects.get(note="Started.")
    assert (update.author, update.on_behalf_of) == (delegate, deputy)
    response = client_for(delegate).get(card.get_absolute_url())
    assert f"on behalf of {deputy.get_full_name()}" in response.content.decode()


def test_with_certification_a_delegate_update_waits_for_the_deputy(client, deputy, delegate, card, admin_user):
    card.agency.certification_required = True
    card.agency.save()
    client.force_login(delegate)
    post_update(client, card, status=CardStatus.IN_PROGRESS, note="Draft note.")
    update = CardUpdate.objects.get(note="Draft note.")
    assert update.certification == Certification.PENDING
    client.force_login(admin_user)
    assert "Draft note." not in client.get(card.get_absolute_url()).content.decode()
    client.force_login(delegate)
    assert client.post(reverse("challenge_cards:update_certify", args=[update.pk])).status_code == 403
    client.force_login(deputy)
    home = client.get(reverse("challenge_cards:home")).content.decode()
    assert "Waiting for your certification" in home and card.title in home
    assert 'name="version" value="1"' in client.get(card.get_absolute_url()).content.decode()
    certify = client.post(reverse("challenge_cards:update_certify", args=[update.pk]), {"version": card.version})
    assert certify.status_code == 302
    assert "Waiting for your certification" not in client.get(reverse("challenge_cards:home")).content.decode()
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS
    client.force_login(admin_user)
    assert "Draft note." in client.get(card.get_absolute_url()).content.decode()


def test_certifying_from_a_stale_page_is_refused_and_shows_the_card_as_it_is(client, deputy, delegate, card):
    card.agency.certification_required = True
    card.agency.save()
    draft = services.card_update(actor=delegate, card=card, expected_version=1, note="Draft note.")
    seen = card.version
    services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS, note="Mine.")
    client.force_login(deputy)
    response = client.post(reverse("challenge_cards:update_certify", args=[draft.pk]), {"version": seen})
    assert response.status_code == 409
    assert "check the draft against it and certify again" in response.content.decode()
    draft.refresh_from_db()
    assert draft.certification == Certification.PENDING
    # Without the version the page sends, the same: nothing is certified blind.
    assert client.post(reverse("challenge_cards:update_certify", args=[draft.pk])).status_code == 409
    card.refresh_from_db()
    assert card.version == 2


def test_other_agencys_deputy_gets_404_on_every_card_url(client_for, other_deputy, card):
    action = factories.FollowUpActionFactory(card=card)
    client = client_for(other_deputy)
    # Each URL with the method it answers: the 404 must come from scoping, not from a 405.
    pages = [card.get_absolute_url(), reverse("challenge_cards:action_detail", args=[action.pk])]
    forms = [
        card.get_absolute_url(),
        reverse("challenge_cards:action_add", args=[card.pk]),
        reverse("challenge_cards:evidence_add", args=[card.pk]),
        reverse("challenge_cards:action_change", args=[action.pk, "complete"]),
    ]
    for url in pages:
        assert client.get(url).status_code == 404, url
    for url in forms:
        assert client.post(url, {"version": 1}).status_code == 404, url
    card.refresh_from_db()
    assert card.version == 1
    assert not CardUpdate.objects.filter(card=card).exists()


def test_viewer_sees_no_edit_controls_and_cannot_post(client_for, viewer, card):
    action = factories.FollowUpActionFactory(card=card)
    client = client_for(viewer)
    html = client.get(card.get_absolute_url()).content.decode()
    for control in ("Post update", "Mark done", "Add action", "Add evidence"):
        assert control not in html
    assert post_update(client, card, status=CardStatus.IN_PROGRESS).status_code == 403
    posts = [
        (reverse("challenge_cards:action_add", args=[card.pk]), {"description": "x", "owned_by": "agency"}),
        (reverse("challenge_cards:action_change", args=[action.pk, "complete"]), {"version": action.version}),
        (reverse("challenge_cards:evidence_add", args=[card.pk]), {"title": "x", "url": "https://example.gov"}),
        (reverse("challenge_cards:card_review", args=[card.pk]), {}),
        (reverse("challenge_cards:card_issue"), {}),
        (reverse("challenge_cards:meeting_schedule_next"), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    card.refresh_from_db()
    assert card.version == 1


def test_omb_viewer_cannot_review_or_issue(client_for, omb_viewer_user, card):
    client = client_for(omb_viewer_user)
    assert client.get(reverse("challenge_cards:review_board")).status_code == 200
    assert "Save review" not in client.get(reverse("challenge_cards:review_board")).content.decode()
    assert client.post(reverse("challenge_cards:card_review", args=[card.pk]), {}).status_code == 403
    assert client.get(reverse("challenge_cards:card_issue")).status_code == 403


def test_agency_users_cannot_open_omb_pages(client_for, deputy):
    client = client_for(deputy)
    for name in ("review_board", "agency_list", "card_issue"):
        assert client.get(reverse(f"challenge_cards:{name}")).status_code == 403, name


@pytest.mark.parametrize("op", ["complete", "drop"])
def test_deputy_completes_or_drops_an_action(client_for, deputy, card, op):
    action = factories.FollowUpActionFactory(card=card)
    data = (
        {"version": action.version}
        if op == "complete"
        else {"drop-version": action.version, "drop-reason": "No longer needed."}
    )
    response = client_for(deputy).post(reverse("challenge_cards:action_change", args=[action.pk, op]), data)
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ("done" if op == "complete" else "dropped")


def test_action_reassign_and_due_date(client_for, deputy, delegate, card):
    action = factories.FollowUpActionFactory(card=card)
    client = client_for(deputy)
    url = reverse("challenge_cards:action_change", args=[action.pk, "reassign"])
    data = {
        "reassign-version": 1,
        "reassign-owned_by": "agency",
        "reassign-owner": delegate.pk,
        "reassign-owner_name": "",
    }
    assert client.post(url, data).status_code == 302
    url = reverse("challenge_cards:action_change", args=[action.pk, "due-date"])
    assert client.post(url, {"due-version": 2, "due-due_date": "2031-03-01"}).status_code == 302
    action.refresh_from_db()
    assert (action.owner, str(action.due_date), action.version) == (delegate, "2031-03-01", 3)


def test_stale_action_change_is_refused(client_for, deputy, card):
    action = factories.FollowUpActionFactory(card=card)
    url = reverse("challenge_cards:action_change", args=[action.pk, "due-date"])
    response = client_for(deputy).post(url, {"due-version": 7, "due-due_date": "2031-03-01"})
    assert response.status_code == 409
    action.refresh_from_db()
    assert action.due_date != "2031-03-01"


def test_add_action_with_owner_side(client_for, deputy, card):
    url = reverse("challenge_cards:action_add", args=[card.pk])
    response = client_for(deputy).post(url, {"description": "OMB to approve the exception", "owned_by": "omb"})
    assert response.status_code == 302
    assert card.actions.get().owned_by == "omb"
    html = client_for(deputy).get(card.get_absolute_url()).content.decode()
    assert html.index("Owned by OMB") < html.index("OMB to approve the exception")


def test_agency_users_see_omb_owned_actions_without_controls_and_cannot_change_them(
    client_for, deputy, card, admin_user
):
    mine = factories.FollowUpActionFactory(card=card, description="Agency side")
    omb = factories.FollowUpActionFactory(card=card, description="OMB side", owned_by="omb", owner=admin_user)
    client = client_for(deputy)
    html = client.get(card.get_absolute_url()).content.decode()
    assert "OMB side" in html and "Agency side" in html
    assert f"Mark done: {mine.description}" in html
    assert f"Mark done: {omb.description}" not in html
    assert "Drop, reassign or change the due date: OMB side" not in html
    detail = client.get(reverse("challenge_cards:action_detail", args=[omb.pk]))
    assert detail.status_code == 200 and "Reassign" not in detail.content.decode()
    posts = {
        "complete": {"version": 1},
        "drop": {"drop-version": 1, "drop-reason": "Not needed."},
        "reassign": {"reassign-version": 1, "reassign-owned_by": "agency", "reassign-owner_name": "CHCO"},
        "due-date": {"due-version": 1, "due-due_date": "2031-03-01"},
    }
    for op, data in posts.items():
        assert client.post(reverse("challenge_cards:action_change", args=[omb.pk, op]), data).status_code == 403, op
    omb.refresh_from_db()
    assert (omb.status, omb.owned_by, omb.version) == ("open", "omb", 1)
    html = client_for(admin_user).get(card.get_absolute_url()).content.decode()
    assert f"Mark done: {omb.description}" in html
