"""Declarative serializers: the one place each council resource's fields are listed (schema and output)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from challenge_cards.models import ChallengeCard
from core.api.serializers import StrictSerializer

from ..models import Comment


class AgencyShareSerializer(serializers.Serializer):
    agency = serializers.CharField(source="agency.abbreviation", help_text="The agency's abbreviation.")
    agency_name = serializers.CharField(source="agency.name")
    cards = serializers.SerializerMethodField(help_text="The ids of the agency's cards in the initiative.")
    value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    target = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    share = serializers.DecimalField(
        max_digits=6, decimal_places=1, allow_null=True, help_text="Percent of the total (sum rule only)."
    )
    done = serializers.BooleanField()

    def get_cards(self, row) -> list[int]:
        return [card.pk for card in row.cards]


class MeetingTotalSerializer(serializers.Serializer):
    meeting = serializers.IntegerField(source="meeting.pk", allow_null=True, help_text="null: today.")
    name = serializers.CharField(source="label", help_text="The meeting's title, or Today.")
    date = serializers.DateField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    expected = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="What the pace expects that day."
    )


class InitiativeSerializer(serializers.Serializer):
    """An initiative with its rollup, read from selectors.InitiativeRollup."""

    id = serializers.IntegerField(source="initiative.pk")
    title = serializers.CharField(source="initiative.title")
    priority = serializers.IntegerField(source="initiative.priority.number", help_text="PMA priority number.")
    owner = serializers.SerializerMethodField(help_text="The owner at OMB.")
    target_name = serializers.CharField(source="initiative.target_name")
    target_value = serializers.DecimalField(source="initiative.target_value", max_digits=14, decimal_places=2)
    target_unit = serializers.CharField(source="initiative.target_unit")
    baseline = serializers.DecimalField(source="initiative.baseline", max_digits=14, decimal_places=2)
    starts_on = serializers.DateField(source="initiative.starts_on")
    target_date = serializers.DateField(source="initiative.target_date")
    rollup = serializers.CharField(source="initiative.rollup", help_text="sum, average or count_done.")
    agency_table_shared = serializers.BooleanField(source="initiative.agency_table_shared")
    total = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    percent_of_target = serializers.DecimalField(max_digits=8, decimal_places=0, allow_null=True)
    expected_now = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    pace = serializers.CharField(allow_null=True, help_text="on_pace, behind, or null.")
    agency_count = serializers.IntegerField(help_text="Agencies counted in the total.")
    agencies = AgencyShareSerializer(
        source="visible_rows", many=True, help_text="Your own agencies' cards unless OMB shared the table."
    )
    trend = MeetingTotalSerializer(source="history", many=True, help_text="The total at each meeting, then today.")

    def get_owner(self, rollup) -> str:
        owner = rollup.initiative.owner
        return (owner.get_full_name() or owner.get_username()) if owner else ""


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", read_only=True)
    author_name = serializers.CharField(source="author.get_full_name", read_only=True)
    mentions: Any = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "card", "author", "author_name", "body", "mentions", "created_at", "edited_at", "version"]
        read_only_fields = fields


class CommentInputSerializer(StrictSerializer):
    card = serializers.PrimaryKeyRelatedField(queryset=ChallengeCard.objects.all())
    body = serializers.CharField(max_length=5000, help_text="Mention people who may see the card as @username.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # none while the schema is generated
        user = getattr(request, "user", None)
        self.fields["card"].queryset = ChallengeCard.objects.visible_to(user)  # type: ignore[attr-defined]


class CommentEditSerializer(StrictSerializer):
    body = serializers.CharField(max_length=5000)


class AttendanceSerializer(serializers.Serializer):
    agency = serializers.CharField()
    agency_name = serializers.CharField()
    name = serializers.CharField()
    mode = serializers.CharField(help_text="in_person or video.")
    substitute = serializers.BooleanField(help_text="A named substitute attended for the deputy secretary.")


class DecisionSerializer(serializers.Serializer):
    card = serializers.IntegerField()
    agency = serializers.CharField()
    title = serializers.CharField()
    decision = serializers.CharField(help_text="continued, accepted, carried_over or dropped.")
    reason = serializers.CharField()


class RecordVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    correction_note = serializers.CharField()


class MeetingRecordSerializer(serializers.Serializer):
    """A meeting's record as the reader sees it (selectors.RecordView): decisions on the cards they may see."""

    id = serializers.IntegerField(source="record.pk")
    meeting = serializers.IntegerField(source="meeting.pk")
    meeting_title = serializers.CharField(source="meeting.title")
    status = serializers.CharField(source="record.status", help_text="draft (OMB only) or published.")
    version = serializers.IntegerField(source="record.version")
    published_at = serializers.DateTimeField(source="record.published_at", allow_null=True)
    attendance = AttendanceSerializer(source="content.attendance", many=True)
    decisions = DecisionSerializer(source="content.decisions", many=True)
    minutes = serializers.CharField(source="content.minutes")
    versions = RecordVersionSerializer(many=True)
