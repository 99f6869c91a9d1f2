"""Reads and visibility: every page and API list starts from visible_to(user)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Subquery, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.module_loading import import_string

from agencies.roles import roles_of
from core.limits import whole_number


def _today() -> datetime.date:
    return timezone.localdate()


def open_card_q(prefix: str = "") -> Q:
    """The one rule for an open card, that every page counts by (review board, packet, scorecard, home):
    not yet accepted, carried over or dropped (a card marked done stays open until OMB accepts it)."""
    return Q(**{f"{prefix}disposition": "open"})


def agency_typed_q(text: str, prefix: str = "agency__") -> Q:
    """The one rule for an agency typed into a filter (card list, review board): its abbreviation in any
    case or part of its name; a whole number is an agency's id (links from the agency list, older links)."""
    text = text.strip()
    if text.isascii() and text.isdigit():  # ASCII digits only: int() refuses some that isdigit() takes ('²')
        number = whole_number(text)  # past the largest id no row has it (and the database refuses the number)
        return Q(**{f"{prefix}id": number}) if number is not None else Q(pk__in=[])
    return Q(**{f"{prefix}abbreviation__iexact": text}) | Q(**{f"{prefix}name__icontains": text})


def overdue_card_q(today: datetime.date, prefix: str = "") -> Q:
    """The one rule for an overdue card: still open, not done, past its due date.

    ``prefix`` reaches the card through a relation (``"cards__"`` from an agency).
    """
    return Q(**{f"{prefix}disposition": "open", f"{prefix}due_date__lt": today}) & ~Q(**{f"{prefix}status": "done"})


def overdue_action_q(today: datetime.date, prefix: str = "") -> Q:
    """The one rule for an overdue follow-up action: open and past its due date."""
    return Q(**{f"{prefix}status": "open", f"{prefix}due_date__lt": today})


def due_card_q(today: datetime.date, until: datetime.date) -> Q:
    """The one rule for a card due soon (by ``until``, the next meeting): open, not done, due from today to then."""
    return Q(disposition="open", due_date__gte=today, due_date__lte=until) & ~Q(status="done")


def due_action_q(today: datetime.date, until: datetime.date) -> Q:
    """The one rule for a follow-up action due soon: open, on an open card, due from today to ``until``."""
    return Q(status="open", card__disposition="open", due_date__gte=today, due_date__lte=until)


def is_card_due(card, today: datetime.date, until: datetime.date) -> bool:
    """due_card_q for a card instance."""
    return card.disposition == "open" and card.status != "done" and today <= card.due_date <= until


def needs_update_q(since: datetime.datetime | None) -> Q:
    """The one rule for a card that needs the agency's update before a meeting: open, not done, and no agency
    update (or certified draft) since it was issued or since ``since`` (the last meeting), whichever is later."""
    stale_since = Greatest(F("issued_at"), Value(since)) if since is not None else F("issued_at")
    return (
        Q(disposition="open")
        & ~Q(status="done")
        & (Q(last_agency_update_at__isnull=True) | Q(last_agency_update_at__lt=stale_since))
    )


def update_needed_since(card, since: datetime.datetime | None) -> tuple[str, datetime.datetime]:
    """needs_update_q's "since when", in words, for a card read already: ("the last meeting" | "it was
    issued" | "it was carried over", the moment)."""
    if since is not None and since >= card.issued_at:
        return "the last meeting", since
    return ("it was carried over" if card.carried_over_from_id else "it was issued"), card.issued_at


def is_card_overdue(*, disposition: str, status: str, due_date: datetime.date, today: datetime.date) -> bool:
    """overdue_card_q for values already read (a row, an instance): the same rule in Python."""
    return disposition == "open" and status != "done" and due_date < today


def is_action_overdue(*, status: str, due_date: datetime.date | None, today: datetime.date) -> bool:
    """overdue_action_q for values already read: open and past its due date."""
    return status == "open" and due_date is not None and due_date < today


def card_is_overdue(card, today: datetime.date) -> bool:
    """is_card_overdue for a card instance (pages, templates, the packet)."""
    return is_card_overdue(disposition=card.disposition, status=card.status, due_date=card.due_date, today=today)


def action_is_overdue(action, today: datetime.date) -> bool:
    """is_action_overdue for a follow-up action instance."""
    return is_action_overdue(status=action.status, due_date=action.due_date, today=today)


def next_and_last_of(both: list[Any], now: datetime.datetime) -> tuple:
    """(next, last) of MeetingQuerySet.next_and_last_rows' meetings."""
    found = {m.starts_at >= now: m for m in both}
    return found.get(True), found.get(False)


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, user) -> MeetingQuerySet:
        """Meetings are council-wide: every signed-in user with a role sees them."""
        roles = roles_of(user)
        if roles.is_omb or roles.agency_ids:
            return self.all()
        return self.none()

    def upcoming(self, now: datetime.datetime | None = None) -> MeetingQuerySet:
        now = now or timezone.now()
        return self.filter(status="scheduled", starts_at__gte=now).order_by("starts_at")

    def past(self, now: datetime.datetime | None = None) -> MeetingQuerySet:
        now = now or timezone.now()
        return self.exclude(status="cancelled").filter(starts_at__lt=now).order_by("-starts_at")

    def next_meeting(self, now: datetime.datetime | None = None):
        """The earliest scheduled meeting that has not started yet, or None."""
        return self.upcoming(now).first()

    def next_and_last(self, now: datetime.datetime | None = None) -> tuple:
        """(next_meeting, last_meeting) in one query: each is picked by a sub-select, both read together."""
        now = now or timezone.now()
        return next_and_last_of(list(self.next_and_last_rows(now)), now)

    def next_and_last_rows(self, now: datetime.datetime) -> MeetingQuerySet:
        """next_and_last's query: the next meeting and the last one (each, if any)."""
        next_id = self.upcoming(now).values("pk")[:1]
        last_id = self.past(now).values("pk")[:1]
        return self.filter(Q(pk=Subquery(next_id)) | Q(pk=Subquery(last_id)))

    def previous_to(self, meeting):
        """The last meeting (held or scheduled, not cancelled) before this one, or None."""
        return self.exclude(status="cancelled").filter(starts_at__lt=meeting.starts_at).order_by("-starts_at").first()

    def last_meeting(self, now: datetime.datetime | None = None):
        """The latest meeting that has started and was not cancelled, or None."""
        return self.past(now).first()


@functools.cache
def _update_annotations() -> dict[str, Callable[[], Any]]:
    return {name: import_string(path) for name, path in getattr(settings, "CARD_UPDATE_ANNOTATIONS", {}).items()}


def update_fact_names() -> tuple[str, ...]:
    """The names with_update_facts() annotates (settings.CARD_UPDATE_ANNOTATIONS)."""
    return tuple(_update_annotations())


class ChallengeCardQuerySet(models.QuerySet):
    def with_update_facts(self) -> ChallengeCardQuerySet:
        """For the read an agency's update locks: what the update's listeners decide on, in the same query.

        settings.CARD_UPDATE_ANNOTATIONS names them ({"name": "dotted.path"}, each callable returning an
        expression over the card's row), so the domain imports no listener (as core.auth's user annotations).
        """
        return self.annotate(**{name: build() for name, build in _update_annotations().items()})

    def visible_to(self, user) -> ChallengeCardQuerySet:
        roles = roles_of(user)
        if roles.is_omb:
            return self.all()
        if not roles.agency_ids:
            return self.none()
        return self.filter(agency_id__in=roles.agency_ids)

    def open(self) -> ChallengeCardQuerySet:
        """open_card_q: the rule every page counts open cards by."""
        return self.filter(open_card_q())

    def on_agenda_of(self, meeting) -> ChallengeCardQuerySet:
        """The open cards a meeting looks at: issued at earlier meetings, or carried over to this one."""
        return self.open().filter(
            Q(meeting__starts_at__lt=meeting.starts_at) | Q(meeting=meeting, carried_over_from__isnull=False)
        )

    def overdue(self, today: datetime.date | None = None) -> ChallengeCardQuerySet:
        return self.filter(overdue_card_q(today or _today()))

    def needs_update(self, since: datetime.datetime | None) -> ChallengeCardQuerySet:
        """needs_update_q: open, not done, not updated since issued or since ``since``, whichever is later."""
        return self.filter(needs_update_q(since))

    def not_updated_since(self, when: datetime.datetime) -> ChallengeCardQuerySet:
        return self.filter(Q(last_agency_update_at__isnull=True) | Q(last_agency_update_at__lt=when))

    def with_related(self) -> ChallengeCardQuerySet:
        return self.select_related("agency", "meeting", "priority", "strategy", "issued_to", "issued_by")


class FollowUpActionQuerySet(models.QuerySet):
    def visible_to(self, user) -> FollowUpActionQuerySet:
        roles = roles_of(user)
        if roles.is_omb:
            return self.all()
        if not roles.agency_ids:
            return self.none()
        return self.filter(card__agency_id__in=roles.agency_ids)

    def open(self) -> FollowUpActionQuerySet:
        return self.filter(status="open")

    def overdue(self, today: datetime.date | None = None) -> FollowUpActionQuerySet:
        return self.filter(overdue_action_q(today or _today()))


class CardUpdateQuerySet(models.QuerySet):
    def visible_to(self, user) -> CardUpdateQuerySet:
        """History of visible cards; OMB does not see a delegate's draft until it is certified."""
        roles = roles_of(user)
        if roles.is_omb:
            return self.exclude(certification="pending")
        if not roles.agency_ids:
            return self.none()
        return self.filter(card__agency_id__in=roles.agency_ids)


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user) -> EvidenceQuerySet:
        """Evidence of the cards the user may see."""
        cards = cast(Any, self.model._meta.get_field("card").related_model).objects
        return self.filter(card__in=cards.visible_to(user).values("pk"))
