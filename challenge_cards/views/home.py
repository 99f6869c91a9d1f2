"""The home page, the card list and OMB's agency list: reads only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agencies.roles import roles_of

from .. import selectors
from ..filters import CardFilter
from ._common import paged, require_omb


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
        to_certify=list(selectors.awaiting_my_certification(user)[:20]),
    )
    return render(request, "challenge_cards/home.html", context)


def _omb_home(request: HttpRequest) -> HttpResponse:
    """OMB's home: a summary, each count a link to the review board filtered to those cards (one query)."""
    user = request.user
    context = selectors.meeting_context(user)
    context.update(
        nav="home",
        roles=roles_of(user),
        summary=selectors.omb_summary(user, context["last_meeting"], context["next_meeting"]),
    )
    return render(request, "challenge_cards/home_omb.html", context)


@require_GET
@login_required
def card_list(request: HttpRequest) -> HttpResponse:
    filterset = CardFilter(request.GET or None, queryset=selectors.card_list(request.user), request=request)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else selectors.card_list(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "challenge_cards/card_list.html",
        {"nav": "cards", "filter": filterset, "cards": paged(request, queryset), "query": query.urlencode()},
    )


@require_GET
@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    require_omb(request)
    agencies = paged(request, selectors.agencies_with_counts(request.user), 50)
    return render(request, "challenge_cards/agency_list.html", {"nav": "agencies", "agencies": agencies})
