"""OMB's review board and one card's review: the decision itself is services.card_decide."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from agencies.models import Agency

from .. import forms, permissions, selectors, services
from ._common import STALE_MESSAGE, add_errors, paged, require_omb


@require_GET
@login_required
def review_board(request: HttpRequest) -> HttpResponse:
    require_omb(request)
    context = selectors.meeting_context(request.user)
    cards = selectors.review_board(request.user, context["last_meeting"])
    board_filter = forms.ReviewBoardFilterForm(request.GET)
    agency_id = board_filter.cleaned_data["agency"] if board_filter.is_valid() else None
    if agency_id:
        cards = cards.filter(agency_id=agency_id)
    page = paged(request, cards)
    can_review = permissions.can_review_card(request.user)
    rows = [(card, forms.ReviewForm(card=card) if can_review else None) for card in page]
    context.update(
        nav="review",
        page=page,
        rows=rows,
        agencies=Agency.objects.active().order_by("name"),
        agency_id=agency_id,
        can_review=can_review,
        query=f"agency={agency_id}" if agency_id else "",
    )
    return render(request, "challenge_cards/review_board.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def card_review(request: HttpRequest, pk: int) -> HttpResponse:
    """OMB's rating and disposition for one card.

    The board posts here: without JavaScript the answer is a redirect back to the board (or this
    card's own review page with the errors); with htmx it is the board row, redrawn in place.
    """
    if not permissions.can_review_card(request.user):
        raise PermissionDenied("Only OMB admins review cards.")
    card = selectors.card_detail(request.user, pk)
    if request.method == "GET":
        form = forms.ReviewForm(card=card)
        return render(request, "challenge_cards/card_review.html", {"nav": "review", "card": card, "form": form})
    in_place = request.headers.get("HX-Request") == "true"
    form = forms.ReviewForm(request.POST, card=card)
    stale_error = None
    status = 400
    if form.is_valid():
        try:
            data = form.cleaned_data
            services.card_decide(
                actor=request.user,
                card=card,
                expected_version=data["version"],
                decision=data["decision"],
                omb_rating=data["omb_rating"] or None,
                reason=data["reason"],
                due_date=data["due_date"],
            )
        except services.StaleWrite:
            card = selectors.card_detail(request.user, pk)
            typed = request.POST.copy()
            typed[form.add_prefix("version")] = str(card.version)
            form = forms.ReviewForm(typed, card=card)
            form.is_valid()
            stale_error, status = STALE_MESSAGE, 409
        except ValidationError as error:
            add_errors(form, error)
        else:
            saved = f"Review saved for {card.agency.abbreviation}: {card.title}."
            if in_place:
                return _review_row(request, pk, form=None, saved=saved)
            messages.success(request, saved)
            return redirect(f"{reverse('challenge_cards:review_board')}#card-{card.pk}")
    if in_place:
        return _review_row(request, pk, form=form, stale_error=stale_error)
    context = {"nav": "review", "card": card, "form": form, "stale_error": stale_error}
    return render(request, "challenge_cards/card_review.html", context, status=status)


def _review_row(request: HttpRequest, pk: int, *, form, saved: str = "", stale_error: str | None = None):
    """One review-board row (for htmx): the card as it is now, with its flags, and a fresh or bound form."""
    last_meeting = selectors.meeting_context(request.user)["last_meeting"]
    card = selectors.review_row(request.user, pk, last_meeting)
    if form is None:
        form = forms.ReviewForm(card=card)
    else:
        form.card = card
    context = {"card": card, "form": form, "saved": saved, "stale_error": stale_error, "on_board": True}
    return render(request, "challenge_cards/_review_row.html", context)
