"""The card page: the agency's update, certifying a delegate's draft, evidence; OMB issuing a card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.models import Agency
from agencies.roles import roles_of

from .. import forms, permissions, selectors, services
from ..models import ActionOwnerSide, CardUpdate, Certification, ChallengeCard, Evidence
from ._common import CERTIFY_STALE_MESSAGE, STALE_MESSAGE, add_errors


def card_page(request: HttpRequest, card: ChallengeCard, *, status: int = 200, **forms_: Any) -> HttpResponse:
    user = request.user
    can_update = permissions.can_update_card(user, card)
    can_add_action = permissions.can_add_action(user, card)
    timeline = list(selectors.card_timeline(user, card))
    actions = list(selectors.card_actions(user, card))
    roles = roles_of(user)
    # Drafts of this card (not of the cards it continues); each gets may_certify.
    pending: list[Any] = [u for u in timeline if u.certification == Certification.PENDING and u.card_id == card.pk]
    for update in pending:
        update.card = card  # the card (and its agency) is loaded already: no query per draft
        update.may_certify = permissions.can_certify(user, update)
    context = {
        "nav": "cards",
        "card": card,
        "roles": roles,
        "timeline": timeline,
        "pending": pending,
        "can_certify": card.agency_id in roles.deputy_of or any(u.may_certify for u in pending),
        "certify_error": forms_.get("certify_error"),
        "agency_actions": [a for a in actions if a.owned_by == ActionOwnerSide.AGENCY],
        "omb_actions": [a for a in actions if a.owned_by == ActionOwnerSide.OMB],
        "evidence": list(selectors.card_evidence(user, card)),
        "can_update": can_update,
        "can_add_action": can_add_action,
        "can_edit_agency_actions": permissions.can_edit_actions_of(user, card, ActionOwnerSide.AGENCY),
        "can_edit_omb_actions": permissions.can_edit_actions_of(user, card, ActionOwnerSide.OMB),
        "can_review": permissions.can_review_card(user, card),
        "update_form": forms_.get("update_form") or (forms.CardUpdateForm(card=card) if can_update else None),
        "action_form": forms_.get("action_form") or (forms.ActionAddForm(card=card) if can_add_action else None),
        "evidence_form": forms_.get("evidence_form") or (forms.EvidenceForm() if can_update else None),
        "stale_error": forms_.get("stale_error"),
        "today": timezone.localdate(),
    }
    return render(request, "challenge_cards/card_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_detail(request.user, pk)
    if request.method == "GET":
        return card_page(request, card)
    if not permissions.can_update_card(request.user, card):
        raise PermissionDenied("You cannot update this card.")
    if request.POST.get("version") != str(card.version):
        return _stale_card_page(request, pk)
    form = forms.CardUpdateForm(request.POST, card=card)
    if not form.is_valid():
        return card_page(request, card, status=400, update_form=form)
    data = form.cleaned_data
    metric = data.get("metric_value")
    try:
        update = services.card_update(
            actor=request.user,
            card=card.pk,
            expected_version=data["version"],
            status=data["status"],
            agency_rating=data["agency_rating"] or None,
            metric_value=services.UNSET if metric is None else metric,
            note=data["note"],
        )
    except services.StaleWrite:
        return _stale_card_page(request, pk)
    except ValidationError as error:
        add_errors(form, error)
        return card_page(request, card, status=400, update_form=form)
    if update.certification == Certification.PENDING:
        messages.success(
            request, "Your update is saved as a draft. It takes effect when the deputy secretary certifies it."
        )
    else:
        messages.success(request, "Your update is posted.")
    return redirect(card)


def _stale_card_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Refuse a stale update: show the current card, keep what the user typed, explain."""
    card = selectors.card_detail(request.user, pk)
    form = forms.CardUpdateForm.after_stale_write(card=card, typed=request.POST.dict())
    return card_page(request, card, status=409, update_form=form, stale_error=STALE_MESSAGE)


@require_POST
@login_required
def update_certify(request: HttpRequest, pk: int) -> HttpResponse:
    update = get_object_or_404(CardUpdate.objects.visible_to(request.user).select_related("card__agency"), pk=pk)
    if not permissions.can_certify(request.user, update):
        raise PermissionDenied("Only the agency's deputy secretary certifies a pending update.")
    version = forms.VersionForm(request.POST)
    try:
        if not version.is_valid():  # a page without the version the deputy saw: treat as stale
            raise services.StaleWrite(None)
        services.card_update_certify(
            actor=request.user, update=update, expected_version=version.cleaned_data["version"]
        )
    except services.StaleWrite:
        card = selectors.card_detail(request.user, update.card_id)
        return card_page(request, card, status=409, certify_error=CERTIFY_STALE_MESSAGE)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Update certified. It now shows on the card and to OMB.")
    return redirect(update.card)


@require_POST
@login_required
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_detail(request.user, pk)
    if not permissions.can_update_card(request.user, card):
        raise PermissionDenied("You cannot add evidence to this card.")
    form = forms.EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.evidence_add(
                actor=request.user, card=card.pk, title=data["title"], file=data["file"], url=data["url"] or ""
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Evidence added.")
            return redirect(f"{card.get_absolute_url()}#evidence")
    return card_page(request, card, status=400, evidence_form=form)


@require_GET
@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Files are never served from MEDIA_URL: only here, to someone who may see the card."""
    evidence = get_object_or_404(Evidence.objects.visible_to(request.user).exclude(file=""), pk=pk)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name or evidence.file.name.rsplit("/", 1)[-1],
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def card_issue(request: HttpRequest) -> HttpResponse:
    """Write the card, preview who receives it (their deputy secretaries), then confirm."""
    if not permissions.can_issue_cards(request.user):
        raise PermissionDenied("Only OMB admins issue challenge cards.")
    if request.method == "GET":
        start = forms.CardIssueStartForm(request.GET)
        meeting = start.cleaned_data["meeting"] if start.is_valid() else None
        form = forms.CardIssueForm(initial={"meeting": meeting} if meeting else None)
        return render(request, "challenge_cards/card_issue.html", {"nav": "issue", "form": form})
    form = forms.CardIssueForm(request.POST)
    step = request.POST.get("step", "preview")
    if not form.is_valid() or step == "edit":
        status = 400 if form.errors and step != "edit" else 200
        return render(request, "challenge_cards/card_issue.html", {"nav": "issue", "form": form}, status=status)
    data = form.cleaned_data
    agencies = (
        Agency.objects.filter(pk__in=[a.pk for a in data["agencies"]])
        .prefetch_related(selectors.agency_prefetch_deputies())
        .order_by("name")
    )
    if step == "confirm":
        try:
            cards = services.card_issue(
                actor=request.user,
                meeting=data["meeting"],
                agencies=list(agencies),
                title=data["title"],
                ask=data["ask"],
                priority=data["priority"],
                strategy=data["strategy"],
                horizon=data["horizon"],
                due_date=data["due_date"],
                metric_name=data["metric_name"],
                metric_unit=data["metric_unit"],
                metric_baseline=data["metric_baseline"],
                metric_target=data["metric_target"],
                note=data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
            return render(request, "challenge_cards/card_issue.html", {"nav": "issue", "form": form}, status=400)
        messages.success(request, f"Issued “{data['title']}” to {len(cards)} agenc{'y' if len(cards) == 1 else 'ies'}.")
        return redirect(data["meeting"])
    return render(
        request, "challenge_cards/card_issue_preview.html", {"nav": "issue", "form": form, "agencies": agencies}
    )
