"""Tables of cards written in Python (challenge_cards.rows, challenge_cards.board), as template tags."""

from __future__ import annotations

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import SafeString

from challenge_cards import board, rows

register = template.Library()


@register.simple_tag
def card_rows(cards, show_agency: bool = False, show_meeting: bool = False) -> SafeString:
    """The <tr>s of _card_table.html."""
    return rows.card_rows_html(cards, show_agency=bool(show_agency), show_meeting=bool(show_meeting))


@register.simple_tag(takes_context=True)
def board_rows(context, pairs) -> SafeString:
    """The review board's <tr>s for (card, form) pairs; the page's CSRF input, and `saved` and `stale_error`
    (a row redrawn after a post), from the context."""
    return board.rows_html(
        pairs,
        csrf_input=CsrfTokenNode().render(context),
        saved=context.get("saved") or "",
        stale_error=context.get("stale_error"),
    )


@register.simple_tag
def due_rows(items) -> SafeString:
    """The <tr>s of the home page's table of what is due before the next meeting."""
    return rows.due_rows_html(items)


@register.simple_tag
def overdue_card_items(cards) -> SafeString:
    """The <li>s of the home page's overdue cards (an agency's own: OMB's home is another page)."""
    return rows.overdue_cards_html(cards)


@register.simple_tag
def overdue_action_items(actions) -> SafeString:
    """The <li>s of the home page's overdue follow-up actions."""
    return rows.overdue_actions_html(actions)


@register.simple_tag
def certification_items(updates) -> SafeString:
    """The <li>s of the home page's drafts awaiting the deputy's certification."""
    return rows.certification_items_html(updates)
