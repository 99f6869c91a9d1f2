"""The deputy's and delegate's home page read as plain rows: cards, follow-up actions and updates awaiting
certification, each with only the fields the page shows.

The home page read ~270 model instances a request (cards, their meetings and agencies, actions, owners):
making them cost more than the page's own Python. These classes hold a row's values and give what the models
give: the models' own methods (an owner's name, an action's owner) or their rules (a status's label from the
field's choices, a card's URL from its route: core.links), so the page says the same thing either way
(tests/web/test_home_rows.py).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import router

from core.links import url_of

from ..models import ChallengeCard, FollowUpAction, Meeting

# Each choice's label, as ChallengeCard.get_status_display and get_disposition_display give it.
_STATUS = dict(ChallengeCard._meta.get_field("status").flatchoices)
_DISPOSITION = dict(ChallengeCard._meta.get_field("disposition").flatchoices)


class CardRef:
    """A card as a link: its id and title (an action's or an update's card)."""

    __slots__ = ("pk", "title")

    def __init__(self, pk: int, title: str) -> None:
        self.pk = pk
        self.title = title

    @property
    def id(self) -> int:
        return self.pk

    def get_absolute_url(self) -> str:
        """ChallengeCard.get_absolute_url, from the URL's parts reversed once (core.links)."""
        before, after = url_of("challenge_cards:card_detail")
        return f"{before}{self.pk}{after}"


class AgencyRef:
    __slots__ = ("pk", "abbreviation")

    def __init__(self, pk: int, abbreviation: str) -> None:
        self.pk = pk
        self.abbreviation = abbreviation


class HomeCard(CardRef):
    """An open card as the home page's lists show it, with selectors.with_flags' flags (rows.card_rows_html,
    selectors.as_items and querysets.is_card_due read it as they read a ChallengeCard)."""

    __slots__ = (
        "due_date",
        "status",
        "agency_rating",
        "omb_rating",
        "disposition",
        "agency",
        "meeting",
        "is_overdue",
        "is_stale",
        "in_page",
    )
    # The columns read, in the order __init__ takes them (after a row's flags: see HOME_CARD_COLUMNS).
    COLUMNS = ("id", "title", "due_date", "status", "agency_rating", "omb_rating", "disposition")

    def __init__(self, row: tuple, agency: AgencyRef, meeting: Meeting, flags: tuple[bool, bool, bool]) -> None:
        self.pk, self.title, self.due_date, self.status, self.agency_rating, self.omb_rating, self.disposition = row
        self.agency = agency
        self.meeting = meeting
        self.is_overdue, self.is_stale, self.in_page = flags

    @property
    def agency_id(self) -> int:
        return self.agency.pk

    @property
    def meeting_id(self) -> int:
        return self.meeting.pk

    def get_status_display(self) -> str:
        return str(_STATUS.get(self.status, self.status))

    def get_disposition_display(self) -> str:
        return str(_DISPOSITION.get(self.disposition, self.disposition))


# What home_reads selects: a card's columns, its agency's and meeting's, and the flags; then the page's total.
HOME_CARD_COLUMNS = (
    *HomeCard.COLUMNS,
    "agency_id",
    "agency__abbreviation",
    "meeting_id",
    "meeting__starts_at",
    "is_overdue",
    "is_stale",
    "in_page",
    "total",
)


def home_cards_of(rows: list[tuple]) -> list[HomeCard]:
    """HomeCards from rows of HOME_CARD_COLUMNS; each agency and meeting made once (a meeting's title and URL
    are the model's own: Meeting.from_db with its id and start)."""
    width = len(HomeCard.COLUMNS)
    db = router.db_for_read(Meeting)
    agencies: dict[int, AgencyRef] = {}
    meetings: dict[int, Meeting] = {}
    cards = []
    for row in rows:
        agency_id, abbreviation, meeting_id, starts_at, *flags = row[width:-1]
        agency = agencies.get(agency_id) or agencies.setdefault(agency_id, AgencyRef(agency_id, abbreviation))
        meeting = meetings.get(meeting_id)
        if meeting is None:
            meeting = meetings[meeting_id] = Meeting.from_db(db, ["id", "starts_at"], [meeting_id, starts_at])
        cards.append(HomeCard(row[:width], agency, meeting, (flags[0], flags[1], flags[2])))
    return cards


class Person:
    """A user as a name (an action's owner, an update's author): AbstractUser's own get_full_name."""

    __slots__ = ("username", "first_name", "last_name")

    def __init__(self, username: str, first_name: str, last_name: str) -> None:
        self.username = username
        self.first_name = first_name
        self.last_name = last_name

    get_full_name = AbstractUser.get_full_name


def person(username: str | None, first_name: str | None, last_name: str | None) -> Person | None:
    """A Person from a LEFT JOINed user's columns; None when there is no user."""
    return None if username is None else Person(username, first_name or "", last_name or "")


class HomeAction:
    """A follow-up action as the home page's lists show it (FollowUpAction.owner_display's own rule)."""

    __slots__ = ("pk", "description", "due_date", "owner_name", "owner", "card")
    COLUMNS = (
        "id",
        "description",
        "due_date",
        "owner_name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
        "card_id",
        "card__title",
    )

    def __init__(self, row: tuple) -> None:
        self.pk, self.description, self.due_date, self.owner_name = row[:4]
        self.owner = person(*row[4:7])
        self.card = CardRef(row[7], row[8])

    @property
    def id(self) -> int:
        return self.pk

    owner_display = FollowUpAction.owner_display


class Certification:
    """A delegate's draft update awaiting the deputy's certification, as the home page lists it."""

    __slots__ = ("pk", "card", "author", "created_at")
    COLUMNS = (
        "id",
        "card_id",
        "card__title",
        "author__username",
        "author__first_name",
        "author__last_name",
        "created_at",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.pk = row[0]
        self.card = CardRef(row[1], row[2])
        self.author = person(*row[3:6])
        self.created_at: datetime.datetime = row[6]
