"""Who may do what to which object: the one place every page, API view and service asks."""

from __future__ import annotations

from agencies.roles import roles_of

from .models import ActionOwnerSide, CardUpdate, Certification, ChallengeCard, FollowUpAction


def can_view_card(user, card: ChallengeCard) -> bool:
    roles = roles_of(user)
    return roles.is_omb or card.agency_id in roles.agency_ids


def can_update_card(user, card: ChallengeCard) -> bool:
    """Deputy secretaries and delegates post updates on their agency's open cards."""
    return card.is_open and roles_of(user).may_edit_agency(card.agency_id)


def can_review_card(user, card: ChallengeCard | None = None) -> bool:
    """Only OMB admins set OMB's rating and the disposition."""
    return roles_of(user).omb_admin


def can_issue_cards(user) -> bool:
    return roles_of(user).omb_admin


def can_manage_meetings(user) -> bool:
    return roles_of(user).omb_admin


def can_see_omb_pages(user) -> bool:
    """The review board, agencies, briefing packets: OMB admins and viewers."""
    return roles_of(user).is_omb


def can_build_packets(user) -> bool:
    """Building (and e-mailing) a meeting's briefing packet PDF: OMB admins."""
    return roles_of(user).omb_admin


def can_edit_actions_of(user, card: ChallengeCard, owned_by: str) -> bool:
    """Who completes, drops, reopens, reassigns or re-dates a card's actions owned by one side.

    The agency works its own open card's agency-owned actions; OMB-owned actions are OMB's to
    change (agency users still see them). OMB admins may work any action.
    """
    roles = roles_of(user)
    if roles.omb_admin:
        return True
    if owned_by == ActionOwnerSide.OMB:
        return False
    return card.is_open and roles.may_edit_agency(card.agency_id)


def can_edit_action(user, action: FollowUpAction) -> bool:
    return can_edit_actions_of(user, action.card, action.owned_by)


def can_add_action(user, card: ChallengeCard) -> bool:
    roles = roles_of(user)
    return card.is_open and (roles.omb_admin or roles.may_edit_agency(card.agency_id))


def can_certify(user, update: CardUpdate) -> bool:
    """The agency's own deputy secretary certifies a delegate's draft update.

    So does the deputy the draft names as acted for (on_behalf_of), while still the deputy of
    the card's agency or of its parent: a sub-agency without a deputy falls back to the parent's.
    """
    if update.certification != Certification.PENDING:
        return False
    deputy_of = roles_of(user).deputy_of
    card = update.card
    if card.agency_id in deputy_of:
        return True
    named = update.on_behalf_of_id is not None and update.on_behalf_of_id == user.pk
    return named and card.agency.parent_id in deputy_of


def is_read_only(user) -> bool:
    """Viewers (OMB or agency) read and change nothing."""
    roles = roles_of(user)
    return not roles.omb_admin and not (roles.deputy_of or roles.delegate_of)
