"""The council's panels on challenge_cards' pages: the conversation on the card page, initiatives in the
scorecard and the briefing packet. challenge_cards' templates load these; its Python never imports council."""

from __future__ import annotations

from django import template
from django.utils import timezone

from agencies.roles import UserRoles

from .. import forms, permissions, selectors, services
from ..models import Comment, InitiativeCard

register = template.Library()


class _OmbReader:
    """Reads as OMB: the briefing packet is OMB's document (built by a worker, with no request)."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self) -> None:
        self._challenge_cards_roles = UserRoles(omb_viewer=True)


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("council/_conversation.html", takes_context=True)
def card_conversation(context, card):
    """The comment form on the card page (the comments themselves are in its timeline: with_comments)."""
    return {
        "card": card,
        "form": forms.CommentForm() if permissions.can_comment(_user(context), card) else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def with_comments(context, timeline, card) -> list:
    """The card's timeline (newest first) with its comments, and its predecessors', in their place.

    Each comment is marked ``is_comment`` and ``may_edit`` (its author, within 15 minutes).
    """
    user = _user(context)
    updates = list(timeline)
    card_ids = {card.pk} | {update.card_id for update in updates}
    comments = list(
        Comment.objects.visible_to(user)
        .filter(card_id__in=card_ids)
        .select_related("author")
        .prefetch_related("revisions", "mentions")
    )
    now = timezone.now()
    for comment in comments:
        comment.is_comment = True
        comment.may_edit = services.can_edit(user, comment, now)
    return sorted([*updates, *comments], key=lambda entry: (entry.created_at, entry.pk), reverse=True)


@register.inclusion_tag("council/_card_initiative.html")
def card_initiative(card):
    """The initiative a card counts in, as a term of the card page's description list (one query)."""
    link = InitiativeCard.objects.filter(card=card).select_related("initiative").first()
    return {"initiative": link.initiative if link else None}


@register.inclusion_tag("council/_packet_initiatives.html")
def packet_initiatives(packet=None, link_base: str = ""):
    """One page per initiative in the briefing packet (OMB's document: every agency's card)."""
    return {"rollups": selectors.initiative_rollups(_OmbReader()), "link_base": link_base}
