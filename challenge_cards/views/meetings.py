"""The meeting list and page, and OMB scheduling a meeting (or the next one, a month on)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import forms, permissions, selectors, services
from ..models import Meeting
from ..querysets import MeetingQuerySet
from ._common import add_errors, paged


@require_GET
@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    return _meeting_list_page(request)


def _meeting_list_page(request: HttpRequest, form: forms.MeetingScheduleForm | None = None, status: int = 200):
    meetings = cast(MeetingQuerySet, selectors.meetings_with_counts(request.user))
    context = {
        "nav": "meetings",
        "upcoming": list(meetings.upcoming()[:12]),
        "past": paged(request, meetings.past()),
        "can_manage": permissions.can_manage_meetings(request.user),
        "schedule_form": form or forms.MeetingScheduleForm(),
    }
    return render(request, "challenge_cards/meeting_list.html", context, status=status)


@require_POST
@login_required
def meeting_schedule(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_meetings(request.user):
        raise PermissionDenied("Only OMB admins schedule meetings.")
    form = forms.MeetingScheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_schedule(
                actor=request.user,
                starts_at=form.starts_at(),
                duration_minutes=data["duration_minutes"],
                location=data["location"],
                video_url=data["video_url"],
                agenda_notes=data["agenda_notes"],
            )
        except ValidationError as error:
            add_errors(
                form,
                error
                if not hasattr(error, "error_dict")
                else ValidationError({("date" if k == "starts_at" else k): v for k, v in error.message_dict.items()}),
            )
        else:
            messages.success(request, f"Scheduled the {meeting.title}.")
            return redirect(meeting)
    return _meeting_list_page(request, form=form, status=400)


@require_POST
@login_required
def meeting_schedule_next(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_meetings(request.user):
        raise PermissionDenied("Only OMB admins schedule meetings.")
    try:
        meeting = services.meeting_schedule_next(actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("challenge_cards:meeting_list")
    messages.success(request, f"Scheduled the {meeting.title}.")
    return redirect(meeting)


@require_GET
@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    cards = paged(request, selectors.meeting_cards(request.user, meeting))
    context = {
        "nav": "meetings",
        "meeting": meeting,
        "cards": cards,
        "can_issue": permissions.can_issue_cards(request.user),
    }
    return render(request, "challenge_cards/meeting_detail.html", context)
