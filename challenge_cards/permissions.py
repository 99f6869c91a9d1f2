"""Who may do what to which object: the one place every page, API view and service asks."""

from __future__ import annotations

from agencies.roles import roles_of

from .models import CardUpdate, Certification, ChallengeCard, FollowUpAction


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


def can_edit_action(user, action: FollowUpAction) -> bool:
    """The agency works its own card's actions; OMB admins may work any (OMB-owned ones especially)."""
    roles = roles_of(user)
    if not action.card.is_open and not roles.omb_admin:
        return False
    return roles.omb_admin or roles.may_edit_agency(action.card.agency_id)


def can_add_action(user, card: ChallengeCard) -> bool:
    roles = roles_of(user)
    return card.is_open and (roles.omb_admin or roles.may_edit_agency(card.agency_id))


def can_certify(user, update: CardUpdate) -> bool:
    """Only the agency's own deputy secretary certifies a delegate's draft update."""
    return update.certification == Certification.PENDING and update.card.agency_id in roles_of(user).deputy_of


def is_read_only(user) -> bool:
    """Viewers (OMB or agency) read and change nothing."""
    roles = roles_of(user)
    return not roles.omb_admin and not (roles.deputy_of or roles.delegate_of)
