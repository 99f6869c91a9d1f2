"""Forms of the council's pages: they collect input; the services decide."""

from __future__ import annotations

from django import forms

from agencies.models import Agency
from challenge_cards.models import ChallengeCard, PmaPriority

from .models import AttendanceMode, Rollup


class InitiativeForm(forms.Form):
    title = forms.CharField(max_length=200, help_text='For example "Pooled hiring: 400 hires".')
    priority = forms.ModelChoiceField(queryset=PmaPriority.objects.order_by("number"), label="PMA priority")
    target_name = forms.CharField(
        max_length=200, label="What the target counts", help_text="For example: people hired through pooled hiring."
    )
    target_value = forms.DecimalField(max_digits=14, decimal_places=2, label="Government-wide target")
    target_unit = forms.CharField(max_length=40, required=False, label="Unit", help_text="For example: people.")
    baseline = forms.DecimalField(max_digits=14, decimal_places=2, initial=0, help_text="Where the count starts.")
    starts_on = forms.DateField(label="Start", widget=forms.DateInput(attrs={"type": "date"}))
    target_date = forms.DateField(label="Target date", widget=forms.DateInput(attrs={"type": "date"}))
    rollup = forms.ChoiceField(
        choices=Rollup.choices,
        widget=forms.RadioSelect,
        label="How the agencies' cards add up",
        help_text="Chosen once, when the initiative is made.",
    )


class AddCardsForm(forms.Form):
    cards = forms.ModelMultipleChoiceField(
        queryset=ChallengeCard.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Open cards not in an initiative",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["cards"]
        field.queryset = (  # type: ignore[attr-defined]
            ChallengeCard.objects.open()
            .filter(initiative_link__isnull=True)
            .select_related("agency")
            .order_by("title", "agency__name")
        )
        field.label_from_instance = lambda card: f"{card.title} ({card.agency.abbreviation}, card {card.pk})"  # type: ignore[attr-defined]


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Mention someone who can see this card with @ and their user name, e.g. @deputy.treas.",
    )


class CommentEditForm(CommentForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class AttendanceForm(forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.filter(parent__isnull=True).order_by("name"))
    name = forms.CharField(
        max_length=200,
        label="Who attended",
        required=False,
        help_text="Leave empty when the deputy secretary attended; always name a substitute.",
    )
    mode = forms.ChoiceField(choices=AttendanceMode.choices, widget=forms.RadioSelect, label="How", initial="in_person")
    substitute = forms.BooleanField(required=False, label="A substitute attended for the deputy secretary")


class MinutesForm(forms.Form):
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)


class CorrectionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, label="Corrected minutes")
    note = forms.CharField(
        max_length=2000, label="What the correction changes", widget=forms.Textarea(attrs={"rows": 2})
    )
