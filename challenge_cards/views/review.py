"""OMB's review board and one card's review: the decision itself is services.card_decide."""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.limits import whole_number

from .. import board, forms, permissions, selectors, services
from ..domain import REVIEW_DECISIONS
from ..models import PmaPriority
from ._common import STALE_MESSAGE, add_errors, require_omb

# Sixty cards, the council's size, fit on the board's first page.
BOARD_PAGE_SIZE = 60


@require_GET
@login_required
def review_board(request: HttpRequest) -> HttpResponse:
    """Every open card as a compact table, filtered by the URL (agency, priority, status, rating, flags)."""
    require_omb(request)
    context = selectors.meeting_context(request.user, fingerprint=True)
    priorities = list(PmaPriority.objects.order_by("number"))
    board_filter = forms.ReviewBoardFilterForm(request.GET, priorities=priorities)
    filters = selectors.BoardFilters(**{k: v for k, v in board_filter.filters().items() if v not in (None, "")})
    page = selectors.review_board_page(request.user, context, filters, request.GET.get("page"), BOARD_PAGE_SIZE)
    can_review = permissions.can_review_card(request.user)
    rows = [(card, board.ReviewRowInput.fresh(card) if can_review else None) for card in page]
    query = urlencode({k: ("on" if v is True else v) for k, v in asdict(filters).items() if v not in (None, "", False)})
    context.update(
        nav="review",
        page=page,
        rows=rows,
        filter_form=board_filter,
        filters=filters,
        filtered=filters != selectors.BoardFilters(),
        can_review=can_review,
        bulk_form=forms.ReviewBulkForm(card_ids=[]) if can_review else None,
        query=query,
    )
    return render(request, "challenge_cards/review_board.html", context)


@require_POST
@login_required
def review_bulk(request: HttpRequest) -> HttpResponse:
    """One decision with one reason for the selected cards (services.cards_decide: all or nothing)."""
    if not permissions.can_review_card(request.user):
        raise PermissionDenied("Only OMB admins review cards.")
    card_ids = [pk for pk in map(whole_number, request.POST.getlist("cards")) if pk is not None]
    form = forms.ReviewBulkForm(request.POST, card_ids=card_ids)
    back = reverse("challenge_cards:review_board") + (f"?{request.POST['query']}" if request.POST.get("query") else "")
    if not form.is_valid():
        labels = {name: field.label for name, field in form.fields.items()}
        problems = [f"{labels.get(name, 'Form')}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()]
        messages.error(request, "Nothing was saved. " + " ".join(problems))
        return redirect(back)
    data = form.cleaned_data
    seen = {pk: request.POST.get(f"version-{pk}", "") for pk in data["cards"]}
    try:
        done = services.cards_decide(
            actor=request.user,
            versions={pk: number for pk, version in seen.items() if (number := whole_number(version)) is not None},
            cards=data["cards"],
            decision=data["decision"],
            reason=data["reason"],
            due_date=data["due_date"],
        )
    except ValidationError as error:
        messages.error(request, "Nothing was saved. " + " ".join(error.messages))
    else:
        label = dict(REVIEW_DECISIONS)[data["decision"]]
        messages.success(request, f"{label}: saved for {len(done)} card{'' if len(done) == 1 else 's'}.")
    return redirect(back)


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


def _review_row(
    request: HttpRequest,
    pk: int,
    *,
    form: forms.ReviewForm | None,
    saved: str = "",
    stale_error: str | None = None,
) -> HttpResponse:
    """One review-board row (for htmx): the card as it is now, with its flags, and a fresh form or what was typed."""
    last_meeting = selectors.meeting_context(request.user)["last_meeting"]
    card = selectors.review_row(request.user, pk, last_meeting)
    row = board.ReviewRowInput.fresh(card) if form is None else board.ReviewRowInput.typed(form)
    context = {"rows": [(card, row)], "saved": saved, "stale_error": stale_error}  # card_review: OMB admins only
    return render(request, "challenge_cards/_review_table_row.html", context)
