"""Closing a meeting: the cards that need a decision (and why), a decision per card in place, the close itself.

The rules are services.meeting_closeout (which cards, why) and services.card_decide (one decision).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import forms, permissions, selectors, services
from ..models import Meeting
from ._common import STALE_MESSAGE, add_errors


def _require_admin(request: HttpRequest) -> None:
    if not permissions.can_manage_meetings(request.user):
        raise PermissionDenied("Only OMB admins close meetings.")


def _page(request: HttpRequest, meeting: Meeting, *, errors=(), bound=None, status: int = 200) -> HttpResponse:
    closeout = services.meeting_closeout(meeting)
    bound = bound or {}
    rows = [(item, bound.get(item.card.pk) or forms.CloseOutForm(card=item.card)) for item in closeout.to_decide]
    context = {"nav": "meetings", "meeting": meeting, "closeout": closeout, "rows": rows, "errors": list(errors)}
    return render(request, "challenge_cards/meeting_prep/meeting_close.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def meeting_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a meeting once every card due by it has a decision; otherwise list the cards that lack one, and why."""
    _require_admin(request)
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    if request.method == "GET":
        return _page(request, meeting)
    try:
        services.meeting_close(actor=request.user, meeting=meeting)
    except ValidationError as error:
        return _page(request, meeting, errors=error.messages, status=400)
    messages.success(request, f"The {meeting.title} is closed.")
    return redirect(meeting)


@require_POST
@login_required
def closeout_decide(request: HttpRequest, pk: int, card_pk: int) -> HttpResponse:
    """One card's decision at this meeting's close-out (services.card_decide), then back to the close-out page."""
    _require_admin(request)
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    card = selectors.card_detail(request.user, card_pk)
    form = forms.CloseOutForm(request.POST, card=card)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.card_decide(
                actor=request.user,
                card=card,
                expected_version=data["version"],
                decision=data["decision"],
                reason=data["reason"],
                due_date=data["due_date"],
                meeting=meeting,
            )
        except services.StaleWrite:
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Decision saved for {card.agency.abbreviation}: {card.title}.")
            return redirect(f"{reverse('challenge_cards:meeting_close', args=[meeting.pk])}#closeout-decided")
    return _page(request, meeting, bound={card.pk: form}, status=400)
