"""What the API shows of meetings, cards, follow-up actions and card history, and what it accepts.

Output serializers are read-only; each write has its own strict input serializer (unknown
fields are a 400) whose validated data goes straight to a service function.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connections, models, router
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
from config.compiled import CompiledSql
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
    """Today and the display time zone, read once per response (DRF reads them per field).

    A native clock leaves dates and date-times as objects (date-times in the display zone) for
    FastJSONRenderer to write in C, byte for byte as DRF writes them; only the card list, whose
    view asks the renderer for that (see ChallengeCardViewSet.list), uses one.
    """

    def __init__(self, *, native: bool = False) -> None:
        self.today = timezone.localdate()
        self.zone = timezone.get_current_timezone()
        self.moment = self._local if native else self._text
        self.day = _same if native else _day

    def _local(self, value: datetime.datetime | None) -> datetime.datetime | None:
        return None if value is None else value.astimezone(self.zone)

    def _text(self, value: datetime.datetime | None) -> str | None:
        """As DRF's DateTimeField writes it: ISO 8601 in the current time zone, 'Z' for UTC."""
        if value is None:
            return None
        text = value.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


def _same(value):
    return value


def _day(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _amount(value: Decimal | None) -> str | None:
    """As DRF's DecimalField writes a (14, 2) amount: a string with two decimals."""
    return None if value is None else format(value.quantize(_CENTS), "f")


def card_row(card: ChallengeCard) -> tuple:
    """A card instance as the row CARD_COLUMNS reads, so instances and rows share card_output."""
    related = {"agency__abbreviation": card.agency.abbreviation, "priority__number": card.priority.number}
    return tuple(related[column] if column in related else getattr(card, column) for column in CARD_COLUMNS)


def action_row(action: FollowUpAction) -> tuple:
    """An action instance as the row ACTION_COLUMNS reads."""
    owner = action.owner if action.owner_id else None
    related = {
        "owner__first_name": owner.first_name if owner else None,
        "owner__last_name": owner.last_name if owner else None,
        "owner__username": owner.username if owner else None,
    }
    return tuple(related[column] if column in related else getattr(action, column) for column in ACTION_COLUMNS)


def action_output(row: tuple, *, agency_id: int, clock: Clock) -> dict:
    """The API's follow-up action (FollowUpActionSerializer's fields) from an ACTION_COLUMNS row."""
    (
        id_, card_id, description, owner_id, owner_first_name, owner_last_name, owner_username, owner_name, owned_by,
        due_date, status, completed_at, dropped_reason, created_by_id, created_at, updated_at, version,
    ) = row  # fmt: skip
    if owner_id is not None:
        owner_display = f"{owner_first_name} {owner_last_name}".strip() or owner_username
    else:
        owner_display = owner_name or "Unassigned"
    moment = clock.moment
    return {
        "id": id_,
        "card": card_id,
        "agency": agency_id,
        "description": description,
        "owner": owner_id,
        "owner_name": owner_name,
        "owner_display": owner_display,
        "owned_by": owned_by,
        "due_date": clock.day(due_date),
        "status": status,
        "completed_at": moment(completed_at),
        "dropped_reason": dropped_reason,
        "created_by": created_by_id,
        "created_at": moment(created_at),
        "updated_at": moment(updated_at),
        "version": version,
        "is_overdue": status == ActionStatus.OPEN and due_date is not None and due_date < clock.today,
        "etag": f'W/"action-{id_}-v{version}"',
    }


def card_output(row: tuple, actions: list[tuple], clock: Clock) -> dict:
    """The API's challenge card (ChallengeCardSerializer's fields) from a CARD_COLUMNS row and its action rows."""
    (
        id_, meeting_id, agency_id, agency_abbreviation, issued_to_id, issued_by_id, issued_at, issue_batch, title,
        ask, priority_id, priority_number, strategy_id, horizon, due_date, status, agency_rating, omb_rating,
        metric_name, metric_unit, metric_baseline, metric_target, metric_value, carried_over_from_id, carry_count,
        disposition, disposition_reason, version, last_agency_update_at, updated_at,
    ) = row  # fmt: skip
    moment = clock.moment
    return {
        "id": id_,
        "meeting": meeting_id,
        "agency": agency_id,
        "agency_abbreviation": agency_abbreviation,
        "issued_to": issued_to_id,
        "issued_by": issued_by_id,
        "issued_at": moment(issued_at),
        "issue_batch": None if issue_batch is None else str(issue_batch),
        "title": title,
        "ask": ask,
        "priority": priority_id,
        "priority_number": priority_number,
        "strategy": strategy_id,
        "horizon": horizon,
        "due_date": clock.day(due_date),
        "status": status,
        "agency_rating": agency_rating,
        "omb_rating": omb_rating,
        "metric_name": metric_name,
        "metric_unit": metric_unit,
        "metric_baseline": _amount(metric_baseline),
        "metric_target": _amount(metric_target),
        "metric_value": _amount(metric_value),
        "carried_over_from": carried_over_from_id,
        "carry_count": carry_count,
        "disposition": disposition,
        "disposition_reason": disposition_reason,
        "version": version,
        "last_agency_update_at": moment(last_agency_update_at),
        "updated_at": moment(updated_at),
        "is_overdue": disposition == Disposition.OPEN and status != CardStatus.DONE and due_date < clock.today,
        "etag": f'W/"card-{id_}-v{version}"',
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


# The card list's SQL, kept per key (who asks, the search, the order, the page): see card_page.
_LIST_SQL = CompiledSql()


def _rows(key: Hashable | None, build: Callable[[tuple[int, ...]], models.QuerySet], values: Sequence[int] = ()):
    """The rows of the `values_list` queryset build(values): on PostgreSQL from SQL kept by `key`
    (config.compiled.CompiledSql) and read with psycopg's C loaders (see _timestamptz_loader).

    Only for columns that need no Django conversion (no from_db_value); other databases go through the ORM.
    """
    connection = connections[router.db_for_read(ChallengeCard)]
    if connection.vendor != "postgresql":
        return list(build(tuple(values)))
    compiled = _LIST_SQL.sql(connection, key, build, values)
    if compiled is None:  # the queryset matches nothing: the ORM would not ask either
        return []
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _timestamptz_loader())
        cursor.execute(*compiled)
        return cursor.fetchall()


def card_page(
    cards: Callable[[], models.QuerySet],
    actions: Callable[[], models.QuerySet],
    *,
    key: Hashable | None,
    offset: int,
    limit: int,
) -> tuple[int, list[dict]]:
    """The count of cards() and cards()[offset:offset + limit] as the API shows them, in two queries.

    One query reads the page with its count (a COUNT(*) sub-select); one more reads the page's
    actions from actions() (already scoped). An empty page has no count: 0 (see paginate_rows).
    `key`, when given, determines both querysets, so they are built and compiled once per key.
    Dates and date-times stay objects (Clock(native=True)): the view has the renderer write them.
    """

    def page(_no_slots: tuple) -> models.QuerySet:
        listed = cards()
        return listed.annotate(total_in_page=TotalOf(listed)).values_list(*CARD_COLUMNS, "total_in_page")[
            offset : offset + limit
        ]

    rows = _rows(key and ("cards", key, offset, limit), page)
    if not rows:
        return 0, []
    by_card: dict[int, list[tuple]] = {row[_CARD_ID]: [] for row in rows}

    def page_actions(card_ids: tuple[int, ...]) -> models.QuerySet:
        return actions().filter(card_id__in=card_ids).order_by("due_date", "id").values_list(*ACTION_COLUMNS)

    for action in _rows(key and ("actions", key, len(by_card)), page_actions, list(by_card)):
        by_card[action[_ACTION_CARD]].append(action)
    clock = Clock(native=True)
    total = rows[0][-1]
    return total, [card_output(row[:-1], by_card[row[_CARD_ID]], clock) for row in rows]


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
