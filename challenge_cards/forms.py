"""Forms for the pages. They check input shape; the services decide the rules."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Agency, Membership

from .domain import (
    ALLOWED_TRANSITIONS,
    CLOSEOUT_DECISIONS,
    EVIDENCE_MAX_BYTES,
    EVIDENCE_TYPES,
    LONG_TEXT_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    NOTE_REQUIRED_FOR,
    REASON_REQUIRED_FOR,
    REVIEW_DECISIONS,
)
from .models import (
    EASTERN,
    MEETING_MAX_MINUTES,
    ActionOwnerSide,
    CardStatus,
    ChallengeCard,
    Horizon,
    Meeting,
    PmaPriority,
    PmaStrategy,
    Rating,
)

RATING_CHOICES = [("", "No rating")] + list(Rating.choices)
AGENCY_HINT = "Its abbreviation (for example, TREAS) or part of its name. Leave empty for all agencies."


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any):
        super().__init__(format="%Y-%m-%d", **kwargs)


# Ids in query strings are checked against this bound (a bigint) before they reach a query: past it SQLite overflows.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """An object id from a query string: a whole number from 1 to MAX_ID, else the form is invalid."""

    def __init__(self, **kwargs: Any):
        super().__init__(min_value=1, max_value=MAX_ID, required=False, **kwargs)


class ReviewBoardFilterForm(forms.Form):
    """The review board's filters, kept in the URL; the priority choices are given (read once). The agency is
    typed (querysets.agency_typed_q): a list of every agency grew with the council and cost most of the page."""

    agency = forms.CharField(label="Agency", required=False, max_length=200, help_text=AGENCY_HINT)
    # An id checked as an id (an id of no priority filters to nothing), offered as a list.
    priority = IdField(label="PMA priority", widget=forms.Select)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *CardStatus.choices])
    rating = forms.ChoiceField(label="Rating (either)", required=False, choices=[("", "Any rating"), *Rating.choices])
    red = forms.BooleanField(label="Red or at risk", required=False)
    disagree = forms.BooleanField(label="Ratings disagree", required=False)
    stale = forms.BooleanField(label="Not updated since the last meeting", required=False)
    overdue = forms.BooleanField(label="Overdue", required=False)

    def __init__(self, *args: Any, priorities: list[PmaPriority], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.Select, self.fields["priority"].widget).choices = [("", "All priorities")] + [
            (p.pk, str(p)) for p in priorities
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid value is ignored rather than refused: a URL typed by hand still works)."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}


class ReviewBulkForm(forms.Form):
    """One decision with one reason for the cards selected on the board."""

    cards = forms.TypedMultipleChoiceField(label="Cards", coerce=int)
    decision = forms.ChoiceField(
        label="Decision for the selected cards",
        choices=[(value, label) for value, label in REVIEW_DECISIONS if value in CLOSEOUT_DECISIONS],
    )
    due_date = forms.DateField(
        label="New due date (carry over)",
        required=False,
        widget=DateInput,
        help_text="Leave empty to keep each card's due date while it is still ahead.",
    )
    reason = forms.CharField(
        label="Reason or note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_LENGTH,
    )

    def __init__(self, *args: Any, card_ids: list[int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cards"]).choices = [(pk, pk) for pk in card_ids]

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.cleaned_data.get("decision") in REASON_REQUIRED_FOR and not self.cleaned_data.get("reason", "").strip():
            self.add_error("reason", "Give a reason for this disposition.")
        return self.cleaned_data


class CardIssueStartForm(forms.Form):
    meeting = IdField()


class VersionForm(forms.Form):
    """Carries the version the page was loaded at, so a stale submit is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CardUpdateForm(VersionForm):
    status = forms.ChoiceField(label="Status")
    agency_rating = forms.ChoiceField(
        label="Agency rating", choices=RATING_CHOICES, required=False, widget=forms.RadioSelect
    )
    metric_value = forms.DecimalField(label="Value now", required=False, max_digits=14, decimal_places=2)
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=NOTE_MAX_LENGTH,
        help_text="Required when the card is at risk or blocked: say why and what would help.",
    )
    # What the card said when the page was loaded: after a stale submit, only what the user changed is kept.
    loaded_status = forms.CharField(widget=forms.HiddenInput, required=False)
    loaded_agency_rating = forms.CharField(widget=forms.HiddenInput, required=False)
    loaded_metric_value = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, card: ChallengeCard, **kwargs: Any):
        current = {"status": card.status, "agency_rating": card.agency_rating, "metric_value": card.metric_value}
        initial = {"version": card.version, **current, **{f"loaded_{k}": v for k, v in current.items()}}
        initial.update(kwargs.pop("initial", None) or {})
        super().__init__(*args, **{**kwargs, "initial": initial})
        self.card = card
        allowed = [card.status, *sorted(ALLOWED_TRANSITIONS[card.status], key=CardStatus.values.index)]
        cast(forms.ChoiceField, self.fields["status"]).choices = [(value, CardStatus(value).label) for value in allowed]
        if card.has_metric:
            unit = f" ({card.metric_unit})" if card.metric_unit else ""
            self.fields["metric_value"].label = f"{card.metric_name}: value now{unit}"
        else:
            del self.fields["metric_value"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        status = data.get("status")
        if status in NOTE_REQUIRED_FOR and status != self.card.status and not (data.get("note") or "").strip():
            self.add_error("note", f"Say why the card is {CardStatus(status).label.lower()}.")
        return data

    @classmethod
    def after_stale_write(cls, *, card: ChallengeCard, typed: dict[str, Any]) -> CardUpdateForm:
        """A fresh form on the current card that keeps everything the user typed or changed."""
        initial: dict[str, Any] = {"note": typed.get("note", "")}
        for field in ("status", "agency_rating", "metric_value"):
            value = typed.get(field)
            if value is not None and value != typed.get(f"loaded_{field}", ""):
                initial[field] = value
        if initial.get("status") not in {card.status, *ALLOWED_TRANSITIONS[card.status]}:
            initial.pop("status", None)
        return cls(card=card, initial=initial)


def _agency_people(card: ChallengeCard):
    user_ids = Membership.objects.current().filter(agency_id=card.agency_id).values("user_id")
    return get_user_model().objects.filter(pk__in=user_ids).order_by("first_name", "last_name", "username")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class ActionAddForm(forms.Form):
    description = forms.CharField(label="Follow-up action", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    owned_by = forms.ChoiceField(
        label="Who owns it", choices=ActionOwnerSide.choices, initial=ActionOwnerSide.AGENCY, widget=forms.RadioSelect
    )
    owner = OwnerChoiceField(label="Owner (a person with an account)", queryset=None, required=False)
    owner_name = forms.CharField(
        label="Or owner's name or office",
        max_length=200,
        required=False,
        help_text="For example: Chief Human Capital Officer.",
    )
    due_date = forms.DateField(label="Due date", required=False, widget=DateInput)

    def __init__(self, *args: Any, card: ChallengeCard, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = _agency_people(card)


class ActionCompleteForm(VersionForm):
    note = forms.CharField(label="Note (optional)", required=False, max_length=NOTE_MAX_LENGTH)


class ActionDropForm(VersionForm):
    reason = forms.CharField(
        label="Why is this action dropped?", widget=forms.Textarea(attrs={"rows": 2}), max_length=NOTE_MAX_LENGTH
    )


class ActionReassignForm(VersionForm):
    owned_by = forms.ChoiceField(label="Who owns it", choices=ActionOwnerSide.choices, widget=forms.RadioSelect)
    owner = OwnerChoiceField(label="New owner (a person with an account)", queryset=None, required=False)
    owner_name = forms.CharField(label="Or owner's name or office", max_length=200, required=False)

    def __init__(self, *args: Any, card: ChallengeCard, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = _agency_people(card)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("owner") and not (data.get("owner_name") or "").strip():
            self.add_error("owner_name", "Choose a person or name the owner.")
        return data


class ActionDueDateForm(VersionForm):
    due_date = forms.DateField(
        label="New due date", required=False, widget=DateInput, help_text="Leave empty for no due date."
    )


class EvidenceForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    file = forms.FileField(
        label="File",
        required=False,
        help_text=f"{', '.join(sorted(set(EVIDENCE_TYPES))).upper()}; up to {EVIDENCE_MAX_BYTES // (1024 * 1024)} MB.",
    )
    url = forms.URLField(label="Or a link", required=False, max_length=500, assume_scheme="https")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("file")) == bool(data.get("url")) and not self.errors:
            self.add_error("file", "Attach a file or give a link, not both.")
        return data


class MeetingScheduleForm(forms.Form):
    date = forms.DateField(label="Date", widget=DateInput)
    time = forms.TimeField(label="Start time (Eastern)", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label="Length in minutes", min_value=1, max_value=MEETING_MAX_MINUTES, initial=90
    )
    location = forms.CharField(label="Location", max_length=200, required=False)
    video_url = forms.URLField(label="Video call link", required=False, assume_scheme="https")
    agenda_notes = forms.CharField(
        label="Agenda notes", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=LONG_TEXT_MAX_LENGTH
    )

    def starts_at(self) -> datetime.datetime:
        return datetime.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"], tzinfo=EASTERN)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date") and data.get("time") and self.starts_at() < timezone.now():
            self.add_error("date", "Choose a date and time in the future.")
        return data


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Meeting) -> str:
        return obj.title


class AgencyChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Agency) -> str:
        return f"{obj.name} ({obj.abbreviation})"


class CardIssueFields(forms.Form):
    """Card-issue input, declared once: the issue page, the admin's add form and its "issue to the
    selected agencies" action all build on it (who receives the card is each one's own); card_issue decides."""

    meeting = MeetingChoiceField(label="Meeting that issues the card", queryset=Meeting.objects.none())
    title = forms.CharField(label="Title", max_length=200, help_text="Short, for lists: “Run a pooled hiring action”.")
    ask = forms.CharField(
        label="The ask",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=LONG_TEXT_MAX_LENGTH,
        help_text="What the deputy secretary is asked to do.",
    )
    priority = forms.ModelChoiceField(label="PMA priority", queryset=PmaPriority.objects.all())
    strategy = forms.ModelChoiceField(
        label="PMA strategy", queryset=PmaStrategy.objects.select_related("priority"), required=False
    )
    horizon = forms.ChoiceField(
        label="Horizon", choices=Horizon.choices, initial=Horizon.MONTH, widget=forms.RadioSelect
    )
    due_date = forms.DateField(
        label="Due date", required=False, widget=DateInput, help_text="Leave empty for the next meeting's date."
    )
    metric_name = forms.CharField(
        label="Metric", max_length=200, required=False, help_text="For example: people hired through pooled hiring."
    )
    metric_unit = forms.CharField(
        label="Unit", max_length=40, required=False, help_text="For example: people, minutes, percent."
    )
    metric_baseline = forms.DecimalField(label="Baseline", required=False, max_digits=14, decimal_places=2)
    metric_target = forms.DecimalField(label="Target", required=False, max_digits=14, decimal_places=2)
    note = forms.CharField(label="Note for the history (optional)", required=False, max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["meeting"]).queryset = Meeting.objects.exclude(
            status=Meeting.Status.CANCELLED
        ).order_by("-starts_at")
        if not self.is_bound and self.initial.get("meeting") is None:
            upcoming = Meeting.objects.upcoming().first()
            if upcoming:
                self.initial["meeting"] = upcoming.pk


class CardIssueForm(CardIssueFields):
    """The issue page: the card, and the agencies (or all active ones) whose deputy secretaries receive it."""

    all_agencies = forms.BooleanField(label="Issue to all active agencies", required=False)
    agencies = AgencyChoiceField(
        label="Agencies", queryset=Agency.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    field_order = [*CardIssueFields.base_fields, "all_agencies", "agencies", "note"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.active_agencies = Agency.objects.active().order_by("name")
        cast(forms.ModelChoiceField, self.fields["agencies"]).queryset = self.active_agencies

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("all_agencies"):
            data["agencies"] = list(self.active_agencies)
        elif not data.get("agencies") and "agencies" not in self.errors:
            self.add_error("agencies", "Choose at least one agency, or issue to all.")
        return data


class ReviewForm(VersionForm):
    omb_rating = forms.ChoiceField(label="OMB rating", choices=RATING_CHOICES, required=False)
    decision = forms.ChoiceField(label="Disposition", choices=REVIEW_DECISIONS, initial="keep")
    due_date = forms.DateField(
        label="New due date (carry over)",
        required=False,
        widget=DateInput,
        help_text="Leave empty to keep the card's due date while it is still ahead; a past one needs a new date.",
    )
    reason = forms.CharField(
        label="Reason or note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_LENGTH,
        help_text="Required to carry over, drop or return a card; an optional note to continue one.",
    )

    def __init__(self, *args: Any, card: ChallengeCard, **kwargs: Any):
        kwargs.setdefault("initial", {"version": card.version, "omb_rating": card.omb_rating, "decision": "keep"})
        kwargs.setdefault("prefix", f"card-{card.pk}")
        super().__init__(*args, **kwargs)
        self.card = card

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        decision = data.get("decision")
        if decision in REASON_REQUIRED_FOR and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason for this disposition.")
        if decision == "keep" and data.get("omb_rating", "") == self.card.omb_rating:
            self.add_error("omb_rating", "Set OMB's rating or choose a disposition.")
        return data


class CloseOutForm(ReviewForm):
    """One card's decision on the close-out page: continue, accept, carry over or drop (no rating-only choice)."""

    def __init__(self, *args: Any, card: ChallengeCard, **kwargs: Any):
        kwargs.setdefault("initial", {"version": card.version, "decision": "continue"})
        kwargs.setdefault("prefix", f"close-{card.pk}")
        super().__init__(*args, card=card, **kwargs)
        del self.fields["omb_rating"]
        decision = cast(forms.ChoiceField, self.fields["decision"])
        decision.label = "Decision"
        decision.choices = [(value, label) for value, label in REVIEW_DECISIONS if value in CLOSEOUT_DECISIONS]
