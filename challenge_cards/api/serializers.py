"""What the API shows of meetings, cards, follow-up actions and card history, and what it accepts.

Output serializers are read-only; each write has its own strict input serializer (unknown
fields are a 400) whose validated data goes straight to a service function.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency
from agencies.roles import roles_of
from challenge_cards import services
from challenge_cards.models import (
    MEETING_MAX_MINUTES,
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
from config.pagination import TotalOf

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
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MEETING_MAX_MINUTES, required=False)
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


# --- the card and action representations -----------------------------------------------------
#
# Cards and actions are the API's biggest lists (a page of 50 cards nests about 250 actions), so
# their output is written by hand from plain rows instead of DRF's field-by-field serialization:
# the list endpoint reads rows (card_page: no model instances), the detail, write and action
# endpoints turn their instance into the same row, and both go through card_output/action_output.
# The serializers below still declare every field, so the OpenAPI schema describes this output;
# tests/api/test_card_output.py checks it equals what DRF's own fields would give.

CARD_COLUMNS = (
    "id",
    "meeting_id",
    "agency_id",
    "agency__abbreviation",
    "issued_to_id",
    "issued_by_id",
    "issued_at",
    "issue_batch",
    "title",
    "ask",
    "priority_id",
    "priority__number",
    "strategy_id",
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
    "carried_over_from_id",
    "carry_count",
    "disposition",
    "disposition_reason",
    "version",
    "last_agency_update_at",
    "updated_at",
)
ACTION_COLUMNS = (
    "id",
    "card_id",
    "description",
    "owner_id",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "owner_name",
    "owned_by",
    "due_date",
    "status",
    "completed_at",
    "dropped_reason",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
)
_CARD_ID = CARD_COLUMNS.index("id")
_ACTION_CARD = ACTION_COLUMNS.index("card_id")
_CENTS = Decimal("0.01")


class Clock:
    """Today and the display time zone, read once per response (DRF reads them per field)."""

    def __init__(self) -> None:
        self.today = timezone.localdate()
        self.zone = timezone.get_current_timezone()

    def moment(self, value: datetime.datetime | None) -> str | None:
        """As DRF's DateTimeField writes it: ISO 8601 in the current time zone, 'Z' for UTC."""
        if value is None:
            return None
        text = value.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


def _day(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _amount(value: Decimal | None) -> str | None:
    """As DRF's DecimalField writes a (14, 2) amount: a string with two decimals."""
    return None if value is None else format(value.quantize(_CENTS), "f")


def card_row(card: ChallengeCard) -> dict:
    """A card instance as the row CARD_COLUMNS reads, so instances and rows share card_output."""
    row = {column: getattr(card, column) for column in CARD_COLUMNS if "__" not in column}
    row["agency__abbreviation"] = card.agency.abbreviation
    row["priority__number"] = card.priority.number
    return row


def action_row(action: FollowUpAction) -> dict:
    """An action instance as the row ACTION_COLUMNS reads."""
    row = {column: getattr(action, column) for column in ACTION_COLUMNS if "__" not in column}
    owner = action.owner if action.owner_id else None
    row["owner__first_name"] = owner.first_name if owner else None
    row["owner__last_name"] = owner.last_name if owner else None
    row["owner__username"] = owner.username if owner else None
    return row


def action_output(row: dict, *, agency_id: int, clock: Clock) -> dict:
    """The API's follow-up action (FollowUpActionSerializer's fields) from an ACTION_COLUMNS row."""
    if row["owner_id"] is not None:
        full_name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        owner_display = full_name or row["owner__username"]
    else:
        owner_display = row["owner_name"] or "Unassigned"
    due = row["due_date"]
    return {
        "id": row["id"],
        "card": row["card_id"],
        "agency": agency_id,
        "description": row["description"],
        "owner": row["owner_id"],
        "owner_name": row["owner_name"],
        "owner_display": owner_display,
        "owned_by": row["owned_by"],
        "due_date": _day(due),
        "status": row["status"],
        "completed_at": clock.moment(row["completed_at"]),
        "dropped_reason": row["dropped_reason"],
        "created_by": row["created_by_id"],
        "created_at": clock.moment(row["created_at"]),
        "updated_at": clock.moment(row["updated_at"]),
        "version": row["version"],
        "is_overdue": row["status"] == ActionStatus.OPEN and due is not None and due < clock.today,
        "etag": f'W/"action-{row["id"]}-v{row["version"]}"',
    }


def card_output(row: dict, actions: list[dict], clock: Clock) -> dict:
    """The API's challenge card (ChallengeCardSerializer's fields) from a CARD_COLUMNS row and its action rows."""
    agency_id = row["agency_id"]
    issue_batch = row["issue_batch"]
    return {
        "id": row["id"],
        "meeting": row["meeting_id"],
        "agency": agency_id,
        "agency_abbreviation": row["agency__abbreviation"],
        "issued_to": row["issued_to_id"],
        "issued_by": row["issued_by_id"],
        "issued_at": clock.moment(row["issued_at"]),
        "issue_batch": None if issue_batch is None else str(issue_batch),
        "title": row["title"],
        "ask": row["ask"],
        "priority": row["priority_id"],
        "priority_number": row["priority__number"],
        "strategy": row["strategy_id"],
        "horizon": row["horizon"],
        "due_date": _day(row["due_date"]),
        "status": row["status"],
        "agency_rating": row["agency_rating"],
        "omb_rating": row["omb_rating"],
        "metric_name": row["metric_name"],
        "metric_unit": row["metric_unit"],
        "metric_baseline": _amount(row["metric_baseline"]),
        "metric_target": _amount(row["metric_target"]),
        "metric_value": _amount(row["metric_value"]),
        "carried_over_from": row["carried_over_from_id"],
        "carry_count": row["carry_count"],
        "disposition": row["disposition"],
        "disposition_reason": row["disposition_reason"],
        "version": row["version"],
        "last_agency_update_at": clock.moment(row["last_agency_update_at"]),
        "updated_at": clock.moment(row["updated_at"]),
        "is_overdue": (
            row["disposition"] == Disposition.OPEN
            and row["status"] != CardStatus.DONE
            and row["due_date"] < clock.today
        ),
        "etag": f'W/"card-{row["id"]}-v{row["version"]}"',
        "actions": [action_output(action, agency_id=agency_id, clock=clock) for action in actions],
    }


def _timestamptz_loader():
    """psycopg's own (C) loader for timestamptz, which Django replaces with a pure-Python subclass.

    Django's loader only swaps in `datetime.timezone.utc` for the connection's UTC zone; the instant
    is the same, and Clock.moment converts to the display zone anyway. A page holds ~650 date-times,
    and Django's loader cost more than everything else in reading the page.
    """
    from psycopg import adapters
    from psycopg.pq import Format

    return adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)


def rows_of(queryset: models.QuerySet) -> list[tuple]:
    """A `values_list` queryset's rows, read on PostgreSQL with psycopg's C loaders (see _timestamptz_loader).

    Only for columns that need no Django conversion (no from_db_value); other databases go through the ORM.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset)
    try:
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # .none(), or an `__in` an empty list: the ORM answers without a query too
        return []
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _timestamptz_loader())
        cursor.execute(sql, params)
        return cursor.fetchall()


def card_page(cards: models.QuerySet, actions: models.QuerySet, *, offset: int, limit: int) -> tuple[int, list[dict]]:
    """The count of `cards` and cards[offset:offset + limit] as the API shows them, in two queries.

    One query reads the page with its count (a COUNT(*) sub-select); one more reads the page's
    actions from `actions` (already scoped). An empty page has no count: 0 (see paginate_rows).
    """
    page = cards.annotate(total_in_page=TotalOf(cards)).values_list(*CARD_COLUMNS, "total_in_page")
    rows = rows_of(page[offset : offset + limit])
    if not rows:
        return 0, []
    by_card: dict[int, list[dict]] = {row[_CARD_ID]: [] for row in rows}
    page_actions = actions.filter(card_id__in=list(by_card)).order_by("due_date", "id")
    for action in rows_of(page_actions.values_list(*ACTION_COLUMNS)):
        by_card[action[_ACTION_CARD]].append(dict(zip(ACTION_COLUMNS, action, strict=True)))
    clock = Clock()
    total = rows[0][-1]
    return total, [
        card_output(dict(zip(CARD_COLUMNS, row[:-1], strict=True)), by_card[row[_CARD_ID]], clock) for row in rows
    ]


# --- follow-up actions ----------------------------------------------------------------------


class FollowUpActionSerializer(serializers.ModelSerializer):
    """One follow-up action, on its own or nested in its card; written by action_output (see its docstring)."""

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

    def to_representation(self, action: FollowUpAction) -> dict:
        return action_output(action_row(action), agency_id=action.card.agency_id, clock=Clock())

    @extend_schema_field(serializers.BooleanField())
    def get_is_overdue(self, action: FollowUpAction) -> bool:
        """DRF's way, kept as the reference tests/api/test_card_output.py compares action_output with."""
        return (
            action.status == ActionStatus.OPEN
            and action.due_date is not None
            and action.due_date < timezone.localdate()
        )


# --- cards ----------------------------------------------------------------------------------


class ChallengeCardSerializer(serializers.ModelSerializer):
    agency_abbreviation = serializers.CharField(source="agency.abbreviation", read_only=True)
    priority_number = serializers.IntegerField(source="priority.number", read_only=True)
    agency_rating = serializers.ChoiceField(choices=RATING_OR_NONE, read_only=True)
    omb_rating = serializers.ChoiceField(choices=RATING_OR_NONE, read_only=True)
    is_overdue = serializers.SerializerMethodField()
    etag = EtagField("card")
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

    def to_representation(self, card: ChallengeCard) -> dict:
        # card.actions is prefetched (ChallengeCardViewSet.get_queryset) wherever a card is shown.
        return card_output(card_row(card), [action_row(action) for action in card.actions.all()], Clock())

    @extend_schema_field(serializers.BooleanField())
    def get_is_overdue(self, card: ChallengeCard) -> bool:
        """DRF's way, kept as the reference tests/api/test_card_output.py compares card_output with."""
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

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send a due_date, an owner or owner_name, or owned_by.")
        return attrs


class ActionNoteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class ActionDropSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=5000)
