"""The home page, the card list and OMB's agency list: reads only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agencies.roles import roles_of
from core.limits import whole_number

from .. import selectors
from ..filters import CardFilter
from ._common import PAGE_SIZE, paged, query_without_page, require_omb


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = roles_of(user)
    if roles.is_omb:
        return _omb_home(request)
    context = selectors.meeting_context(user)
    next_meeting = context["next_meeting"]
    until = next_meeting.starts_at_eastern.date() if next_meeting else None
    cards, overdue_cards, due_cards = selectors.home_reads(
        user, context["last_meeting"], request.GET.get("page"), due_until=until
    )
    overdue_actions, due_actions = selectors.home_actions(user, until)
    context.update(
        nav="home",
        roles=roles,
        cards=cards,
        overdue_cards=overdue_cards,
        overdue_actions=overdue_actions,
        due_soon=selectors.as_items(due_cards, due_actions, timezone.localdate()),
        to_certify=selectors.certifications_awaiting_me(user),
    )
    return render(request, "challenge_cards/home.html", context)


def _omb_home(request: HttpRequest) -> HttpResponse:
    """OMB's home: a summary, each count a link to the review board filtered to those cards (one query)."""
    user = request.user
    context = selectors.meeting_context(user, fingerprint=True)
    context.update(nav="home", roles=roles_of(user), summary=selectors.omb_summary(user, context))
    return render(request, "challenge_cards/home_omb.html", context)


@require_GET
@login_required
def card_list(request: HttpRequest) -> HttpResponse:
    """Every card the user may see, newest first, filtered by the URL; 25 a page, any page reached by its
    next and previous links as cheap as the first (selectors.list_page)."""
    base = selectors.card_list(request.user)
    filterset = CardFilter(request.GET or None, queryset=base, request=request)
    filtered = filterset.is_bound and filterset.is_valid()
    queryset = filterset.qs if filtered else base
    cards = selectors.list_page(queryset, request.GET.get("page"), PAGE_SIZE, cursor=request.GET.get("cursor"))
    agency = request.GET.get("agency", "").strip()
    if filtered and whole_number(agency) is not None and cards.object_list:  # an agency id from an older link:
        # show the agency's abbreviation (only when the list was filtered by it)
        shown = request.GET.copy()
        shown["agency"] = cards.object_list[0].agency.abbreviation
        filterset.form.data = shown
    return render(
        request,
        "challenge_cards/card_list.html",
        {"nav": "cards", "filter": filterset, "cards": cards, "query": query_without_page(request)},
    )


@require_GET
@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    require_omb(request)
    agencies = paged(request, selectors.agencies_with_counts(request.user), 50)
    return render(request, "challenge_cards/agency_list.html", {"nav": "agencies", "agencies": agencies})
