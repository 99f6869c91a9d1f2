"""Table rows of cards written in Python: a page of cards through the template engine cost a page's time.

Each function writes what its template wrote, byte for byte (the tables' headers and captions stay in the
templates); every value from the data is escaped here.
"""

from __future__ import annotations

import datetime
import functools
import html
from collections.abc import Iterable

from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from core.links import url_of

from .models import ChallengeCard, Disposition
from .selectors.due import ACTION
from .templatetags.cc_tags import rating_tag, status_tag

status_html = functools.cache(status_tag)  # a handful of values each: made once
rating_html = functools.cache(rating_tag)


def escape(value: object) -> str:
    """django.utils.html.escape's text, without its wrapper for lazy strings (a page escapes hundreds of values;
    the wrapper cost more than the escaping)."""
    return html.escape(str(value))


def shown_date(value, format_string: str) -> str:
    """{{ value|date:format_string }}: an aware datetime in the current time zone first, as templates do; a
    day's text kept per format and language (a page shows the same few days many times)."""
    if isinstance(value, datetime.datetime):
        return date_filter(timezone.localtime(value) if timezone.is_aware(value) else value, format_string)
    if isinstance(value, datetime.date):
        return _day_text(value, format_string, translation.get_language())
    return date_filter(value, format_string)


@functools.lru_cache(maxsize=4096)
def _day_text(day: datetime.date, format_string: str, language: str | None) -> str:
    """date_filter of a day in a language (the arguments are the cache's key: nothing else changes it)."""
    return date_filter(day, format_string)


def card_rows_html(
    cards: Iterable[ChallengeCard], *, show_agency: bool = False, show_meeting: bool = False
) -> SafeString:
    """The rows of _card_table.html: the card (with its overdue, not-updated and disposition notes), the agency
    and meeting if asked (read with the cards: select_related), the due date, status and both ratings."""
    card_url, meeting_url = url_of("challenge_cards:card_detail"), url_of("challenge_cards:meeting_detail")
    meetings: dict[int, str] = {}
    out = []
    for card in cards:
        notes = ""
        if getattr(card, "is_overdue", False):
            notes += '<br><span class="cc-flag">Overdue</span>'
        notes += "\n        "
        if getattr(card, "is_stale", False):
            notes += '<br><span class="cc-flag cc-flag--stale">Not updated since the last meeting</span>'
        notes += "\n        "
        if card.disposition != Disposition.OPEN:
            notes += f'<br><span class="font-body-2xs">{escape(card.get_disposition_display())}</span>'
        agency = f'<td data-label="Agency">{escape(card.agency.abbreviation)}</td>' if show_agency else ""
        meeting = ""
        if show_meeting:
            if card.meeting_id not in meetings:
                meetings[card.meeting_id] = (
                    f'<td data-label="Meeting"><a class="usa-link" href="{meeting_url[0]}{card.meeting_id}'
                    f'{meeting_url[1]}">{shown_date(card.meeting.starts_at_eastern, "M j, Y")}</a></td>'
                )
            meeting = meetings[card.meeting_id]
        out.append(
            "\n    <tr>\n"
            f'      <th scope="row" data-label="Card"><a class="usa-link" href="{card_url[0]}{card.pk}{card_url[1]}">'
            f"{escape(card.title)}</a>\n        {notes}\n      </th>\n"
            f"      {agency}\n      {meeting}\n"
            f'      <td data-label="Due">{shown_date(card.due_date, "M j, Y")}</td>\n'
            f'      <td data-label="Status">{status_html(card.status)}</td>\n'
            f'      <td data-label="Ratings">{rating_html(card.agency_rating, "Agency:")} '
            f"{rating_html(card.omb_rating, 'OMB:')}</td>\n    </tr>\n  "
        )
    return mark_safe("".join(out))  # every value from the data escaped above; the rest is fixed markup


def _days_left(days: int) -> str:
    return "Due today" if days == 0 else "1 day" if days == 1 else f"{days} days"


def due_rows_html(items: Iterable) -> SafeString:
    """The rows of the home page's "Due before the next meeting" table (selectors.as_items' DueItems)."""
    out = []
    for item in items:
        is_action = item.kind == ACTION
        url = item.url  # DueItem's own rule (a card's page; an action's anchor on it)
        out.append(
            f'\n      <tr><td data-label="Due">{escape(shown_date(item.due_date, "M j, Y"))}</td>\n'
            f'        <td data-label="Days left" data-testid="days-left">{_days_left(item.days_left)}</td>\n'
            f'        <th scope="row" data-label="What">{"Follow-up action: " if is_action else "Card: "}'
            f'<a class="usa-link" href="{escape(url)}">{escape(item.title)}</a></th>\n'
            f'        <td data-label="Card">'
            f"{escape(item.card.title if is_action else item.card.get_status_display())}</td></tr>\n    "
        )
    return mark_safe("".join(out))  # every value escaped above


def overdue_cards_html(cards: Iterable[ChallengeCard]) -> SafeString:
    """The <li>s of the home page's overdue cards."""
    before, after = (escape(part) for part in url_of("challenge_cards:card_detail"))
    return mark_safe(  # every value escaped here
        "".join(
            f'<li><a class="usa-link" href="{before}{card.pk}{after}">{escape(card.title)}</a>'
            + f" — was due {escape(shown_date(card.due_date, 'M j, Y'))}</li>"
            for card in cards
        )
    )


def overdue_actions_html(actions: Iterable) -> SafeString:
    """The <li>s of the home page's overdue follow-up actions."""
    before, after = (escape(part) for part in url_of("challenge_cards:action_detail"))
    return mark_safe(  # every value escaped here
        "".join(
            f'<li><a class="usa-link" href="{before}{action.pk}{after}">{escape(action.description)}</a>'
            f" — {escape(action.owner_display)}, was due {escape(shown_date(action.due_date, 'M j, Y'))}"
            f" (card: {escape(action.card.title)})</li>"
            for action in actions
        )
    )


def certification_items_html(updates: Iterable) -> SafeString:
    """The <li>s of the home page's drafts awaiting the deputy's certification: the card, who wrote the draft
    (their full name, else their username; "an unknown author" for a draft whose author is gone, where the
    template's loop failed) and the day."""
    out = []
    for update in updates:
        author = update.author
        by = (author.get_full_name() or author.username) if author is not None else "an unknown author"
        out.append(
            f'<li><a class="usa-link" href="{escape(update.card.get_absolute_url())}#pending-heading">'
            f"{escape(update.card.title)}</a> — update by {escape(by)}, "
            f"{escape(shown_date(update.created_at, 'M j, Y'))}</li>"
        )
    return mark_safe("".join(out))  # every value escaped here


def scorecard_rows_html(rows: Iterable) -> SafeString:
    """The scorecard's <tr>s (challenge_cards.scorecard.Row: an agency and its cells, one per priority), two
    rating tags a cell: through the template engine, about a third of the page's CPU."""
    out = []
    for row in rows:
        cells = []
        for cell in row.cells:
            if cell.card_count:
                count, plural = cell.card_count, "" if cell.card_count == 1 else "s"
                content = (
                    f'\n        <div>{rating_html(cell.agency_rating, "Agency:")} <span class="font-body-3xs">'
                    f"{escape(cell.agency_movement_label)}</span></div>\n"
                    f'        <div class="margin-top-05">{rating_html(cell.omb_rating, "OMB:")} '
                    f'<span class="font-body-3xs">{escape(cell.omb_movement_label)}</span></div>\n'
                    f'        <div class="font-body-3xs" data-testid="cell-count">{count} card{plural}'
                    f", {cell.open_count} open</div>\n      "
                )
            else:
                content = '<span class="font-body-3xs">No cards</span>'
            cells.append(f"\n      <td>{content}</td>\n      ")
        out.append(
            f'\n    <tr>\n      <th scope="row">{escape(row.agency.name)} ({escape(row.agency.abbreviation)})</th>\n'
            f"      {''.join(cells)}\n    </tr>\n  "
        )
    return mark_safe("".join(out))  # every text from the data escaped above (the counts are ints); the rest is fixed
