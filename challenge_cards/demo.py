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

from . import services
from .models import (
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

DEFAULT_PASSWORD = "pmc-demo-password"
ADMIN_USERNAME = "omb.admin"
VIEWER_USERNAME = "omb.viewer"
LOCATION = "Eisenhower Executive Office Building, Room 430"

# (number, title, short title, description, strategies)
PRIORITIES = [
    (
        1,
        "Strengthening and empowering the federal workforce",
        "Workforce",
        "Attract, hire, develop and keep the talent the government needs.",
        [
            "Attract and hire the most qualified employees who reflect the diversity of our country",
            "Make every federal job a good job",
            "Reimagine and build a roadmap to the future of federal work",
            "Build the personnel system and support required to sustain the federal government as a model employer",
        ],
    ),
    (
        2,
        "Delivering excellent, equitable and secure federal services and customer experience",
        "Services and CX",
        "Improve the customer experience (CX) of the public's most important services.",
        [
            "Improve the service design, digital products and customer experience of high-impact service providers",
            "Design and deliver services around key life experiences",
            "Identify and build shared federal products, services and standards",
        ],
    ),
    (
        3,
        "Managing the business of government",
        "Business of government",
        "Grants, acquisition and financial management that serve the public.",
        [
            "Use the federal marketplace to support sustainable, domestic and equitable supply chains",
            "Build an equitable and effective federal grants process",
            "Strengthen federal financial management",
        ],
    ),
]

# (name, abbreviation, deputy's title, HISP)
CFO_ACT_AGENCIES = [
    ("Department of Agriculture", "USDA", "Deputy Secretary of Agriculture", True),
    ("Department of Commerce", "DOC", "Deputy Secretary of Commerce", False),
    ("Department of Defense", "DOD", "Deputy Secretary of Defense", False),
    ("Department of Education", "ED", "Deputy Secretary of Education", True),
    ("Department of Energy", "DOE", "Deputy Secretary of Energy", False),
    ("Department of Health and Human Services", "HHS", "Deputy Secretary of Health and Human Services", True),
    ("Department of Homeland Security", "DHS", "Deputy Secretary of Homeland Security", True),
    ("Department of Housing and Urban Development", "HUD", "Deputy Secretary of Housing and Urban Development", False),
    ("Department of the Interior", "DOI", "Deputy Secretary of the Interior", True),
    ("Department of Justice", "DOJ", "Deputy Attorney General", False),
    ("Department of Labor", "DOL", "Deputy Secretary of Labor", True),
    ("Department of State", "STATE", "Deputy Secretary of State for Management and Resources", True),
    ("Department of Transportation", "DOT", "Deputy Secretary of Transportation", False),
    ("Department of the Treasury", "TREASURY", "Deputy Secretary of the Treasury", True),
    ("Department of Veterans Affairs", "VA", "Deputy Secretary of Veterans Affairs", True),
    ("Environmental Protection Agency", "EPA", "Deputy Administrator", False),
    ("National Aeronautics and Space Administration", "NASA", "Deputy Administrator", False),
    ("National Science Foundation", "NSF", "Chief Operating Officer", False),
    ("Nuclear Regulatory Commission", "NRC", "Executive Director for Operations", False),
    ("Office of Personnel Management", "OPM", "Director", True),
    ("Small Business Administration", "SBA", "Deputy Administrator", True),
    ("Social Security Administration", "SSA", "Deputy Commissioner", True),
    ("General Services Administration", "GSA", "Administrator", False),
    ("U.S. Agency for International Development", "USAID", "Deputy Administrator", False),
]

# (name, abbreviation, parent's abbreviation, HISP)
SUB_AGENCIES = [
    ("Internal Revenue Service", "IRS", "TREASURY", True),
    ("Community Development Financial Institutions Fund", "CDFI", "TREASURY", True),
    ("Indian Health Service", "IHS", "HHS", True),
    ("Defense Counterintelligence and Security Agency", "DCSA", "DOD", True),
    ("International Trade Administration", "ITA", "DOC", True),
]

FIRST_NAMES = [
    "Alicia", "Marcus", "Priya", "Daniel", "Grace", "Tomas", "Naomi", "Victor", "Helen", "Samuel", "Leah", "Omar",
    "Rachel", "Kevin", "Maria", "Jonah", "Celeste", "Andre", "Fiona", "Raymond", "Irene", "Malik", "Teresa", "Gavin",
    "Denise", "Hector", "Yvonne", "Brandon", "Ingrid", "Curtis", "Monique", "Felix", "Rosa", "Desmond", "Paula",
    "Wesley", "Carmen", "Elliot", "Bianca", "Trevor", "Lorraine", "Martin", "Sonia", "Preston", "Audrey", "Reggie",
    "Nadia", "Quentin", "Joan", "Ramon",
]  # fmt: skip
LAST_NAMES = [
    "Alvarez", "Bennett", "Chandra", "Dawson", "Ellison", "Fuentes", "Garrison", "Hollis", "Iverson", "Jimenez",
    "Kowalski", "Lindqvist", "Marsh", "Nakamura", "Okafor", "Pritchard", "Quinlan", "Rosales", "Sutherland",
    "Thibodeaux", "Underwood", "Valdez", "Whitfield", "Yamamoto", "Zimmerman", "Abernathy", "Brennan", "Castillo",
    "Delgado", "Everett", "Fairbanks", "Greer", "Haddad", "Ibarra", "Jorgensen", "Kincaid", "Lowell", "McAllister",
    "Novak", "Osei", "Pemberton", "Ramsey", "Salazar", "Tran", "Vance", "Whitaker", "Xiong", "Youngblood", "Zeller",
    "Ashford",
]  # fmt: skip
DELEGATE_TITLES = ["Chief of Staff", "Performance Improvement Officer", "Chief Customer Experience Officer"]

ALL_CFO = tuple(abbr for _, abbr, _, _ in CFO_ACT_AGENCIES)
TEN_CX = ("HHS", "DHS", "VA", "SSA", "TREASURY", "USDA", "ED", "DOI", "SBA", "STATE")


@dataclass(frozen=True)
class ActionPlan:
    description: str
    side: str = ActionOwnerSide.AGENCY
    owner: str = "delegate"  # deputy, delegate, omb, or "" for owner_name only
    owner_name: str = ""
    due_in_days: int = 14


@dataclass(frozen=True)
class CardPlan:
    meeting: int  # 0, 1, 2: past meetings, oldest first; 3: the next meeting
    title: str
    ask: str
    priority: int
    strategy: int | None
    agencies: tuple[str, ...]
    horizon: str = Horizon.MONTH
    metric: tuple[str, str, str, str] | None = None  # name, unit, baseline, target
    actions: tuple[ActionPlan, ...] = ()
    risk_note: str = "Behind plan: we need OMB's help to clear a blocker."


CARD_PLANS = [
    CardPlan(
        0,
        "Join a government-wide pooled hiring action",
        "Join at least one of OPM's pooled hiring actions this quarter (data scientists, HR specialists or IT "
        "specialists) and hire from the shared certificate instead of posting your own announcement.",
        1,
        1,
        ALL_CFO,
        metric=("People hired from pooled hiring certificates", "people", "0", "12"),
        actions=(
            ActionPlan("Name a hiring manager to join the pooled action", owner="deputy", due_in_days=10),
            ActionPlan(
                "Share the pooled certificate with the agency",
                side=ActionOwnerSide.OMB,
                owner="",
                owner_name="OPM Pooled Hiring Team",
                due_in_days=14,
            ),
            ActionPlan("Report the hires made from the certificate", due_in_days=28),
        ),
        risk_note="Our HR office has not yet agreed to use the shared certificate; hiring managers want their own.",
    ),
    CardPlan(
        0,
        "Ramp up customer experience (CX) capacity",
        "Name a senior accountable CX executive and staff a CX team of at least five people for your "
        "high-impact services, with a budget line for FY2025.",
        2,
        1,
        TEN_CX,
        horizon=Horizon.YEAR,
        actions=(
            ActionPlan("Name the senior accountable CX executive", owner="deputy", due_in_days=21),
            ActionPlan(
                "Send the CX team position descriptions to OMB for review",
                side=ActionOwnerSide.OMB,
                owner="omb",
                due_in_days=30,
            ),
        ),
        risk_note="The CX team positions are caught in the hiring freeze exception process.",
    ),
    CardPlan(
        1,
        "Set an in-person presence of at least 50% for headquarters roles",
        "Set and publish a policy that headquarters staff work in person at least half of their time, and "
        "report the share of staff who meet it each month.",
        1,
        3,
        ALL_CFO,
        horizon=Horizon.YEAR,
        metric=("Headquarters staff in person at least half the time", "%", "35", "50"),
        actions=(
            ActionPlan("Publish the headquarters presence policy", owner="deputy", due_in_days=14),
            ActionPlan("Report badge-in data for the month", due_in_days=28),
        ),
        risk_note="Space consolidation leaves too few desks at headquarters for 50% presence until spring.",
    ),
    CardPlan(
        2,
        "Cut IRS phone wait times from 28 minutes to 3",
        "Bring the average wait on the IRS main taxpayer phone lines down from 28 minutes to 3 minutes by the "
        "filing season, and report the weekly average.",
        2,
        1,
        ("TREASURY",),
        horizon=Horizon.YEAR,
        metric=("Average phone wait time", "minutes", "28", "3"),
        actions=(
            ActionPlan("Staff the new callback service for the filing season", due_in_days=20),
            ActionPlan(
                "Approve the customer service representative hiring exception",
                side=ActionOwnerSide.OMB,
                owner="omb",
                due_in_days=7,
            ),
        ),
    ),
    CardPlan(
        2,
        "Raise customer satisfaction by 5%",
        "Raise the customer satisfaction score of your high-impact services by 5% over two years, measured by "
        "the standard post-transaction survey.",
        2,
        1,
        ("VA", "SSA", "SBA", "OPM", "USDA", "DHS"),
        horizon=Horizon.YEAR,
        metric=("Customer satisfaction score", "points", "72", "75.6"),
        actions=(ActionPlan("Publish the quarterly survey results on performance.gov", due_in_days=30),),
    ),
    CardPlan(
        2,
        "Stand up the newly designated high-impact service provider",
        "Your bureau is one of the four new high-impact service providers (IHS, CDFI Fund, DCSA, ITA): name "
        "an accountable executive and send OMB a first CX action plan.",
        2,
        1,
        ("HHS", "TREASURY", "DOD", "DOC"),
        actions=(
            ActionPlan("Name the bureau's accountable CX executive", owner="deputy", due_in_days=14),
            ActionPlan("Hold the HISP onboarding session", side=ActionOwnerSide.OMB, owner="omb", due_in_days=21),
        ),
    ),
    CardPlan(
        3,
        "Close out grants past their end date",
        "Close out every grant award more than 120 days past its period of performance and report the "
        "remaining balance to OMB.",
        3,
        2,
        ("HHS", "ED", "DOJ", "HUD", "USDA", "DOT"),
        metric=("Grants past end date not closed out", "awards", "240", "0"),
        actions=(ActionPlan("Send the list of late close-outs to OMB", due_in_days=20),),
    ),
    CardPlan(
        3,
        "Resolve open financial-audit findings",
        "Resolve the material weaknesses from last year's financial statement audit or send OMB a dated "
        "corrective action plan for each.",
        3,
        3,
        ("DHS", "DOD", "HUD"),
        horizon=Horizon.YEAR,
        actions=(ActionPlan("Send the corrective action plans to OMB", owner="deputy", due_in_days=30),),
    ),
]


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
    strategies = {(s.priority.number, s.number): s for s in PmaStrategy.objects.select_related("priority")}
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
        later = 0
        last_agency = None
        for pk, kind, changes in updates:
            if (pk, kind, changes) in opening:
                at = issued + datetime.timedelta(minutes=opening.index((pk, kind, changes)))
            else:
                later += 1
                at = issued + step * later
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
