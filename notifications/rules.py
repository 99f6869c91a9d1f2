"""Who is told what, and when: business days, due reminders and recipients.

Pure reads; the services (services/reminders.py, services/events.py) turn their answers into
Notification rows, and emails.py reads them again when it renders.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import holidays
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from agencies.models import Membership, OmbRole, Role
from challenge_cards.models import EASTERN, ChallengeCard, Meeting

from .models import Preference, ReminderRule, Rule


@lru_cache(maxsize=64)
def _federal_holidays(year: int) -> holidays.HolidayBase:
    # The US federal calendar (no state, so no state-only days such as the day after Thanksgiving), with the
    # `government` category: the extra closures of federal offices by executive order (2025-12-24, ...).
    return holidays.country_holidays("US", years=year, categories=(holidays.PUBLIC, holidays.GOVERNMENT))


def is_business_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def business_days_before(day: datetime.date, count: int) -> datetime.date:
    """The business day ``count`` business days before ``day``."""
    current = day
    remaining = count
    while remaining:
        current -= datetime.timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def meeting_date(meeting: Meeting) -> datetime.date:
    return meeting.starts_at.astimezone(EASTERN).date()


def occurrence_for(offset: int, meeting: Meeting) -> str:
    """The key of one reminder: which offset, before which meeting date (a moved meeting gets new ones)."""
    return f"{offset}bd:{meeting_date(meeting).isoformat()}"


@dataclass(frozen=True)
class DueReminder:
    rule: str
    offset: int
    meeting: Meeting
    send_on: datetime.date

    @property
    def occurrence(self) -> str:
        return occurrence_for(self.offset, self.meeting)


def due_reminders(now: datetime.datetime, send_time: datetime.time) -> list[DueReminder]:
    """For each upcoming meeting and rule, the reminder due now: the closest offset whose send time has come.

    Only the closest is due, so a scan that missed a day sends one reminder, not two.
    """
    local_now = now.astimezone(EASTERN)
    offsets: dict[str, list[int]] = {}
    for rule, offset in ReminderRule.objects.filter(active=True).values_list("rule", "business_days_before"):
        offsets.setdefault(rule, []).append(offset)
    if not offsets:
        return []
    longest = max(max(values) for values in offsets.values())
    horizon = now + datetime.timedelta(days=longest * 2 + 14)
    due: list[DueReminder] = []
    for meeting in Meeting.objects.upcoming(now).filter(starts_at__lte=horizon):
        day = meeting_date(meeting)
        for rule, values in offsets.items():
            for offset in sorted(values):
                send_on = business_days_before(day, offset)
                if local_now >= datetime.datetime.combine(send_on, send_time, tzinfo=EASTERN):
                    due.append(DueReminder(rule=rule, offset=offset, meeting=meeting, send_on=send_on))
                    break
    return due


def business_days_left(today: datetime.date, day: datetime.date) -> int:
    """Business days from today up to the meeting day (today counted, the meeting day not): what a reminder
    sent today says, so one sent late says the true number (business_days_before's inverse)."""
    count = 0
    current = today
    while current < day:
        count += is_business_day(current)
        current += datetime.timedelta(days=1)
    return count


def open_cards_of(agency_ids: Collection[int]):
    """The agencies' open cards and those of their sub-agencies (IRS under Treasury)."""
    ids = list(agency_ids)
    return ChallengeCard.objects.open().filter(Q(agency_id__in=ids) | Q(agency__parent_id__in=ids))


def stale_cards_for(meeting: Meeting, *, last: Meeting | None | Literal[False] = False):
    """Open cards the agency has not updated since they were issued or since the meeting before this one
    (`last`, when the caller has looked it up already), whichever is later: the queryset's needs_update rule."""
    previous: Meeting | None = Meeting.objects.previous_to(meeting) if last is False else last
    return ChallengeCard.objects.needs_update(previous.starts_at if previous is not None else None)


def agency_people(agency_ids, roles=(Role.DEPUTY_SECRETARY, Role.DELEGATE)) -> dict[int, list[tuple[int, str]]]:
    """agency id → [(user id, role)] of current deputy secretaries and delegates with an active account."""
    people: dict[int, list[tuple[int, str]]] = {}
    rows = (
        Membership.objects.current()
        .filter(agency_id__in=agency_ids, role__in=roles, user__is_active=True)
        .values_list("agency_id", "user_id", "role")
        .order_by("agency_id", "role", "user_id")
    )
    for agency_id, user_id, role in rows:
        people.setdefault(agency_id, []).append((user_id, role))
    return people


def omb_admin_ids() -> list[int]:
    return list(
        OmbRole.objects.filter(kind=OmbRole.Kind.ADMIN, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def meeting_invitee_ids() -> list[int]:
    """Who a meeting invites: the OMB admins, and every agency's deputy secretary and delegates (active accounts)."""
    members = Membership.objects.current().filter(role__in=(Role.DEPUTY_SECRETARY, Role.DELEGATE), user__is_active=True)
    return sorted(set(omb_admin_ids()) | set(members.values_list("user_id", flat=True)))


def is_essential(rule: str, role: str | None) -> bool:
    """Reminders before a meeting cannot be switched off by deputy secretaries."""
    return rule == Rule.MEETING_REMINDER and role == Role.DEPUTY_SECRETARY


def switched_off(rule: str, user_ids) -> set[int]:
    """Of these users, those who switched this rule off."""
    return set(
        Preference.objects.filter(rule=rule, enabled=False, user_id__in=list(user_ids)).values_list(
            "user_id", flat=True
        )
    )


def is_switched_off(rule: str, user: F | int) -> Exists:
    """switched_off for one user, as an expression (``user``: the user's id, OuterRef or value)."""
    return Exists(Preference.objects.filter(rule=rule, enabled=False, user_id=user))


def gets_digest(user: F | int) -> Coalesce:
    """Whether the user gets a daily digest instead of one e-mail per event: as they chose, and OMB admins who
    did not choose otherwise (the default for them). ``user``: the user's id, as an expression."""
    chosen = Preference.objects.filter(rule=Rule.DAILY_DIGEST, user_id=user).values("enabled")
    admin = Exists(OmbRole.objects.filter(kind=OmbRole.Kind.ADMIN, user_id=user))
    return Coalesce(Subquery(chosen), admin, output_field=BooleanField())


def digest_user_ids(user_ids) -> set[int]:
    """Of these users, those who get a daily digest (gets_digest), in one query."""
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    users = get_user_model().objects.filter(pk__in=user_ids).alias(digest=gets_digest(OuterRef("pk")))
    return set(users.filter(digest=True).values_list("pk", flat=True))
