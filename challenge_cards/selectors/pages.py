"""Reads that the pages (and the API) share. Each starts from visible_to(user) and costs a fixed number of queries."""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import router
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from agencies.models import Agency
from agencies.roles import roles_of
from core.db.compiled import CompiledSql
from core.pagination import TotalOf, page_number_to_read

from ..models import ActionStatus, CardStatus, CardUpdate, ChallengeCard, Evidence, FollowUpAction, Meeting, Rating
from ..querysets import due_card_q, is_card_due, next_and_last_of, overdue_action_q, overdue_card_q
from .cards import kept_rows
from .home_rows import HOME_CARD_COLUMNS, Certification, HomeCard, home_cards_of

# Cards annotated with flags and counts (is_overdue, ...): rows of ChallengeCard with extra attributes.
Flagged = QuerySet[Any, Any]


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _cards_changes() -> dict[str, Subquery]:
    """What changes when any card or follow-up action is added or saved (bulk-created too: auto_now): the
    newest ids and the latest updated_at of both, each a look-up in an index."""

    def latest(model, column: str) -> Subquery:
        return Subquery(model.objects.order_by(f"-{column}").values(column)[:1])

    return {
        f"changes_{name}_{column}": latest(model, column)
        for name, model in (("card", ChallengeCard), ("action", FollowUpAction))
        for column in ("pk", "updated_at")
    }


def cards_fingerprint() -> tuple:
    """_cards_changes in a query of its own (meeting_context(..., fingerprint=True) reads it with the meetings)."""
    changes = _cards_changes()
    return tuple(ChallengeCard.objects.annotate(**changes).values_list(*changes)[:1].first() or ())


# The meetings' SQL, kept per who asks and whether the fingerprint comes with it (see meeting_context).
_MEETINGS_SQL = CompiledSql()


@functools.cache
def _cards_change_names() -> tuple[str, ...]:
    return tuple(_cards_changes())


@functools.cache
def _meeting_fields() -> tuple[str, ...]:
    return tuple(field.attname for field in Meeting._meta.concrete_fields)


def meeting_context(user, now: datetime.datetime | None = None, *, fingerprint: bool = False) -> dict:
    """The next and last meetings and the days until the next one; with `fingerprint`, also the cards'
    fingerprint (_cards_changes, read in the same query) under "cards_fingerprint" (see selectors.review).

    Every page asks this: the SQL is built once per who asks (their roles), `now` in a slot, and the meetings
    made from its rows (tests/challenge_cards/test_services_meetings.py: the same values as the ORM's)."""
    now = now or timezone.now()
    fields = _meeting_fields()
    names = _cards_change_names() if fingerprint else ()

    def build(slots: tuple) -> QuerySet:
        meetings = Meeting.objects.visible_to(user).annotate(**(_cards_changes() if fingerprint else {}))
        return meetings.next_and_last_rows(slots[0]).values_list(*fields, *names)

    both = []
    for row in kept_rows(("meetings", roles_of(user), fingerprint), build, [now], kept=_MEETINGS_SQL):
        meeting = Meeting.from_db(router.db_for_read(Meeting), fields, row[: len(fields)])
        for name, value in zip(names, row[len(fields) :], strict=True):
            setattr(meeting, name, value)
        both.append(meeting)
    upcoming, last = next_and_last_of(both, now)
    days = (upcoming.starts_at_eastern.date() - timezone.localdate()).days if upcoming else None
    context = {"next_meeting": upcoming, "last_meeting": last, "days_to_next_meeting": days}
    if fingerprint:  # no meeting: no card either (every card is issued at one)
        context["cards_fingerprint"] = tuple(getattr(upcoming or last, name, None) for name in names)
    return context


def with_flags(cards: QuerySet[ChallengeCard], last_meeting: Meeting | None) -> Flagged:
    """Annotate overdue / at risk / not updated since the last meeting / ratings disagree (cheap: no joins)."""
    return flagged(cards, last_meeting.starts_at if last_meeting else None, timezone.localdate())


def flagged(cards: QuerySet[ChallengeCard], since: datetime.datetime | None, today: datetime.date) -> Flagged:
    """with_flags with the last meeting's start (None: no meeting yet) and today given: kept SQL puts them in
    slots (core.db.compiled)."""
    if since is not None:
        stale = _flag(
            (Q(last_agency_update_at__isnull=True) | Q(last_agency_update_at__lt=since)) & Q(issued_at__lt=since)
        )
    else:
        stale = Value(False, output_field=BooleanField())  # type: ignore[assignment]
    return cards.annotate(
        is_overdue=_flag(overdue_card_q(today)),
        is_red_or_at_risk=_flag(
            Q(status__in=[CardStatus.AT_RISK, CardStatus.BLOCKED])
            | Q(agency_rating=Rating.RED)
            | Q(omb_rating=Rating.RED)
        ),
        is_stale=stale,
        ratings_differ=_flag(~Q(agency_rating="") & ~Q(omb_rating="") & ~Q(agency_rating=F("omb_rating"))),
    )


def _actions_count(condition: Q) -> Coalesce:
    counted = (
        FollowUpAction.objects.filter(condition, card=OuterRef("pk"))
        .order_by()
        .values("card")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def with_action_counts(cards: QuerySet[ChallengeCard]) -> Flagged:
    """Open and overdue follow-up actions per card, as sub-selects: the database counts them only for
    the rows it returns, where a join and GROUP BY would count every card's actions first."""
    today = timezone.localdate()
    return cards.annotate(
        open_actions=_actions_count(Q(status=ActionStatus.OPEN)),
        overdue_actions=_actions_count(overdue_action_q(today)),
    )


HOME_ORDER = ("-meeting__starts_at", "meeting_id", "-is_overdue", "due_date", "id")


def home_cards(user, last_meeting: Meeting | None) -> Flagged:
    """My agency's open cards, by the meeting that issued them; overdue ones first within a meeting (with the
    agency and meeting that the home page shows, not every related row: each costs a join and an object)."""
    cards = ChallengeCard.objects.visible_to(user).open().select_related("agency", "meeting")
    return with_flags(cards, last_meeting).order_by(*HOME_ORDER)


def home_sections(
    user, last_meeting: Meeting | None, page_number: str | None, *, per_page: int = 50, overdue_shown: int = 20
) -> tuple[Page, list[HomeCard]]:
    """The home page's page of open cards (with their total) and its first overdue cards, in one query."""
    page, overdue, _due = home_reads(user, last_meeting, page_number, per_page=per_page, overdue_shown=overdue_shown)
    return page, overdue


# The home page's SQL, kept per who asks and which page (see home_reads).
_HOME_SQL = CompiledSql()


def home_reads(
    user,
    last_meeting: Meeting | None,
    page_number: str | None,
    *,
    per_page: int = 50,
    overdue_shown: int = 20,
    due_until: datetime.date | None = None,
    due_shown: int = 30,
) -> tuple[Page, list[HomeCard], list[HomeCard]]:
    """The home page's page of open cards (with their total), its first overdue cards and, with ``due_until``,
    the first cards due from today to then (selectors.due's rule), in one query.

    Overdue and due cards are open cards too, so one read serves the three lists: the rows whose id is among
    the page's ids, the first overdue ids or the first due ids (LIMIT sub-selects, each a top-N of narrow
    rows), each row flagged `in_page`, with the total as a sub-select. The sub-selects start from the bare open
    cards, not from the flagged and joined rows: Django copies and relabels all of a queryset it nests, which
    cost more than the database's work.

    The rows are HomeCards (only what the page shows), and the SQL is built once per who asks (their roles),
    page and lengths, with today, ``due_until`` and the last meeting's start in slots: building and compiling
    it, and making model instances of its rows, cost more than the rest of the page. A page number Django's
    Paginator must judge (past the end, 0) reads that page of model instances with two queries more.
    """
    today = timezone.localdate()
    wanted = page_number_to_read(page_number)
    number = wanted or 1  # a number Django must judge: the overdue list is read with the first page
    bottom = (number - 1) * per_page
    since = last_meeting.starts_at if last_meeting else None
    until = [due_until] if due_until is not None else []
    values = [today, *until, *([since] if since is not None else [])]

    def build(slots: tuple) -> QuerySet:
        today, *rest = slots
        sizes = {"per_page": per_page, "overdue_shown": overdue_shown, "due_shown": due_shown}
        due = rest.pop(0) if until else None
        return _home_rows(user, rest[0] if rest else None, today, due, bottom=bottom, **sizes)

    key = ("home", roles_of(user), bottom, per_page, overdue_shown, due_shown, bool(until), since is not None)
    rows = kept_rows(key, build, values, kept=_HOME_SQL)
    total = rows[0][-1] if rows else 0
    cards = home_cards_of(rows)
    # Every overdue row here ranks after the first `overdue_shown` in the overdue order, or is one of them.
    overdue = sorted((card for card in cards if card.is_overdue), key=lambda card: (card.due_date, card.pk))
    due = sorted(
        (card for card in cards if due_until is not None and is_card_due(card, today, due_until)),
        key=lambda card: (card.due_date, card.pk),
    )[:due_shown]
    in_page = [card for card in cards if card.in_page]  # in HOME_ORDER, as the query returns them
    if wanted is None or (not in_page and number > 1):  # past the end: the last page
        paginator = Paginator(home_cards(user, last_meeting), per_page)
        return paginator.get_page(page_number), overdue[:overdue_shown], due
    paginator = Paginator(in_page, per_page)  # its count known: the list is never read
    paginator.__dict__["count"] = total
    return Page(in_page, number, paginator), overdue[:overdue_shown], due


def _home_rows(
    user,
    since: datetime.datetime | None,
    today: datetime.date,
    due_until: datetime.date | None,
    *,
    bottom: int,
    per_page: int,
    overdue_shown: int,
    due_shown: int,
) -> QuerySet:
    """home_reads' query: rows of HOME_CARD_COLUMNS (see home_reads)."""
    open_cards = ChallengeCard.objects.visible_to(user).open()
    cards = flagged(open_cards, since, today).order_by(*HOME_ORDER)  # home_cards, as columns
    in_order = open_cards.annotate(is_overdue=_flag(overdue_card_q(today))).order_by(*HOME_ORDER)
    page_ids = in_order.values("pk")[bottom : bottom + per_page]
    overdue_ids = open_cards.filter(overdue_card_q(today)).order_by("due_date", "id").values("pk")[:overdue_shown]
    wanted_rows = Q(pk__in=page_ids) | Q(pk__in=overdue_ids)
    if due_until is not None:
        due_ids = open_cards.filter(due_card_q(today, due_until)).order_by("due_date", "id").values("pk")[:due_shown]
        wanted_rows |= Q(pk__in=due_ids)
    return (
        cards.filter(wanted_rows)
        .annotate(in_page=ExpressionWrapper(Q(pk__in=page_ids), output_field=BooleanField()), total=TotalOf(open_cards))
        .values_list(*HOME_CARD_COLUMNS)
    )


def overdue_actions(user) -> QuerySet[FollowUpAction]:
    return (
        FollowUpAction.objects.visible_to(user)
        .overdue()
        .filter(card__disposition="open")
        .select_related("card__agency", "owner")
        .order_by("due_date", "id")
    )


def _with_overdue(cards: QuerySet[ChallengeCard]) -> QuerySet[ChallengeCard]:
    today = timezone.localdate()
    return cards.annotate(is_overdue=_flag(overdue_card_q(today)))


# The card list page's order, newest first: an index on the card itself (card_issued_id) gives it, so a
# page, however deep, is read from the index without sorting every card (by meeting, then agency name, it was).
CARD_LIST_ORDER = ("-issued_at", "-id")


def card_list(user) -> QuerySet[ChallengeCard]:
    """Every card the user may see, newest first, with the agency and meeting the list shows (and only those:
    each further join made PostgreSQL's plan of a page cost more than reading it; the exports add their own)."""
    cards = ChallengeCard.objects.visible_to(user).select_related("agency", "meeting")
    return _with_overdue(cards).order_by(*CARD_LIST_ORDER)


def review_row(user, pk: int, last_meeting: Meeting | None) -> ChallengeCard:
    """One card as the review board shows it (any disposition, so a just-closed card can say so)."""
    cards = ChallengeCard.objects.visible_to(user).select_related("agency").filter(pk=pk)
    return get_object_or_404(with_action_counts(with_flags(cards, last_meeting)))


def review_board(user, last_meeting: Meeting | None) -> Flagged:
    """Every open card, the ones that need OMB's attention first (with the agency, all of its relations a row
    shows: board.rows_html)."""
    cards = ChallengeCard.objects.visible_to(user).open().select_related("agency")
    return with_action_counts(with_flags(cards, last_meeting)).order_by(
        "-is_red_or_at_risk", "-is_overdue", "-is_stale", "-ratings_differ", "agency__name", "due_date", "id"
    )


def agencies_with_counts(user) -> QuerySet[Any, Any]:
    """Each agency with its open, overdue and done counts, in one query."""
    today = timezone.localdate()
    visible = ChallengeCard.objects.visible_to(user).values("pk")
    mine = Q(cards__pk__in=visible)
    open_ = mine & Q(cards__disposition="open")
    return (
        Agency.objects.visible_to(user)
        .filter(active=True)
        .annotate(
            open_count=Count("cards", filter=open_ & ~Q(cards__status=CardStatus.DONE)),
            overdue_count=Count("cards", filter=mine & overdue_card_q(today, prefix="cards__")),
            done_count=Count(
                "cards", filter=mine & (Q(cards__status=CardStatus.DONE) | Q(cards__disposition="accepted"))
            ),
        )
        .order_by("name")
    )


def meetings_with_counts(user) -> QuerySet[Any, Any]:
    return Meeting.objects.visible_to(user).annotate(
        card_count=Count("cards", filter=Q(cards__in=ChallengeCard.objects.visible_to(user).values("pk")))
    )


def meeting_cards(user, meeting: Meeting) -> QuerySet[ChallengeCard]:
    cards = ChallengeCard.objects.visible_to(user).filter(meeting=meeting).with_related()
    return _with_overdue(cards).order_by("agency__name", "title")


def card_detail(user, pk: int) -> ChallengeCard:
    """One card the user may see (404 otherwise), with what its page shows."""
    queryset = ChallengeCard.objects.visible_to(user).with_related().select_related("carried_over_from__meeting")
    return get_object_or_404(queryset, pk=pk)


def awaiting_my_certification(user, *, on_behalf_of=None) -> QuerySet[CardUpdate]:
    """Delegates' draft updates that this deputy secretary has to certify (the rule of permissions.can_certify).

    `on_behalf_of`: the user as the drafts name them, when not `user` (kept SQL gives a slot for the id)."""
    deputy_of = roles_of(user).deputy_of
    if not deputy_of:
        return CardUpdate.objects.none()
    me = user if on_behalf_of is None else on_behalf_of
    mine = Q(card__agency_id__in=deputy_of) | Q(on_behalf_of=me, card__agency__parent_id__in=deputy_of)
    return (
        CardUpdate.objects.visible_to(user)
        .filter(mine, certification="pending", card__disposition="open")
        .select_related("card", "author")
        .order_by("created_at", "id")
    )


# The home page's updates awaiting certification: SQL kept per who asks (see certifications_awaiting_me).
_CERTIFY_SQL = CompiledSql()


def certifications_awaiting_me(user, *, shown: int = 20) -> list[Certification]:
    """The first `shown` of awaiting_my_certification, as the home page lists them: one query whose SQL is
    built once per who asks (their roles; the user's id in a slot)."""

    def build(slots: tuple) -> QuerySet:
        me = get_user_model()(pk=slots[0])
        return awaiting_my_certification(user, on_behalf_of=me).values_list(*Certification.COLUMNS)[:shown]

    key = ("certify", roles_of(user), shown)
    return [Certification(row) for row in kept_rows(key, build, [user.pk], kept=_CERTIFY_SQL)]


def card_lineage(card: ChallengeCard) -> list[int]:
    """The card's id and those of the cards it continues (carried over from), newest first: one query per step."""
    ids = [card.pk]
    previous = card.carried_over_from_id
    while previous and previous not in ids:
        ids.append(previous)
        previous = ChallengeCard.objects.filter(pk=previous).values_list("carried_over_from_id", flat=True).first()
    return ids


def card_timeline(user, card: ChallengeCard) -> QuerySet[CardUpdate]:
    """The card's history and, for a carried-over card, its predecessors' (each row's card_id says whose)."""
    return (
        CardUpdate.objects.visible_to(user)
        .filter(card_id__in=card_lineage(card))
        .select_related("author", "on_behalf_of", "certified_by")
        .order_by("-created_at", "-id")
    )


def card_actions(user, card: ChallengeCard) -> QuerySet[FollowUpAction]:
    return (
        FollowUpAction.objects.visible_to(user)
        .filter(card=card)
        .select_related("owner", "card")
        .order_by(Case(When(status=ActionStatus.OPEN, then=0), default=1), "due_date", "id")
    )


def card_evidence(user, card: ChallengeCard) -> QuerySet[Evidence]:
    return Evidence.objects.visible_to(user).filter(card=card).select_related("added_by", "on_behalf_of")


def agency_prefetch_deputies() -> Prefetch:
    from agencies.models import Membership, Role

    return Prefetch(
        "memberships",
        queryset=Membership.objects.current().filter(role=Role.DEPUTY_SECRETARY).select_related("user"),
        to_attr="current_deputies",
    )
