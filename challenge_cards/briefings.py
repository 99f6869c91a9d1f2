"""The briefing packet's data, gathered before the meeting in a fixed number of queries, and its PDF.

GAO found that reviews work when the data is collected before the meeting and put into
its materials. ``packet_data`` assembles, for a meeting, every open card on its agenda
(cards issued at earlier meetings and still open, plus cards carried over to it) with
status, both ratings, what changed since the last meeting, overdue follow-up actions,
the metric's trend and how many times it was carried over; by agency and overall.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone

from agencies.models import Agency

from . import trends
from .models import (
    CardStatus,
    CardUpdate,
    Certification,
    ChallengeCard,
    FollowUpAction,
    InterimTarget,
    Meeting,
    Rating,
    UpdateKind,
)
from .querysets import ChallengeCardQuerySet, card_is_overdue


@dataclass
class CardBrief:
    card: ChallengeCard
    changes: list[CardUpdate]
    overdue_actions: list[FollowUpAction]
    trend: trends.Trend
    is_overdue: bool

    @property
    def chart_id(self) -> str:
        return f"trend-{self.card.pk}"


@dataclass
class AgencySection:
    agency: Agency
    cards: list[CardBrief] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return _counts(self.cards)


@dataclass
class Packet:
    meeting: Meeting
    last_meeting: Meeting | None
    as_of: datetime.date
    generated_at: datetime.datetime
    sections: list[AgencySection]

    @property
    def cards(self) -> list[CardBrief]:
        return [brief for section in self.sections for brief in section.cards]

    @property
    def counts(self) -> Counter:
        return _counts(self.cards)


def _counts(cards: list[CardBrief]) -> Counter:
    """The overall figures at the top of the packet and of each agency's section."""
    counts: Counter = Counter()
    for brief in cards:
        card = brief.card
        counts["cards"] += 1
        counts[f"status_{card.status}"] += 1
        counts[f"omb_{card.omb_rating or 'none'}"] += 1
        counts[f"agency_{card.agency_rating or 'none'}"] += 1
        counts["overdue"] += brief.is_overdue
        counts["overdue_actions"] += len(brief.overdue_actions)
        counts["carried_over"] += card.carry_count > 0
        counts["behind_pace"] += brief.trend.pace == trends.BEHIND
        counts["no_update_since_last_meeting"] += not brief.changes
    counts["at_risk_or_blocked"] = counts[f"status_{CardStatus.AT_RISK}"] + counts[f"status_{CardStatus.BLOCKED}"]
    return counts


def agenda_cards(user, meeting: Meeting) -> ChallengeCardQuerySet:
    """The open cards this meeting looks at: issued at earlier meetings, or carried over to this one."""
    return ChallengeCard.objects.visible_to(user).on_agenda_of(meeting)


def agenda_agencies(user, meeting: Meeting):
    """The agencies with open cards on the meeting's agenda, in the packet's order (one query)."""
    return Agency.objects.filter(pk__in=agenda_cards(user, meeting).values("agency_id")).order_by("name", "pk")


def _briefs(cards: ChallengeCardQuerySet, *, since: datetime.datetime | None, as_of: datetime.date) -> list[CardBrief]:
    """The cards with their history, overdue actions and trend: four queries whatever their number."""
    # Drafts awaiting certification are not applied to the card: the packet leaves them out for everyone.
    history = CardUpdate.objects.exclude(certification=Certification.PENDING).select_related("author", "on_behalf_of")
    cards = (
        cards.with_related()
        .prefetch_related(
            Prefetch("updates", queryset=history.order_by("created_at", "id"), to_attr="history"),
            Prefetch(
                "actions",
                queryset=FollowUpAction.objects.overdue(as_of).select_related("owner").order_by("due_date", "id"),
                to_attr="overdue_action_list",
            ),
            Prefetch("interim_targets", queryset=InterimTarget.objects.order_by("date"), to_attr="interim_list"),
        )
        .order_by("agency__name", "due_date", "id")
    )
    return [
        CardBrief(
            card=card,
            changes=[
                update
                for update in card.history
                if (since is None or update.created_at >= since) and update.kind != UpdateKind.ISSUED
            ],
            overdue_actions=card.overdue_action_list,
            trend=trends.trend_for(card, card.history, card.interim_list, as_of=as_of),
            is_overdue=card_is_overdue(card, as_of),
        )
        for card in cards
    ]


def packet_data(user, meeting: Meeting, *, agency: Agency | None = None, as_of: datetime.date | None = None) -> Packet:
    """Everything the packet shows, in six queries whatever the number of agencies, cards and updates."""
    as_of = as_of or timezone.localdate()
    last = Meeting.objects.previous_to(meeting)
    cards = agenda_cards(user, meeting)
    if agency is not None:
        cards = cards.filter(Q(agency=agency) | Q(agency__parent=agency))
    sections: dict[int, AgencySection] = {}
    for brief in _briefs(cards, since=last.starts_at if last else None, as_of=as_of):
        sections.setdefault(brief.card.agency_id, AgencySection(agency=brief.card.agency)).cards.append(brief)
    return Packet(
        meeting=meeting,
        last_meeting=last,
        as_of=as_of,
        generated_at=timezone.now(),
        sections=list(sections.values()),
    )


RATINGS = [(value, label) for value, label in Rating.choices]


def render_agency_brief_html(packet: Packet, *, agency: Agency, base_url: str = "") -> str:
    """The one-page brief for an agency's deputy secretary, as standalone HTML for the PDF."""
    return render_to_string(
        "challenge_cards/meeting_prep/agency_brief_pdf.html",
        {"packet": packet, "agency": agency, "meeting": packet.meeting, "base_url": base_url},
    )


def render_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1: structure tags, document language and title) for screen readers."""
    from core.pdf_render import render_tagged_pdf

    pdf = render_tagged_pdf(html)
    assert pdf is not None
    return pdf


Progress = Callable[[int, int, str], None]
_AGENCIES_FOR_CHILDREN = 4


def write_packet_pdf(
    user,
    meeting: Meeting,
    output: IO[bytes],
    *,
    base_url: str = "",
    progress: Progress | None = None,
    processes: int | None = None,
) -> int:
    """The packet's PDF written to ``output``, one agency at a time; returns the number of cards.

    Each agency's section is read (five queries) and its HTML written to a file here, laid out by
    WeasyPrint to a PDF of its own in one of ``processes`` child processes (settings.
    BRIEFING_PACKET_PROCESSES; 0: here), and joined into ``output`` in order as soon as it is done
    (core.pdf, which keeps the tags, the language and the bookmarks). Memory is that of the largest
    agency in each process, not of the packet; a few agencies are in flight at once. The cover's
    overall figures are added up on the way and rendered last, then placed first.
    ``progress(done, total, note)`` is called before each agency and before the cover.
    """
    from django.conf import settings

    from core.pdf import TaggedPdfJoiner
    from core.pdf_render import Renderers

    packet = Packet(meeting, Meeting.objects.previous_to(meeting), timezone.localdate(), timezone.now(), [])
    since = packet.last_meeting.starts_at if packet.last_meeting else None
    agencies = list(agenda_agencies(user, meeting))
    counts: Counter = Counter()
    joiner = TaggedPdfJoiner(output)
    context = {"packet": packet, "base_url": base_url, "ratings": RATINGS, "statuses": CardStatus.choices}
    processes = settings.BRIEFING_PACKET_PROCESSES if processes is None else processes
    if len(agencies) < _AGENCIES_FOR_CHILDREN:
        processes = 0  # starting a child (importing WeasyPrint) costs about what a large agency's layout does
    parts: list[int] = []  # each rendered part's number in the joiner, in the order submitted
    with tempfile.TemporaryDirectory(prefix="packet-") as folder, Renderers(processes) as renderers:

        def join_one() -> None:
            path = renderers.next_done()
            parts.append(joiner.add(path, catalog=len(parts) == len(agencies)))  # the cover holds the catalog
            os.unlink(path)  # the part is in the output now, and its HTML done with
            os.unlink(os.path.splitext(path)[0] + ".html")

        def submit(number: int, **extra: Any) -> None:
            while renderers.busy:
                join_one()
            html_path, pdf_path = (os.path.join(folder, f"part-{number}.{kind}") for kind in ("html", "pdf"))
            html = render_to_string("challenge_cards/meeting_prep/packet_pdf.html", {**context, **extra})
            with open(html_path, "w", encoding="utf-8") as file:
                file.write(html)
            renderers.submit(html_path, pdf_path)

        for done, agency in enumerate(agencies):
            if progress:
                progress(done, len(agencies), f"Agency {done + 1} of {len(agencies)}: {agency.name}")
            section = AgencySection(
                agency, _briefs(agenda_cards(user, meeting).filter(agency=agency), since=since, as_of=packet.as_of)
            )
            counts.update(section.counts)
            submit(done, section=section)
        if progress:
            progress(len(agencies), len(agencies), "The cover, the overall figures and the initiatives")
        # The document's title, language and metadata are the cover's.
        submit(len(agencies), counts=counts, agency_count=len(agencies))
        initiatives = render_to_string("challenge_cards/meeting_prep/_packet_initiatives_pdf.html", context)
        if initiatives.strip():
            submit(len(agencies) + 1, initiatives=initiatives)
        while renderers.pending:
            join_one()
    sections, cover, tail = parts[: len(agencies)], parts[len(agencies)], parts[len(agencies) + 1 :]
    joiner.finish(order=[cover, *sections, *tail])
    return counts["cards"]
