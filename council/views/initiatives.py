"""Initiative pages: the list, one initiative (total, pace, trend, agency table), making one, its cards, export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from challenge_cards import exports
from challenge_cards.views._common import add_errors, require_omb

from .. import exports as council_exports
from .. import forms, permissions, selectors, services
from ..models import Initiative, InitiativeChange


@require_GET
@login_required
def initiative_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "council/initiative_list.html",
        {
            "nav": "initiatives",
            "rollups": selectors.initiative_rollups(request.user),
            "can_manage": permissions.can_manage_initiatives(request.user),
        },
    )


def _detail_page(request: HttpRequest, pk: int, *, status: int = 200, add_form=None) -> HttpResponse:
    rollup = selectors.initiative_rollup(request.user, pk)
    can_manage = permissions.can_manage_initiatives(request.user)
    changes = InitiativeChange.objects.filter(initiative_id=pk).select_related("actor", "card__agency")[:20]
    return render(
        request,
        "council/initiative_detail.html",
        {
            "nav": "initiatives",
            "rollup": rollup,
            "initiative": rollup.initiative,
            "can_manage": can_manage,
            "add_form": add_form or (forms.AddCardsForm() if can_manage else None),
            "changes": changes if can_manage else [],
        },
        status=status,
    )


@require_GET
@login_required
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


@require_http_methods(["GET", "POST"])
@login_required
def initiative_new(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_initiatives(request.user):
        raise PermissionDenied("Only OMB admins make initiatives.")
    form = forms.InitiativeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            initiative = services.initiative_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Initiative made: {initiative.title}.")
            return redirect(initiative)
    status = 400 if request.method == "POST" else 200
    return render(request, "council/initiative_form.html", {"nav": "initiatives", "form": form}, status=status)


def _manager(request: HttpRequest, pk: int) -> Initiative:
    if not permissions.can_manage_initiatives(request.user):
        raise PermissionDenied("Only OMB admins change initiatives.")
    return get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)


@require_POST
@login_required
def initiative_cards_add(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = _manager(request, pk)
    form = forms.AddCardsForm(request.POST)
    if form.is_valid():
        try:
            added = services.initiative_cards_add(
                actor=request.user, initiative=initiative, cards=form.cleaned_data["cards"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{len(added)} card{'s' if len(added) != 1 else ''} added to the initiative.")
            return redirect(initiative)
    return _detail_page(request, pk, status=400, add_form=form)


@require_POST
@login_required
def initiative_card_remove(request: HttpRequest, pk: int, card_pk: int) -> HttpResponse:
    initiative = _manager(request, pk)
    try:
        services.initiative_card_remove(actor=request.user, initiative=initiative, card=card_pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The card no longer counts in the initiative.")
    return redirect(initiative)


@require_POST
@login_required
def initiative_share(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = _manager(request, pk)
    shared = request.POST.get("shared") == "1"
    services.initiative_share(actor=request.user, initiative=initiative, shared=shared, expected_version=None)
    messages.success(
        request, "Agencies now see each other's cards." if shared else "Agencies now see only their own cards."
    )
    return redirect(initiative)


def _panel(request: HttpRequest, panel: str, title: str, context: dict) -> HttpResponse:
    """A council panel: the fragment htmx puts into the scorecard or the packet page, else the same as a page."""
    if request.headers.get("HX-Request") == "true":
        return render(request, panel, context)
    return render(request, "council/initiative_panel.html", {**context, "panel": panel, "title": title})


@require_GET
@login_required
def initiative_meetings(request: HttpRequest) -> HttpResponse:
    """The scorecard's initiative rows: each initiative's total at each meeting and today, against its target."""
    rollups = selectors.initiative_rollups(request.user)
    columns, rows = selectors.totals_by_meeting(rollups)
    context = {"nav": "initiatives", "rows": rows, "columns": columns}
    return _panel(request, "council/_scorecard_initiatives.html", "Initiatives across meetings", context)


@require_GET
@login_required
def initiative_pages(request: HttpRequest) -> HttpResponse:
    """The briefing packet's initiative pages (OMB's: every agency's card), for the packet page."""
    require_omb(request)
    rollups = selectors.initiative_rollups(request.user)
    context = {"nav": "meetings", "rollups": rollups, "link_base": ""}
    return _panel(request, "council/_packet_initiatives.html", "Initiatives in the briefing packet", context)


@require_GET
@login_required
def initiative_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """Every visible initiative as CSV or XLSX: a government-wide row, then a row per agency this user may see."""
    header, rows = council_exports.initiative_rows(selectors.initiative_rollups(request.user))
    return exports.response(header, rows, file_format=file_format, name="initiatives")
