"""The review board's rows as plain HTML: each row's cells and its form (what ReviewForm shows, without a bound
form per row), written in Python: the board's sixty rows through the template engine cost most of its time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from django.template.defaultfilters import date as date_filter
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from core.links import url_of

from .domain import NOTE_MAX_LENGTH, REVIEW_DECISIONS
from .forms import RATING_CHOICES, ReviewForm
from .models import ChallengeCard, Disposition
from .rows import rating_html, shown_date, status_html


def _options(choices: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    """<option> elements for a choice list with one selected, kept per selected value.

    A typed value that is not a choice selects none: it is not kept, so what a post sends cannot grow the cache.
    """
    return _kept_options(choices, selected if any(value == selected for value, _label in choices) else None)


@cache
def _kept_options(choices: tuple[tuple[str, str], ...], selected: str | None) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((v, " selected" if v == selected else "", label) for v, label in choices),
    )


@dataclass(frozen=True)
class ReviewRowInput:
    """A review-board row's decision form as plain values: ReviewForm's names (prefix card-<pk>), ids, labels
    and, after an invalid post, its errors and what was typed, rendered by the row's template as plain HTML.

    Sixty bound forms rendered through Django's widgets cost most of the board's time; these cost a few
    attribute reads. The post still goes to ReviewForm, which alone checks the input.
    """

    prefix: str
    version: str
    omb_rating: str = ""
    decision: str = "keep"
    due_date: str = ""
    reason: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    non_field_errors: list[str] = field(default_factory=list)

    labels = {name: f.label for name, f in ReviewForm.base_fields.items()}
    hints = {name: f.help_text for name, f in ReviewForm.base_fields.items()}

    @classmethod
    def fresh(cls, card: ChallengeCard) -> ReviewRowInput:
        """What ReviewForm(card=card) shows before anything is typed."""
        return cls(prefix=f"card-{card.pk}", version=str(card.version), omb_rating=card.omb_rating)

    @classmethod
    def typed(cls, form: ReviewForm) -> ReviewRowInput:
        """A bound ReviewForm's values and errors (an invalid or stale post redrawn in its row)."""

        def value(name: str) -> str:
            raw = form[name].value()
            return "" if raw is None else str(raw)

        return cls(
            prefix=form.prefix or f"card-{form.card.pk}",
            version=value("version"),
            omb_rating=value("omb_rating"),
            decision=value("decision"),
            due_date=value("due_date"),
            reason=value("reason"),
            errors={name: [str(e) for e in errors] for name, errors in form.errors.items() if name != "__all__"},
            non_field_errors=[str(e) for e in form.non_field_errors()],
        )

    def _field(self, name: str, label_class: str, control: str, **extra: object) -> SafeString:
        """A field's error (if any), label, hint and control: ReviewForm's ids (id_<prefix>-<name>), USWDS
        classes, aria-invalid and aria-describedby naming the hint and the error, as uswds_widget writes them."""
        auto_id = f"id_{self.prefix}-{name}"
        errors = self.errors.get(name)
        hint = self.hints[name]
        described = " ".join(([f"{auto_id}-hint"] if hint else []) + ([f"{auto_id}-error"] if errors else []))
        error = '<span class="usa-error-message" id="{id}-error" role="alert">{label}: {text}</span>'
        return format_html(
            '{error}<label class="{label_class}" for="{id}">{label}</label>{hint}' + control,
            error=format_html(error, id=auto_id, label=self.labels[name], text=" ".join(errors)) if errors else "",
            label_class=label_class,
            label=self.labels[name],
            hint=format_html('<span class="usa-sr-only" id="{}-hint">{}</span>', auto_id, hint) if hint else "",
            id=auto_id,
            name=f"{self.prefix}-{name}",
            error_class=" usa-input--error" if errors else "",
            aria=format_html(
                "{}{}",
                mark_safe(' aria-invalid="true"') if errors else "",
                format_html(' aria-describedby="{}"', described) if described else "",
            ),
            **extra,
        )

    @property
    def fields_html(self) -> SafeString:
        """The form's controls, as ReviewForm's widgets (through uswds_widget) render them.

        A row as the board first shows it differs from another only by its prefix, version and OMB rating:
        its HTML is made once per rating (_untouched) and the prefix and version put in.
        """
        untouched = ReviewRowInput(prefix=_PREFIX, version=_VERSION, omb_rating=self.omb_rating)
        if self == replace(untouched, prefix=self.prefix, version=self.version) and self.version.isdigit():
            html = _untouched(self.omb_rating).replace(_PREFIX, self.prefix).replace(_VERSION, self.version)
            return mark_safe(html)  # escaped when made; the prefix (card-<id>) and version are digits
        return self._html()

    def _html(self) -> SafeString:
        return format_html(
            '<input type="hidden" name="{prefix}-version" value="{version}" id="id_{prefix}-version">'
            "{rating}{decision}{due_date}{reason}",
            prefix=self.prefix,
            version=self.version,
            rating=self._field(
                "omb_rating",
                "usa-sr-only",
                '<select name="{name}" class="usa-select{error_class}"{aria} id="{id}">{options}</select>',
                options=_options(_RATING_OPTIONS, self.omb_rating),
            ),
            decision=self._field(
                "decision",
                "usa-sr-only",
                '<select name="{name}" class="usa-select{error_class}"{aria} required id="{id}">{options}</select>',
                options=_options(_DECISION_OPTIONS, self.decision),
            ),
            due_date=self._field(
                "due_date",
                "font-body-3xs",
                '<input type="date" name="{name}" value="{value}" class="usa-input usa-input--medium{error_class}"'
                '{aria} id="{id}">',
                value=self.due_date,
            ),
            reason=self._field(
                "reason",
                "font-body-3xs",
                '<textarea name="{name}" cols="40" rows="2" class="usa-textarea{error_class}"{aria}'
                ' maxlength="{max_length}" id="{id}">\n{value}</textarea>',
                max_length=NOTE_MAX_LENGTH,
                value=self.reason,
            ),
        )


_PREFIX, _VERSION = "cc_row_prefix", "cc_row_version"


@cache
def _untouched(omb_rating: str) -> str:
    return ReviewRowInput(prefix=_PREFIX, version=_VERSION, omb_rating=omb_rating)._html()


_RATING_OPTIONS = tuple((str(value), str(label)) for value, label in RATING_CHOICES)
_DECISION_OPTIONS = tuple((str(value), str(label)) for value, label in REVIEW_DECISIONS)


# --- the rows ---------------------------------------------------------------------------------------------------

_FLAGS = (
    ("is_red_or_at_risk", '<span class="cc-flag">Red or at risk</span> '),
    ("is_overdue", '<span class="cc-flag">Overdue</span> '),
    ("is_stale", '<span class="cc-flag cc-flag--stale">Not updated</span> '),
    ("ratings_differ", '<span class="cc-flag">Ratings disagree</span>'),
)


def rows_html(
    rows: Iterable[tuple[Any, ReviewRowInput | None]],  # flagged cards (selectors.Flagged rows)
    *,
    csrf_input: str,
    saved: str = "",
    stale_error: str | None = None,
) -> SafeString:
    """The board's <tr>s for (card, form) pairs, a form None where the viewer may not review. The cards are the
    board's (selectors.review_board: flags and action counts annotated, the agency read with them); `csrf_input`
    the hidden input {% csrf_token %} writes, put in every row's form."""
    card_url, review_url = url_of("challenge_cards:card_detail"), url_of("challenge_cards:card_review")
    saved_html = (
        format_html('<p class="margin-0 text-bold" role="status" tabindex="-1" data-focus-after-swap>{}</p>', saved)
        if saved
        else ""
    )
    stale_html = format_html('<p class="usa-error-message" role="alert">{}</p>', stale_error) if stale_error else ""
    out = []
    for card, form in rows:
        pk, title, abbreviation = str(card.pk), escape(card.title), escape(card.agency.abbreviation)
        is_open = card.disposition == Disposition.OPEN
        select = (
            f'<input type="checkbox" name="cards" value="{pk}" form="bulk-form" id="select-{pk}" class="cc-select">'
            f'<input type="hidden" name="version-{pk}" value="{card.version}" form="bulk-form">'
            f'<label for="select-{pk}" class="usa-sr-only">Select {abbreviation}: {title}</label>'
            if form is not None and is_open
            else ""
        )
        actions = f"{card.open_actions} open action{'' if card.open_actions == 1 else 's'}"
        if card.overdue_actions:
            actions += f" ({card.overdue_actions} overdue)"
        updated = card.last_agency_update_at
        if form is not None and is_open:
            url = f"{review_url[0]}{pk}{review_url[1]}"
            errors = "".join(
                f'<p class="usa-error-message" role="alert">{escape(error)}</p>' for error in form.non_field_errors
            )
            decision = (
                f'\n    <form method="post" action="{url}" hx-post="{url}" hx-target="#card-{pk}" hx-swap="outerHTML"'
                f' aria-label="Review: {title} ({abbreviation})" novalidate class="cc-board-form">{csrf_input}\n'
                f"      {stale_html}\n      {errors}\n      {form.fields_html}\n"
                '      <button type="submit" class="usa-button usa-button--outline">Save review</button>\n'
                "    </form>\n    "
            )
        elif not is_open:
            reason = f": {escape(card.disposition_reason)}" if card.disposition_reason else ""
            decision = f'<p class="margin-0">{escape(card.get_disposition_display())}{reason}.</p>'
        else:
            decision = ""
        out.append(
            f'<tr id="card-{pk}" class="cc-board-row">\n'
            f'  <td data-label="Select">{select}</td>\n'
            f'  <td data-label="Agency" class="cc-nowrap">{abbreviation}</td>\n'
            f'  <th scope="row" data-label="Card" class="cc-board-title"><a class="usa-link"'
            f' href="{card_url[0]}{pk}{card_url[1]}" id="card-{pk}-title">{title}</a><br><span class="font-body-3xs">'
            f"Due {date_filter(card.due_date, 'M j, Y')} · {actions}</span></th>\n"
            f'  <td data-label="Status" class="cc-nowrap">{status_html(card.status)}</td>\n'
            f'  <td data-label="Ratings">{rating_html(card.agency_rating, "Agency:")}<br>'
            f"{rating_html(card.omb_rating, 'OMB:')}</td>\n"
            f'  <td data-label="Last update" class="cc-nowrap">'
            f"{shown_date(updated, 'M j') if updated else 'None yet'}</td>\n"
            f'  <td data-label="Flags">{"".join(html for name, html in _FLAGS if getattr(card, name))}</td>\n'
            f'  <td data-label="Decision" class="cc-board-decision">\n    {saved_html}\n    {decision}\n  </td>\n'
            "</tr>\n"
        )
    return mark_safe("".join(out))  # every value from the data escaped above; the rest is fixed markup
