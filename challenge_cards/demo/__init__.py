"""Demo data for the PMC: the 2021 PMA, the CFO Act agencies, their people, meetings and cards.

Every meeting, card, action and update is written through ``services`` by the person who
would write it (omb.admin issues, deputies and delegates update), so the demo exercises the
same rules as the product. Running it again creates nothing twice: reference data uses
natural keys and a card is only issued where (meeting, agency, title) does not exist yet.

Services stamp ``timezone.now()``. So that the history of past meetings reads as it would
have happened, the rows created by this run for past meetings are re-dated afterwards with
queryset ``update()`` (a demo-only shortcut; the product never rewrites history).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Membership, OmbRole, Role

from .. import services, signals
from ..models import (
    EASTERN,
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
    UpdateKind,
)
from .data import (
    ADMIN_USERNAME,
    CARD_PLANS,
    CFO_ACT_AGENCIES,
    DEFAULT_PASSWORD,
    DELEGATE_TITLES,
    FIRST_NAMES,
    LAST_NAMES,
    LOCATION,
    PRIORITIES,
    SUB_AGENCIES,
    VIEWER_USERNAME,
    ActionPlan,
    CardPlan,
)


@dataclass
class Context:
    admin: object
    people: dict[str, tuple[object, object]]  # abbreviation -> (deputy, delegate)
    meetings: list[Meeting]
    now: datetime.datetime
    new_card_ids: list[int] = field(default_factory=list)


# --- reference data -------------------------------------------------------------------


def seed_pma() -> dict[int, PmaPriority]:
    priorities = {}
    for number, title, short, description, strategies in PRIORITIES:
        priority, _ = PmaPriority.objects.get_or_create(
            number=number, defaults={"title": title, "short_title": short, "description": description}
        )
        priorities[number] = priority
        for index, strategy in enumerate(strategies, start=1):
            PmaStrategy.objects.get_or_create(priority=priority, number=index, defaults={"title": strategy})
    return priorities


def seed_agencies() -> dict[str, Agency]:
    agencies = {}
    for name, abbreviation, _title, hisp in CFO_ACT_AGENCIES:
        agencies[abbreviation], _ = Agency.objects.get_or_create(
            abbreviation=abbreviation, defaults={"name": name, "cfo_act": True, "hisp": hisp}
        )
    for name, abbreviation, parent, hisp in SUB_AGENCIES:
        agencies[abbreviation], _ = Agency.objects.get_or_create(
            abbreviation=abbreviation, defaults={"name": name, "parent": agencies[parent], "hisp": hisp}
        )
    return agencies


def _user(username: str, first: str, last: str, password_hash: str, *, is_staff: bool = False):
    user, _ = get_user_model().objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.gov",
            "password": password_hash,
            "is_staff": is_staff,
        },
    )
    return user


def _member(user, agency: Agency, role: str, title: str) -> None:
    if not Membership.objects.current().filter(user=user, agency=agency).exists():
        Membership.objects.create(user=user, agency=agency, role=role, title=title)


def seed_people(agencies: dict[str, Agency], password: str) -> tuple[object, dict[str, tuple[object, object]]]:
    """OMB's admin and viewer, and a deputy secretary and a delegate for every CFO Act agency.

    One password hash serves every demo account: hashing 50 passwords would take most of a minute.
    """
    password_hash = make_password(password)
    admin = _user(ADMIN_USERNAME, "Olivia", "Marchetti", password_hash, is_staff=True)
    OmbRole.objects.get_or_create(user=admin, defaults={"kind": OmbRole.Kind.ADMIN})
    viewer = _user(VIEWER_USERNAME, "Owen", "Battle", password_hash)
    OmbRole.objects.get_or_create(user=viewer, defaults={"kind": OmbRole.Kind.VIEWER})
    people = {}
    for index, (_name, abbreviation, title, _hisp) in enumerate(CFO_ACT_AGENCIES):
        slug = abbreviation.lower()
        deputy = _user(f"deputy.{slug}", FIRST_NAMES[index], LAST_NAMES[index], password_hash)
        delegate = _user(f"delegate.{slug}", FIRST_NAMES[-index - 1], LAST_NAMES[-index - 1], password_hash)
        _member(deputy, agencies[abbreviation], Role.DEPUTY_SECRETARY, title)
        _member(delegate, agencies[abbreviation], Role.DELEGATE, DELEGATE_TITLES[index % len(DELEGATE_TITLES)])
        people[abbreviation] = (deputy, delegate)
    return admin, people


# --- meetings -------------------------------------------------------------------------


def _second_tuesday(year: int, month: int) -> datetime.datetime:
    first = datetime.date(year, month, 1)
    day = first + datetime.timedelta(days=(1 - first.weekday()) % 7 + 7)
    return datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=EASTERN)


def meeting_times(now: datetime.datetime) -> list[datetime.datetime]:
    """Three past monthly meetings (second Tuesday, 10:00 Eastern) and the next one."""
    local = now.astimezone(EASTERN)
    year, month = local.year, local.month - 3
    while month < 1:
        year, month = year - 1, month + 12
    times = [_second_tuesday(year, month)]
    while len(times) < 5:
        times.append(services.next_monthly_start(times[-1]))
    # The first of these five starting after now is the next meeting.
    upcoming = next(i for i, start in enumerate(times) if start > now)
    return times[upcoming - 3 : upcoming + 1]


def seed_meetings(admin, now: datetime.datetime) -> list[Meeting]:
    meetings = []
    for starts_at in meeting_times(now):
        meeting = Meeting.objects.exclude(status=Meeting.Status.CANCELLED).filter(starts_at=starts_at).first()
        if meeting is None:
            meeting = services.meeting_schedule(
                actor=admin,
                starts_at=starts_at,
                location=LOCATION,
                agenda_notes="Review of last month's challenge cards; new cards for the month ahead.",
            )
        if meeting.status == Meeting.Status.SCHEDULED and meeting.starts_at < now:
            meeting = services.meeting_mark_held(actor=admin, meeting=meeting)
        meetings.append(meeting)
    return meetings


# --- cards and their history ----------------------------------------------------------


def _meeting_date(ctx: Context, index: int) -> datetime.date:
    if index < len(ctx.meetings):
        return ctx.meetings[index].starts_at.astimezone(EASTERN).date()
    return services.next_monthly_start(ctx.meetings[-1].starts_at).astimezone(EASTERN).date()


def _owner(ctx: Context, plan: ActionPlan, abbreviation: str):
    deputy, delegate = ctx.people[abbreviation]
    return {"deputy": deputy, "delegate": delegate, "omb": ctx.admin}.get(plan.owner)


def _metric_step(card: ChallengeCard, share: str) -> Decimal | None:
    if card.metric_baseline is None or card.metric_target is None:
        return None
    value = card.metric_baseline + (card.metric_target - card.metric_baseline) * Decimal(share)
    return value.quantize(Decimal("0.01"))


def _story(ctx: Context, card: ChallengeCard, plan: CardPlan, rng: random.Random) -> None:
    """Follow-up actions and a month of updates, as the agency and OMB would write them."""
    abbreviation = card.agency.abbreviation
    deputy, delegate = ctx.people[abbreviation]
    meeting_date = _meeting_date(ctx, plan.meeting)
    actions = [
        services.action_add(
            actor=ctx.admin,
            card=card,
            description=action.description,
            owner=_owner(ctx, action, abbreviation),
            owner_name=action.owner_name,
            owned_by=action.side,
            due_date=meeting_date + datetime.timedelta(days=action.due_in_days),
        )
        for action in plan.actions
    ]
    if plan.meeting == 3:
        return
    outcome = rng.choices(["quiet", "progress", "at_risk", "done"], weights=[1, 4, 2, 3 - plan.meeting])[0]
    if outcome == "quiet":
        return
    author = rng.choice([deputy, delegate])
    services.card_update(
        actor=author,
        card=card,
        expected_version=None,
        status=CardStatus.IN_PROGRESS,
        agency_rating=Rating.GREEN,
        metric_value=_metric_step(card, "0.4") if card.has_metric else services.UNSET,
        note="Work is under way; the team meets weekly on this card.",
    )
    if actions and actions[0].owned_by == ActionOwnerSide.AGENCY:
        services.action_complete(actor=author, action=actions[0], expected_version=None, note="Done.")
    if outcome == "at_risk":
        services.card_update(
            actor=rng.choice([deputy, delegate]),
            card=card,
            expected_version=None,
            status=CardStatus.AT_RISK,
            agency_rating=Rating.YELLOW,
            note=plan.risk_note,
        )
        services.card_review(
            actor=ctx.admin,
            card=card,
            expected_version=None,
            omb_rating=rng.choice([Rating.YELLOW, Rating.RED]),
            note="OMB will raise this at the next meeting.",
        )
        if plan.meeting == 0:
            services.card_carry_over(
                actor=ctx.admin,
                card=card,
                expected_version=None,
                reason="At risk at the meeting; the deputy secretary asked for another month.",
                to_meeting=ctx.meetings[1],
                due_date=_meeting_date(ctx, 2),
            )
    elif outcome == "done":
        services.card_update(
            actor=deputy,
            card=card,
            expected_version=None,
            status=CardStatus.DONE,
            metric_value=card.metric_target if card.has_metric else services.UNSET,
            note="Done. The evidence is in the agency's monthly report.",
        )
        for action in actions[1:]:
            actor = ctx.admin if action.owned_by == ActionOwnerSide.OMB else author
            services.action_complete(actor=actor, action=action, expected_version=None)
        if plan.meeting < 2:
            services.card_review(
                actor=ctx.admin,
                card=card,
                expected_version=None,
                omb_rating=Rating.GREEN,
                disposition=Disposition.ACCEPTED,
                note="Accepted at the meeting.",
            )


def seed_cards(ctx: Context, priorities: dict[int, PmaPriority], agencies: dict[str, Agency]) -> None:
    strategies: dict[tuple[int, int | None], PmaStrategy] = {
        (s.priority.number, s.number): s for s in PmaStrategy.objects.select_related("priority")
    }
    for plan in CARD_PLANS:
        meeting = ctx.meetings[plan.meeting]
        existing = ChallengeCard.objects.filter(meeting=meeting, title=plan.title)
        taken = set(existing.values_list("agency__abbreviation", flat=True))
        targets = [agencies[abbreviation] for abbreviation in plan.agencies if abbreviation not in taken]
        if not targets:
            continue
        name, unit, baseline, target = plan.metric or ("", "", None, None)
        due = _meeting_date(ctx, plan.meeting + 1) if plan.horizon == Horizon.MONTH else None
        with transaction.atomic():
            cards = services.card_issue(
                actor=ctx.admin,
                meeting=meeting,
                agencies=targets,
                title=plan.title,
                ask=plan.ask,
                priority=priorities[plan.priority],
                strategy=strategies.get((plan.priority, plan.strategy)),
                horizon=plan.horizon,
                due_date=due or _meeting_date(ctx, plan.meeting) + datetime.timedelta(days=365),
                metric_name=name,
                metric_unit=unit,
                metric_baseline=Decimal(baseline) if baseline is not None else None,
                metric_target=Decimal(target) if target is not None else None,
            )
            for card in cards:
                _story(ctx, card, plan, random.Random(f"{card.agency.abbreviation}/{plan.title}"))
                ctx.new_card_ids.append(card.pk)
            ctx.new_card_ids.extend(
                ChallengeCard.objects.filter(carried_over_from__in=cards).values_list("pk", flat=True)
            )


def backdate(ctx: Context) -> None:
    """Move this run's rows for past meetings to the weeks after their meeting (see the module docstring)."""
    starts = [meeting.starts_at for meeting in ctx.meetings]
    cards = ChallengeCard.objects.filter(pk__in=ctx.new_card_ids, meeting__starts_at__lt=ctx.now).select_related(
        "meeting"
    )
    for card in cards:
        issued = card.meeting.starts_at + datetime.timedelta(hours=2)
        later = [start for start in starts if start > card.meeting.starts_at]
        end = min(ctx.now - datetime.timedelta(hours=1), (later[0] if later else ctx.now) - datetime.timedelta(days=1))
        ChallengeCard.objects.filter(pk=card.pk).update(issued_at=issued)
        FollowUpAction.objects.filter(card_id=card.pk).update(created_at=issued)
        updates = list(card.updates.order_by("id").values_list("pk", "kind", "changes"))
        # Issuing and adding the actions happen at the meeting; the rest spreads over the month.
        opening = [u for u in updates if u[1] == UpdateKind.ISSUED or u[2].get("status", [0])[0] is None]
        step = (end - issued) / (len(updates) - len(opening) + 1)
        spread = 0
        last_agency = None
        for pk, kind, changes in updates:
            if (pk, kind, changes) in opening:
                at = issued + datetime.timedelta(minutes=opening.index((pk, kind, changes)))
            else:
                spread += 1
                at = issued + step * spread
            CardUpdate.objects.filter(pk=pk).update(created_at=at)
            if kind == UpdateKind.UPDATE:
                last_agency = at
            if kind == UpdateKind.ACTION and changes.get("status", [None, None])[1] == ActionStatus.DONE:
                FollowUpAction.objects.filter(pk=changes["action"][1], status=ActionStatus.DONE).update(completed_at=at)
        if last_agency:
            ChallengeCard.objects.filter(pk=card.pk).update(last_agency_update_at=last_agency)


def seed(*, password: str = DEFAULT_PASSWORD) -> dict[str, int]:
    """Build (or complete) the small demo. Returns the row counts."""
    now = timezone.now()
    priorities = seed_pma()
    agencies = seed_agencies()
    admin, people = seed_people(agencies, password)
    meetings = seed_meetings(admin, now)
    ctx = Context(admin=admin, people=people, meetings=meetings, now=now)
    seed_cards(ctx, priorities, agencies)
    with transaction.atomic():
        backdate(ctx)
    # Apps above the domain add their demo rows (council: the "Pooled hiring: 400 hires" initiative).
    signals.demo_seeded.send(sender=Meeting, admin=admin, meetings=meetings)
    return counts()


def counts() -> dict[str, int]:
    return {
        "agencies": Agency.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "OMB roles": OmbRole.objects.count(),
        "PMA priorities": PmaPriority.objects.count(),
        "PMA strategies": PmaStrategy.objects.count(),
        "meetings": Meeting.objects.count(),
        "cards": ChallengeCard.objects.count(),
        "follow-up actions": FollowUpAction.objects.count(),
        "card updates": CardUpdate.objects.count(),
    }
