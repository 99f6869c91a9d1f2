"""Pages that prepare a PMC meeting: briefing packet, agency brief, scorecard, exports (close-out: closeout.py).

Thin like the other views: selectors in briefings/scorecard read, services write, exports lay out files.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agencies.models import Agency
from agencies.roles import roles_of

from .. import briefings, exports, permissions, selectors, services
from .. import scorecard as scorecards
from ..api.filters import ActionFilter
from ..filters import CardFilter
from ..models import BriefingPacket, FollowUpAction, Meeting
from ._common import query_without_page
from .cards import card_page

REFRESH_SECONDS = 3


def _require_omb(request: HttpRequest) -> None:
    if not permissions.can_see_omb_pages(request.user):
        raise PermissionDenied("Briefing packets are for OMB staff.")


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    return get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)


# --- briefing packet ------------------------------------------------------------------------


@require_GET
@login_required
def meeting_packet(request: HttpRequest, pk: int) -> HttpResponse:
    """The packet as a page (print stylesheet), and the PDF's build status, refreshed until it is finished."""
    _require_omb(request)
    meeting = _meeting(request, pk)
    packet = briefings.packet_data(request.user, meeting)
    latest = BriefingPacket.objects.filter(meeting=meeting).defer("pdf").order_by("-requested_at", "-id").first()
    building = latest is not None and not latest.is_finished
    stuck = building and services.packet_is_stuck(latest)
    context = {
        "nav": "meetings",
        "meeting": meeting,
        "packet": packet,
        "latest": latest,
        "building": building,
        "stuck": stuck,
        "refresh_seconds": REFRESH_SECONDS,
        "can_build": permissions.can_build_packets(request.user),
        "ratings": briefings.RATINGS,
    }
    response = render(request, "challenge_cards/meeting_prep/packet.html", context)
    if building:
        # Works without JavaScript: the browser reloads the page until the PDF is ready.
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@require_POST
@login_required
def packet_build(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    packet = services.packet_request(actor=request.user, meeting=meeting, email_admins=bool(request.POST.get("email")))
    messages.success(
        request,
        "The PDF is being built; this page shows its progress."
        + (" It will be e-mailed to the OMB admins when it is ready." if packet.email_admins else ""),
    )
    return redirect(f"{reverse('challenge_cards:meeting_packet', args=[meeting.pk])}#pdf")


@require_GET
@login_required
def packet_download(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The PDF, only to OMB staff and only once it is ready."""
    _require_omb(request)
    packet = get_object_or_404(
        BriefingPacket.objects.filter(meeting__in=Meeting.objects.visible_to(request.user))
        .select_related("meeting")
        .defer("pdf"),  # sent a piece at a time, never read whole
        pk=pk,
        status=BriefingPacket.Status.READY,
    )
    try:
        length, pieces = services.packet_pdf_pieces(packet)
    except BriefingPacket.DoesNotExist as gone:  # deleted since it was found
        raise Http404("This packet is no longer available.") from gone
    response = StreamingHttpResponse(pieces, content_type="application/pdf")
    response["Content-Length"] = str(length)
    response["Content-Disposition"] = (
        f'attachment; filename="briefing-packet-{packet.meeting.starts_at_eastern:%Y-%m-%d}.pdf"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _agency_brief(request: HttpRequest, pk: int, agency_pk: int) -> tuple[Meeting, Agency, briefings.Packet]:
    meeting = _meeting(request, pk)
    agency = get_object_or_404(Agency, pk=agency_pk)
    roles = roles_of(request.user)
    if not (roles.is_omb or agency.pk in roles.agency_ids):
        raise PermissionDenied("This brief is for the agency's people and OMB.")
    return meeting, agency, briefings.packet_data(request.user, meeting, agency=agency)


@require_GET
@login_required
def agency_brief(request: HttpRequest, pk: int, agency_pk: int) -> HttpResponse:
    """One page for an agency's deputy secretary: that agency's people and OMB may see it."""
    meeting, agency, packet = _agency_brief(request, pk, agency_pk)
    return render(
        request,
        "challenge_cards/meeting_prep/agency_brief.html",
        {"nav": "meetings", "meeting": meeting, "agency": agency, "packet": packet},
    )


@require_GET
@login_required
def agency_brief_pdf(request: HttpRequest, pk: int, agency_pk: int) -> HttpResponse:
    """The same brief as a one-page tagged PDF, made on request (it is small: no task needed)."""
    meeting, agency, packet = _agency_brief(request, pk, agency_pk)
    pdf = briefings.render_pdf(briefings.render_agency_brief_html(packet, agency=agency, base_url=settings.SITE_URL))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{agency.slug}-brief-{meeting.starts_at_eastern:%Y-%m-%d}.pdf"'
    )
    return response


# --- scorecard ------------------------------------------------------------------------------


class ScorecardFilter(forms.Form):
    """The meeting picker, from scorecard.meetings_for's list (so the choices cost no query of their own)."""

    meeting = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, *args, meetings: list[Meeting], **kwargs):
        super().__init__(*args, **kwargs)
        self.meetings: dict[int | None, Meeting] = {meeting.pk: meeting for meeting in meetings}
        cast(forms.ChoiceField, self.fields["meeting"]).choices = [("", "Latest meeting")] + [
            (m.pk, m.title) for m in meetings
        ]

    def chosen_meeting(self) -> Meeting | None:
        return self.meetings.get(self.cleaned_data.get("meeting")) if self.is_valid() else None


def _scorecard(request: HttpRequest, *, paged: bool) -> tuple[ScorecardFilter, scorecards.Scorecard]:
    meetings = scorecards.meetings_for(request.user)
    form = ScorecardFilter(request.GET or None, meetings=meetings)
    meeting = form.chosen_meeting() or scorecards.default_meeting(meetings)
    if not paged:
        return form, scorecards.build(request.user, meeting, meetings)
    return form, scorecards.build(
        request.user,
        meeting,
        meetings,
        page_number=request.GET.get("page"),
        cursor=request.GET.get("cursor"),
        per_page=scorecards.AGENCIES_PER_PAGE,
    )


@require_GET
@login_required
def scorecard(request: HttpRequest) -> HttpResponse:
    """A page of agencies (by name) against the priorities; the downloads hold every agency."""
    form, card = _scorecard(request, paged=True)
    return render(
        request,
        "challenge_cards/meeting_prep/scorecard.html",
        {"nav": "meetings", "form": form, "scorecard": card, "query": query_without_page(request)},
    )


@require_GET
@login_required
def scorecard_export(request: HttpRequest, file_format: str) -> HttpResponse:
    _form, card = _scorecard(request, paged=False)
    header, rows = scorecards.table(card)
    return exports.response(header, rows, file_format=file_format, name="scorecard")


# --- exports of the lists -------------------------------------------------------------------


@require_GET
@login_required
def card_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The card list's rows, with the list's filters, as CSV or XLSX."""
    base = selectors.card_list(request.user)
    filterset = CardFilter(request.GET or None, queryset=base, request=request)
    cards = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    header, rows = exports.card_rows(cards)
    return exports.response(header, rows, file_format=file_format, name="challenge-cards")


@require_GET
@login_required
def action_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """Follow-up actions you may see, filtered like the API's action list, as CSV or XLSX."""
    base = FollowUpAction.objects.visible_to(request.user)
    filterset = ActionFilter(request.GET or None, queryset=base, request=request)
    if filterset.is_bound and not filterset.is_valid():
        raise Http404("Those filters are not valid.")
    header, rows = exports.action_rows(filterset.qs if filterset.is_bound else base)
    return exports.response(header, rows, file_format=file_format, name="follow-up-actions")


# --- interim targets ------------------------------------------------------------------------


class InterimTargetForm(forms.Form):
    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="When the value should be reached."
    )
    value = forms.DecimalField(max_digits=14, decimal_places=2, label="Value by then")


@require_POST
@login_required
def interim_target_add(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_detail(request.user, pk)
    form = InterimTargetForm(request.POST)
    if form.is_valid():
        try:
            services.interim_target_add(actor=request.user, card=card.pk, **form.cleaned_data)
        except ValidationError as error:
            # Refused (another target on that date since the page was opened, a due date moved ...): the card
            # page again, the form open with what was typed (the card_trend tag reads it from the POST).
            messages.error(request, " ".join(error.messages))
            return card_page(request, card, status=400)
        messages.success(request, "Interim target added.")
        return redirect(f"{card.get_absolute_url()}#trend")
    messages.error(request, "Give a date and a value for the interim target.")
    return card_page(request, card, status=400)
