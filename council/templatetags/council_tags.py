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
    """The conversation on a card: its comments (each with its earlier versions) and the comment form."""
    user = _user(context)
    comments = list(
        Comment.objects.visible_to(user)
        .filter(card=card)
        .select_related("author")
        .prefetch_related("revisions", "mentions")
    )
    now = timezone.now()
    for comment in comments:
        comment.may_edit = services.can_edit(user, comment, now)
    return {
        "card": card,
        "comments": comments,
        "form": forms.CommentForm() if permissions.can_comment(user, card) else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("council/_card_initiative.html")
def card_initiative(card):
    """The initiative a card counts in, as a term of the card page's description list (one query)."""
    link = InitiativeCard.objects.filter(card=card).select_related("initiative").first()
    return {"initiative": link.initiative if link else None}


@register.inclusion_tag("council/_scorecard_initiatives.html", takes_context=True)
def scorecard_initiatives(context):
    """The scorecard's initiative rows: the total at each meeting, then today, against the target."""
    rollups = selectors.initiative_rollups(_user(context))
    dates = sorted({(item.date, item.label) for rollup in rollups for item in rollup.history if item.meeting})
    columns = [label for _, label in dates]
    rows = []
    for rollup in rollups:
        by_label = {item.label: item.total for item in rollup.history}
        rows.append({"rollup": rollup, "totals": [by_label.get(label) for label in columns]})
    return {"rows": rows, "columns": columns}


@register.inclusion_tag("council/_packet_initiatives.html")
def packet_initiatives(packet=None, link_base: str = ""):
    """One page per initiative in the briefing packet (OMB's document: every agency's card)."""
    return {"rollups": selectors.initiative_rollups(_OmbReader()), "link_base": link_base}
