"""What the API shows of meetings, cards, follow-up actions and card history, and what it accepts.

Output serializers are read-only; each write has its own strict input serializer (unknown
fields are a 400) whose validated data goes straight to a service function.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency
from agencies.roles import roles_of
from challenge_cards import services
from challenge_cards.models import (
    ActionOwnerSide,
    ActionStatus,
    CardStatus,
    CardUpdate,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Horizon,
    Meeting,
    PmaPriority,
    PmaStrategy,
    Rating,
)
from config.api_support import StrictSerializer, etag_for

User = get_user_model()

RATING_OR_NONE = [("", "Not rated"), *Rating.choices]
DECIMAL = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": False}


def _person(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username


@extend_schema_field(serializers.CharField(help_text="Send back as If-Match to change this object."))
class EtagField(serializers.Field):
    """The object's ETag in lists too, so a sync tool can send If-Match without another GET."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, obj) -> str:
        return etag_for(self.kind, obj)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {}},
        "description": '{"field": [old value, new value], ...}',
    }
)
class ChangesField(serializers.JSONField):
    pass


# --- meetings -------------------------------------------------------------------------------


class MeetingSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    video_url = serializers.CharField(read_only=True, help_text="A link to join by video, or empty.")
    etag = EtagField("meeting")

    class Meta:
        model = Meeting
        fields = [
            "id",
            "title",
            "starts_at",
            "duration_minutes",
            "location",
            "video_url",
            "status",
            "agenda_notes",
            "closed_at",
            "updated_at",
            "etag",
        ]
        read_only_fields = fields


class MeetingInputSerializer(StrictSerializer):
    starts_at = serializers.DateTimeField(help_text="With its time zone, e.g. 2026-12-08T10:00:00-05:00.")
    duration_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    location = serializers.CharField(max_length=200, allow_blank=True, required=False)
    video_url = serializers.URLField(max_length=200, allow_blank=True, required=False)
    agenda_notes = serializers.CharField(max_length=10000, allow_blank=True, required=False)

    def validate_starts_at(self, value):
        if timezone.is_naive(value):
            raise serializers.ValidationError("Give the time with its time zone.")
        first, last = services.MEETING_YEARS  # the service checks the same; refused here before any conversion
        if not first <= value.year <= last:
            raise serializers.ValidationError(services.MEETING_YEARS_MESSAGE)
        return value.astimezone(datetime.UTC)  # PostgreSQL refuses offsets past 15:59


# --- cards ----------------------------------------------------------------------------------


class ChallengeCardSerializer(serializers.ModelSerializer):
    agency_abbreviation = serializers.CharField(source="agency.abbreviation", read_only=True)
    priority_number = serializers.IntegerField(source="priority.number", read_only=True)
    agency_rating = serializers.ChoiceField(choices=RATING_OR_NONE, read_only=True)
    omb_rating = serializers.ChoiceField(choices=RATING_OR_NONE, read_only=True)
    is_overdue = serializers.SerializerMethodField()
    etag = EtagField("card")

    class Meta:
        model = ChallengeCard
        fields = [
            "id",
            "meeting",
            "agency",
            "agency_abbreviation",
            "issued_to",
            "issued_by",
            "issued_at",
            "issue_batch",
            "title",
            "ask",
            "priority",
            "priority_number",
            "strategy",
            "horizon",
            "due_date",
            "status",
            "agency_rating",
            "omb_rating",
            "metric_name",
            "metric_unit",
            "metric_baseline",
            "metric_target",
            "metric_value",
            "carried_over_from",
            "carry_count",
            "disposition",
            "disposition_reason",
            "version",
            "last_agency_update_at",
            "updated_at",
            "is_overdue",
            "etag",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_is_overdue(self, card: ChallengeCard) -> bool:
        return card.is_open and card.status != CardStatus.DONE and card.due_date < timezone.localdate()


class CardIssueSerializer(StrictSerializer):
    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all())
    agencies = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), many=True, allow_empty=False, help_text="One card is issued to each agency."
    )
    title = serializers.CharField(max_length=200)
    ask = serializers.CharField(max_length=10000)
    priority = serializers.PrimaryKeyRelatedField(queryset=PmaPriority.objects.all())
    strategy = serializers.PrimaryKeyRelatedField(queryset=PmaStrategy.objects.all(), allow_null=True, required=False)
    horizon = serializers.ChoiceField(choices=Horizon.choices, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)
    metric_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    metric_unit = serializers.CharField(max_length=40, allow_blank=True, required=False)
    metric_baseline = serializers.DecimalField(allow_null=True, required=False, **DECIMAL)
    metric_target = serializers.DecimalField(allow_null=True, required=False, **DECIMAL)
    metric_value = serializers.DecimalField(allow_null=True, required=False, **DECIMAL)
    note = serializers.CharField(max_length=5000, allow_blank=True, required=False)

    def validate_agencies(self, value):
        if len(value) > 200:
            raise serializers.ValidationError("Issue to at most 200 agencies at once.")
        return value


class CardIssueResultSerializer(serializers.Serializer):
    issue_batch = serializers.UUIDField()
    cards = ChallengeCardSerializer(many=True)


class CardUpdateSerializer(serializers.ModelSerializer):
    """One entry of a card's history."""

    changes = ChangesField(read_only=True)
    status_to = serializers.ChoiceField(
        choices=[("", "No status change"), *CardStatus.choices],
        read_only=True,
        help_text="The status this set, if any.",
    )
    author_name = serializers.SerializerMethodField()
    on_behalf_of_name = serializers.SerializerMethodField()

    class Meta:
        model = CardUpdate
        fields = [
            "id",
            "card",
            "kind",
            "author",
            "author_name",
            "on_behalf_of",
            "on_behalf_of_name",
            "created_at",
            "changes",
            "status_to",
            "note",
            "certification",
            "certified_by",
            "certified_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_name(self, update: CardUpdate) -> str | None:
        return _person(update.author)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_on_behalf_of_name(self, update: CardUpdate) -> str | None:
        return _person(update.on_behalf_of)


class CardUpdateInputSerializer(StrictSerializer):
    """An agency's update: the same fields as the update form on the card page."""

    status = serializers.ChoiceField(choices=CardStatus.choices, required=False)
    agency_rating = serializers.ChoiceField(choices=Rating.choices, required=False)
    metric_value = serializers.DecimalField(allow_null=True, required=False, **DECIMAL)
    note = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class CardWithUpdateSerializer(serializers.Serializer):
    update = CardUpdateSerializer()
    card = ChallengeCardSerializer()


class CardReviewInputSerializer(StrictSerializer):
    omb_rating = serializers.ChoiceField(choices=Rating.choices, required=False)
    disposition = serializers.ChoiceField(
        choices=[(Disposition.ACCEPTED, "Accepted"), (Disposition.DROPPED, "Dropped")], required=False
    )
    reason = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    note = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class CardCarryOverInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=5000)
    to_meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all(), allow_null=True, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)


class CardReturnInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=5000)


# --- follow-up actions ----------------------------------------------------------------------


class FollowUpActionSerializer(serializers.ModelSerializer):
    agency = serializers.IntegerField(source="card.agency_id", read_only=True)
    owner_display = serializers.CharField(read_only=True)
    is_overdue = serializers.SerializerMethodField()
    etag = EtagField("action")

    class Meta:
        model = FollowUpAction
        fields = [
            "id",
            "card",
            "agency",
            "description",
            "owner",
            "owner_name",
            "owner_display",
            "owned_by",
            "due_date",
            "status",
            "completed_at",
            "dropped_reason",
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "is_overdue",
            "etag",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_is_overdue(self, action: FollowUpAction) -> bool:
        return (
            action.status == ActionStatus.OPEN
            and action.due_date is not None
            and action.due_date < timezone.localdate()
        )


@extend_schema_field(serializers.IntegerField(help_text="The card's id."))
class VisibleCardField(serializers.PrimaryKeyRelatedField):
    """A card id the caller may see; anyone else's is 'does not exist', never a hint."""

    def get_queryset(self):
        return ChallengeCard.objects.visible_to(self.context["request"].user)


@extend_schema_field(serializers.IntegerField(allow_null=True, help_text="A user id: OMB staff or agency people."))
class OwnerField(serializers.PrimaryKeyRelatedField):
    """An owner the caller may name: OMB staff, or a current member of an agency the caller sees.

    Anyone else is 'does not exist' (no hint that the id is a user); whether the owner fits the
    action's side and card is the service's rule (services._validate_owner), a 400 on "owner".
    """

    def get_queryset(self):
        user = self.context["request"].user
        people = User.objects.filter(is_active=True)
        roles = roles_of(user)
        if roles.is_omb:
            return people
        member = Q(memberships__agency_id__in=roles.agency_ids, memberships__ended_on__isnull=True)
        return people.filter(Q(omb_role__isnull=False) | member).distinct()


class ActionCreateSerializer(StrictSerializer):
    card = VisibleCardField()
    description = serializers.CharField(max_length=500)
    owner = OwnerField(allow_null=True, required=False)
    owner_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    owned_by = serializers.ChoiceField(choices=ActionOwnerSide.choices, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)


class ActionChangeSerializer(StrictSerializer):
    """PATCH: a new due date, a new owner, or both."""

    due_date = serializers.DateField(allow_null=True, required=False)
    owner = OwnerField(allow_null=True, required=False)
    owner_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    owned_by = serializers.ChoiceField(choices=ActionOwnerSide.choices, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send a due_date, an owner or owner_name, or owned_by.")
        return attrs


class ActionNoteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class ActionDropSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=5000)
