"""What the API shows of meetings, cards, follow-up actions and card history, and what it accepts.

Output serializers are read-only; each write has its own strict input serializer (unknown
fields are a 400) whose validated data goes straight to a service function.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency
from agencies.roles import roles_of
from challenge_cards import services
from challenge_cards.domain import LONG_TEXT_MAX_LENGTH, NOTE_MAX_LENGTH
from challenge_cards.models import (
    MEETING_MAX_MINUTES,
    ActionOwnerSide,
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
from challenge_cards.querysets import is_action_overdue, is_card_overdue
from core.api.rows import Clock, RowField, RowSerializer
from core.api.serializers import StrictSerializer
from core.api.views import etag_for

User = get_user_model()

RATING_OR_NONE = [("", "Not rated"), *Rating.choices]


# The largest amount a card stores (14 digits, 2 of them decimal places), either way.
AMOUNT_LIMIT = decimal.Decimal("999999999999.99")


@extend_schema_field(
    {"type": "number", "format": "double", "minimum": -float(AMOUNT_LIMIT), "maximum": float(AMOUNT_LIMIT)}
)
class AmountField(serializers.DecimalField):
    """An amount as the cards store it, read as a JSON number and rounded to the cent (a binary
    float such as 0.1 + 0.2 is not refused for its 17th decimal); at most AMOUNT_LIMIT either way."""

    def __init__(self, **kwargs):
        kwargs.update(max_digits=14, decimal_places=2, coerce_to_string=False, rounding=decimal.ROUND_HALF_UP)
        super().__init__(**kwargs)

    def validate_precision(self, value):
        if abs(value) > AMOUNT_LIMIT:
            raise serializers.ValidationError(f"Give an amount between -{AMOUNT_LIMIT} and {AMOUNT_LIMIT}.")
        return value


def _amount_input() -> serializers.DecimalField:
    """An amount as the cards store it (14 digits, 2 decimal places), read as a number."""
    return AmountField(allow_null=True, required=False)


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


# Declared: years 2001-2099 as written, which no time zone offset carries outside MEETING_YEARS (2000-2100,
# the years the server takes in Washington time).
@extend_schema_field({"type": "string", "format": "date-time", "pattern": "^20(0[1-9]|[1-9][0-9])-"})
class MeetingTimeField(serializers.DateTimeField):
    pass


class MeetingInputSerializer(StrictSerializer):
    starts_at = MeetingTimeField(help_text="With its time zone, e.g. 2026-12-08T10:00:00-05:00.")
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MEETING_MAX_MINUTES, required=False)
    location = serializers.CharField(max_length=200, allow_blank=True, required=False)
    video_url = serializers.URLField(max_length=200, allow_blank=True, required=False)
    agenda_notes = serializers.CharField(max_length=LONG_TEXT_MAX_LENGTH, allow_blank=True, required=False)

    def validate_starts_at(self, value):
        if timezone.is_naive(value):
            raise serializers.ValidationError("Give the time with its time zone.")
        first, last = services.MEETING_YEARS  # the service checks the same; refused here before any conversion
        if not first <= value.year <= last:
            raise serializers.ValidationError(services.MEETING_YEARS_MESSAGE)
        return value.astimezone(datetime.UTC)  # PostgreSQL refuses offsets past 15:59


# --- follow-up actions and cards ------------------------------------------------------------------
#
# Each serializer's Meta.fields is the one list of the resource's fields: the schema, DRF's own
# field-by-field output and the row writer (core.api.rows) all read it. Values that are not a column
# are RowFields: a function of a few columns, the same for rows and instances.


def _etag(kind: str) -> Callable[[int, int], str]:
    """The ETag core.api.views.etag_for gives an object with a version, from its id and version."""

    def etag(pk: int, version: int) -> str:
        return f'W/"{kind}-{pk}-v{version}"'

    return etag


def _owner_display(owner_id, first_name, last_name, username, owner_name) -> str:
    """FollowUpAction.owner_display, from columns."""
    if owner_id is not None:
        return f"{first_name} {last_name}".strip() or username
    return owner_name or "Unassigned"


def _action_overdue(status: str, due_date: datetime.date | None, clock: Clock) -> bool:
    return is_action_overdue(status=status, due_date=due_date, today=clock.today)


def _card_overdue(disposition: str, status: str, due_date: datetime.date, clock: Clock) -> bool:
    return is_card_overdue(disposition=disposition, status=status, due_date=due_date, today=clock.today)


ETAG_HELP = "Send back as If-Match to change this object."


class FollowUpActionSerializer(RowSerializer):
    """One follow-up action, on its own or nested in its card."""

    agency = serializers.IntegerField(source="card.agency_id", read_only=True)
    owner_display = RowField(
        _owner_display,
        ("owner_id", "owner__first_name", "owner__last_name", "owner__username", "owner_name"),
        output=serializers.CharField(),
    )
    is_overdue = RowField(_action_overdue, ("status", "due_date"), clock=True, output=serializers.BooleanField())
    etag = RowField(_etag("action"), ("id", "version"), output=serializers.CharField(help_text=ETAG_HELP))

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


class ChallengeCardSerializer(RowSerializer):
    """One challenge card with its follow-up actions (by due date)."""

    agency_abbreviation = serializers.CharField(source="agency.abbreviation", read_only=True)
    priority_number = serializers.IntegerField(source="priority.number", read_only=True)
    agency_rating = serializers.ChoiceField(choices=RATING_OR_NONE, read_only=True)
    omb_rating = serializers.ChoiceField(choices=RATING_OR_NONE, read_only=True)
    is_overdue = RowField(
        _card_overdue, ("disposition", "status", "due_date"), clock=True, output=serializers.BooleanField()
    )
    etag = RowField(_etag("card"), ("id", "version"), output=serializers.CharField(help_text=ETAG_HELP))
    actions = FollowUpActionSerializer(many=True, read_only=True, help_text="Its follow-up actions, by due date.")

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
            "actions",
        ]
        read_only_fields = fields


class CardIssueSerializer(StrictSerializer):
    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all())
    agencies = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), many=True, allow_empty=False, help_text="One card is issued to each agency."
    )
    title = serializers.CharField(max_length=200)
    ask = serializers.CharField(max_length=LONG_TEXT_MAX_LENGTH)
    priority = serializers.PrimaryKeyRelatedField(queryset=PmaPriority.objects.all())
    strategy = serializers.PrimaryKeyRelatedField(queryset=PmaStrategy.objects.all(), allow_null=True, required=False)
    horizon = serializers.ChoiceField(choices=Horizon.choices, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)
    metric_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    metric_unit = serializers.CharField(max_length=40, allow_blank=True, required=False)
    metric_baseline = _amount_input()
    metric_target = _amount_input()
    metric_value = _amount_input()
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False)

    def validate_agencies(self, value):
        if len(value) > 200:
            raise serializers.ValidationError("Issue to at most 200 agencies at once.")
        return value


class CardIssueResultSerializer(serializers.Serializer):
    issue_batch = serializers.UUIDField()
    cards = ChallengeCardSerializer(many=True)


def _person_name(user_id, first_name, last_name, username) -> str | None:
    """A person's name as User.get_full_name() gives it, or else their username; from columns."""
    if user_id is None:
        return None
    return f"{first_name} {last_name}".strip() or username


def _name_of(relation: str) -> RowField:
    columns = [f"{relation}_id", *(f"{relation}__{name}" for name in ("first_name", "last_name", "username"))]
    return RowField(_person_name, columns, output=serializers.CharField(allow_null=True))


class CardUpdateSerializer(RowSerializer):
    """One entry of a card's history."""

    changes = ChangesField(read_only=True)
    status_to = serializers.ChoiceField(
        choices=[("", "No status change"), *CardStatus.choices],
        read_only=True,
        help_text="The status this set, if any.",
    )
    author_name = _name_of("author")
    on_behalf_of_name = _name_of("on_behalf_of")

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


class CardUpdateInputSerializer(StrictSerializer):
    """An agency's update: the same fields as the update form on the card page."""

    status = serializers.ChoiceField(choices=CardStatus.choices, required=False)
    agency_rating = serializers.ChoiceField(choices=Rating.choices, required=False)
    metric_value = _amount_input()
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False)


class CardWithUpdateSerializer(serializers.Serializer):
    update = CardUpdateSerializer()  # type: ignore[assignment]  # a field named like BaseSerializer.update
    card = ChallengeCardSerializer()


class CardReviewInputSerializer(StrictSerializer):
    omb_rating = serializers.ChoiceField(choices=Rating.choices, required=False)
    disposition = serializers.ChoiceField(
        choices=[(Disposition.ACCEPTED, "Accepted"), (Disposition.DROPPED, "Dropped")], required=False
    )
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False)
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False)


class CardCarryOverInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)
    to_meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all(), allow_null=True, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)


class CardReturnInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


# --- follow-up action input --------------------------------------------------------------------


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

    min_fields = 1  # declared in the schema as minProperties
    min_fields_message = "Send a due_date, an owner or owner_name, or owned_by."


class ActionNoteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False)


class ActionDropSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)
