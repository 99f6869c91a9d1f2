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


# The home page's lists, each one argument in and its markup out (the functions say what they write).
register.simple_tag(rows.due_rows_html, name="due_rows")
register.simple_tag(rows.overdue_cards_html, name="overdue_card_items")
register.simple_tag(rows.overdue_actions_html, name="overdue_action_items")
register.simple_tag(rows.certification_items_html, name="certification_items")
register.simple_tag(rows.scorecard_rows_html, name="scorecard_rows")
