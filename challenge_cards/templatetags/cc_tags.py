"""Template helpers for the USWDS pages: form widgets, traffic-light tags, history lines."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms, template
from django.utils import timezone
from django.utils.html import format_html

from agencies.models import Role
from agencies.roles import roles_of
from challenge_cards.models import CardStatus, Disposition, Rating
from challenge_cards.querysets import action_is_overdue, card_is_overdue

register = template.Library()

_WIDGET_CLASSES = {
    forms.Textarea: "usa-textarea",
    forms.Select: "usa-select",
    forms.ClearableFileInput: "usa-file-input",
    forms.FileInput: "usa-file-input",
}
_ERROR_CLASSES = {"usa-textarea": "usa-input--error", "usa-select": "usa-input--error", "usa-input": "usa-input--error"}


@register.filter
def uswds_widget(field: forms.BoundField):
    """Render a widget with the USWDS class, hint and error ids in aria-describedby, aria-invalid."""
    widget = field.field.widget
    css = next((css for kind, css in _WIDGET_CLASSES.items() if isinstance(widget, kind)), "usa-input")
    classes = [css]
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    attrs: dict[str, str | bool] = {}
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
        classes.append(_ERROR_CLASSES.get(css, ""))
        attrs["aria-invalid"] = "true"
    if isinstance(widget, forms.NumberInput | forms.DateInput | forms.TimeInput):
        classes.append("usa-input--medium")
    attrs["class"] = " ".join(c for c in classes if c)
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def is_choice_list(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_multiple(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxSelectMultiple)


_RATING_CSS: dict[str, str] = {
    Rating.GREEN: "cc-rating--green",
    Rating.YELLOW: "cc-rating--yellow",
    Rating.RED: "cc-rating--red",
}
_STATUS_CSS: dict[str, str] = {
    CardStatus.NOT_STARTED: "cc-status--not-started",
    CardStatus.IN_PROGRESS: "cc-status--in-progress",
    CardStatus.AT_RISK: "cc-status--at-risk",
    CardStatus.BLOCKED: "cc-status--blocked",
    CardStatus.DONE: "cc-status--done",
}


@register.simple_tag
def rating_tag(value: str, who: str = ""):
    """A traffic-light tag that says its colour in words (colour is never the only signal)."""
    if not value:
        return format_html(
            '<span class="usa-tag cc-rating cc-rating--none">{}Not rated</span>', f"{who} " if who else ""
        )
    label = Rating(value).label
    return format_html(
        '<span class="usa-tag cc-rating {}">{}{}</span>', _RATING_CSS[value], f"{who} " if who else "", label
    )


@register.simple_tag
def status_tag(value: str):
    return format_html(
        '<span class="usa-tag cc-status {}">{}</span>', _STATUS_CSS.get(value, ""), CardStatus(value).label
    )


@register.simple_tag
def disposition_label(value: str) -> str:
    return Disposition(value).label


_FIELD_LABELS = {
    "status": "Status",
    "agency_rating": "Agency rating",
    "omb_rating": "OMB rating",
    "metric_value": "Value now",
    "disposition": "Disposition",
    "due_date": "Due date",
    "owner": "Owner",
    "owned_by": "Owned by",
    "carried_over_to": "Carried over to card",
    "carried_over_from": "Carried over from card",
}
_VALUE_LABELS = {
    **dict(CardStatus.choices),
    **dict(Rating.choices),
    **dict(Disposition.choices),
    "agency": "Agency",
    "omb": "OMB",
    "open": "Open",
    "dropped": "Dropped",
    "continue": "Continue (kept open)",
}


def _value(value) -> str:
    if value in (None, ""):
        return "none"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return f"{datetime.date.fromisoformat(value):%b} {datetime.date.fromisoformat(value).day}, {value[:4]}"
        except ValueError:
            return value
    if isinstance(value, str) and value in _VALUE_LABELS:
        return _VALUE_LABELS[value]
    return str(value)


@register.filter
def change_lines(changes: dict) -> list[str]:
    """'Status: Not started → In progress' for each change of a history entry."""
    lines = []
    for field, pair in (changes or {}).items():
        if field in ("action", "meeting") or not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        old, new = pair
        label = _FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
        lines.append(f"{label}: {_value(old)} → {_value(new)}" if old not in (None, "") else f"{label}: {_value(new)}")
    return lines


@register.filter
def days_until(value: datetime.date | datetime.datetime | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return (value - timezone.localdate()).days


@register.filter
def card_overdue(card, today: datetime.date) -> bool:
    """{% if card|card_overdue:today %}: querysets' one rule for an overdue card."""
    return card_is_overdue(card, today)


@register.filter
def action_overdue(action, today: datetime.date) -> bool:
    """{% if action|action_overdue:today %}: querysets' one rule for an overdue follow-up action."""
    return action_is_overdue(action, today)


@register.filter
def number(value) -> str:
    """A metric value without trailing zeros: 400, 12.5."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value).normalize():,f}"


@register.simple_tag(takes_context=True)
def header_identity(context) -> str:
    """Who is signed in and for which agency, for the header; from the roles the request has loaded already."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    roles = roles_of(user)
    name = user.get_full_name() or user.username
    parts = []
    if roles.omb_admin:
        parts.append("OMB admin")
    elif roles.omb_viewer:
        parts.append("OMB viewer")
    parts.extend(f"{Role(role).label}, {agency_name}" for role, agency_name in roles.membership_labels)
    return f"{name} — {'; '.join(parts)}" if parts else name


@register.simple_tag(takes_context=True)
def user_roles(context):
    """The signed-in user's roles (cached on the user), for showing only the links they may use."""
    request = context.get("request")
    return roles_of(getattr(request, "user", None))
