"""Who may do what with initiatives, comments and meeting records: asked by pages, API and services."""

from __future__ import annotations

from agencies.roles import roles_of
from challenge_cards import permissions as card_permissions


def can_manage_initiatives(user) -> bool:
    """OMB admins make initiatives, add and remove cards and share the agency table."""
    return roles_of(user).omb_admin


def sees_every_agency(user, initiative) -> bool:
    """OMB sees every agency's card in an initiative; agencies do when OMB shared the agency table."""
    return roles_of(user).is_omb or initiative.agency_table_shared


def can_comment(user, card) -> bool:
    """The card's agency (deputy, delegates) and OMB admins talk on a card; viewers read."""
    roles = roles_of(user)
    return roles.omb_admin or roles.may_edit_agency(card.agency_id)


def can_see_card(user, card) -> bool:
    """Mentions and their notifications reach only people who may see the card (the card page's rule)."""
    return bool(getattr(user, "is_active", False)) and card_permissions.can_view_card(user, card)


def can_keep_record(user) -> bool:
    """OMB admins keep the meeting's record: attendance, minutes, corrections."""
    return roles_of(user).omb_admin
