"""Pages for deputy secretaries, delegates and OMB admins. Thin: forms check shape, services decide."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.models import Agency
from agencies.roles import roles_of
from config.pagination import page_of

from . import forms, permissions, selectors, services
from .filters import CardFilter
from .models import (
    ActionOwnerSide,
    CardUpdate,
    Certification,
    ChallengeCard,
    Disposition,
    Evidence,
    FollowUpAction,
    Meeting,
)

PAGE_SIZE = 25
STALE_MESSAGE = (
    "Someone else updated this card after you opened the page. Their change is shown below; "
    "your entries are kept. Check them and submit again."
)
CERTIFY_STALE_MESSAGE = (
    "Someone else updated this card after you opened the page. The card as it is now is shown below; "
    "check the draft against it and certify again."
)


def _page(request: HttpRequest, queryset: QuerySet, size: int = PAGE_SIZE) -> Page:
    return page_of(queryset, request.GET.get("page"), size)


def _add_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# --- deputy secretaries and delegates ---------------------------------------------------


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = selectors.meeting_context(user)
    cards, overdue_cards = selectors.home_sections(user, context["last_meeting"], request.GET.get("page"))
    context.update(
        nav="home",
        roles=roles_of(user),
        cards=cards,
        overdue_cards=overdue_cards,
        overdue_actions=list(selectors.overdue_actions(user)[:20]),
        to_certify=list(selectors.awaiting_my_certification(user)[:20]),
    )
    return render(request, "challenge_cards/home.html", context)


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
        {"nav": "cards", "filter": filterset, "cards": _page(request, queryset), "query": query.urlencode()},
    )


def _card_page(request: HttpRequest, card: ChallengeCard, *, status: int = 200, **forms_: Any) -> HttpResponse:
    user = request.user
    can_update = permissions.can_update_card(user, card)
    can_add_action = permissions.can_add_action(user, card)
    timeline = list(selectors.card_timeline(user, card))
    actions = list(selectors.card_actions(user, card))
    roles = roles_of(user)
    pending = [u for u in timeline if u.certification == Certification.PENDING]
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
        return _card_page(request, card)
    if not permissions.can_update_card(request.user, card):
        raise PermissionDenied("You cannot update this card.")
    if request.POST.get("version") != str(card.version):
        return _stale_card_page(request, pk)
    form = forms.CardUpdateForm(request.POST, card=card)
    if not form.is_valid():
        return _card_page(request, card, status=400, update_form=form)
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
        _add_errors(form, error)
        return _card_page(request, card, status=400, update_form=form)
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
    return _card_page(request, card, status=409, update_form=form, stale_error=STALE_MESSAGE)


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
        return _card_page(request, card, status=409, certify_error=CERTIFY_STALE_MESSAGE)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Update certified. It now shows on the card and to OMB.")
    return redirect(update.card)


# --- follow-up actions ----------------------------------------------------------------


@require_POST
@login_required
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_detail(request.user, pk)
    if not permissions.can_add_action(request.user, card):
        raise PermissionDenied("You cannot add follow-up actions to this card.")
    form = forms.ActionAddForm(request.POST, card=card)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.action_add(
                actor=request.user,
                card=card.pk,
                description=data["description"],
                owner=data["owner"],
                owner_name=data["owner_name"],
                owned_by=data["owned_by"],
                due_date=data["due_date"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Follow-up action added.")
            return redirect(f"{card.get_absolute_url()}#actions")
    return _card_page(request, card, status=400, action_form=form)


ACTION_FORMS = {
    "complete": forms.ActionCompleteForm,
    "drop": forms.ActionDropForm,
    "reassign": forms.ActionReassignForm,
    "due-date": forms.ActionDueDateForm,
    "reopen": forms.ActionCompleteForm,
}


def _action_forms(action: FollowUpAction, bound: dict | None = None) -> dict[str, Any]:
    card = action.card
    initial = {"version": action.version}
    built = {
        "drop": forms.ActionDropForm(initial=initial, prefix="drop"),
        "reassign": forms.ActionReassignForm(
            initial={**initial, "owned_by": action.owned_by, "owner": action.owner_id, "owner_name": action.owner_name},
            card=card,
            prefix="reassign",
        ),
        "due_date": forms.ActionDueDateForm(initial={**initial, "due_date": action.due_date}, prefix="due"),
    }
    built.update(bound or {})
    return built


def _get_action(request: HttpRequest, pk: int) -> FollowUpAction:
    return get_object_or_404(
        FollowUpAction.objects.visible_to(request.user).select_related("card__agency", "card__meeting", "owner"), pk=pk
    )


def _action_page(request, action, *, status=200, bound=None, stale_error=None) -> HttpResponse:
    context = {
        "nav": "cards",
        "action": action,
        "card": action.card,
        "can_edit": permissions.can_edit_action(request.user, action),
        "stale_error": stale_error,
        **_action_forms(action, bound),
    }
    return render(request, "challenge_cards/action_detail.html", context, status=status)


@require_GET
@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_page(request, _get_action(request, pk))


@require_POST
@login_required
def action_change(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    action = _get_action(request, pk)
    if op not in ACTION_FORMS:
        raise Http404("No such change.")
    if not permissions.can_edit_action(request.user, action):
        raise PermissionDenied("You cannot change this follow-up action.")
    prefix = {"drop": "drop", "reassign": "reassign", "due-date": "due"}.get(op)
    kwargs: dict[str, Any] = {"prefix": prefix}
    if op == "reassign":
        kwargs["card"] = action.card
    form = ACTION_FORMS[op](request.POST, **kwargs)
    bound_key = {"due-date": "due_date"}.get(op, op)
    if form.is_valid():
        data = form.cleaned_data
        common = {"actor": request.user, "action": action.pk, "expected_version": data["version"]}
        try:
            if op == "complete":
                services.action_complete(**common, note=data["note"])
            elif op == "reopen":
                services.action_reopen(**common, note=data["note"])
            elif op == "drop":
                services.action_drop(**common, reason=data["reason"])
            elif op == "reassign":
                services.action_reassign(
                    **common, owner=data["owner"], owner_name=data["owner_name"], owned_by=data["owned_by"]
                )
            else:
                services.action_change_due_date(**common, due_date=data["due_date"])
        except services.StaleWrite:
            action = _get_action(request, pk)
            return _action_page(
                request,
                action,
                status=409,
                stale_error="Someone else changed this action after you opened the page. Check it and try again.",
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                {
                    "complete": "Follow-up action marked done.",
                    "reopen": "Follow-up action reopened.",
                    "drop": "Follow-up action dropped.",
                    "reassign": "Follow-up action reassigned.",
                    "due-date": "Due date changed.",
                }[op],
            )
            return redirect(f"{action.card.get_absolute_url()}#actions")
    if op in ("complete", "reopen"):
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(f"{action.card.get_absolute_url()}#actions")
    return _action_page(request, action, status=400, bound={bound_key: form})


# --- evidence -------------------------------------------------------------------------


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
            _add_errors(form, error)
        else:
            messages.success(request, "Evidence added.")
            return redirect(f"{card.get_absolute_url()}#evidence")
    return _card_page(request, card, status=400, evidence_form=form)


@require_GET
@login_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
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


# --- meetings -------------------------------------------------------------------------


@require_GET
@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    return _meeting_list_page(request)


def _meeting_list_page(request: HttpRequest, form: forms.MeetingScheduleForm | None = None, status: int = 200):
    meetings = selectors.meetings_with_counts(request.user)
    context = {
        "nav": "meetings",
        "upcoming": list(meetings.upcoming()[:12]),
        "past": _page(request, meetings.past()),
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
            _add_errors(
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
    cards = _page(request, selectors.meeting_cards(request.user, meeting))
    context = {
        "nav": "meetings",
        "meeting": meeting,
        "cards": cards,
        "can_issue": permissions.can_issue_cards(request.user),
    }
    return render(request, "challenge_cards/meeting_detail.html", context)


# --- OMB: issue cards, review board, agencies -----------------------------------------


def _require_omb(request: HttpRequest) -> None:
    if not permissions.can_see_omb_pages(request.user):
        raise PermissionDenied("This page is for OMB staff.")


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
            _add_errors(form, error)
            return render(request, "challenge_cards/card_issue.html", {"nav": "issue", "form": form}, status=400)
        messages.success(request, f"Issued “{data['title']}” to {len(cards)} agenc{'y' if len(cards) == 1 else 'ies'}.")
        return redirect(data["meeting"])
    return render(
        request, "challenge_cards/card_issue_preview.html", {"nav": "issue", "form": form, "agencies": agencies}
    )


@require_GET
@login_required
def review_board(request: HttpRequest) -> HttpResponse:
    _require_omb(request)
    context = selectors.meeting_context(request.user)
    cards = selectors.review_board(request.user, context["last_meeting"])
    board_filter = forms.ReviewBoardFilterForm(request.GET)
    agency_id = board_filter.cleaned_data["agency"] if board_filter.is_valid() else None
    if agency_id:
        cards = cards.filter(agency_id=agency_id)
    page = _page(request, cards)
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
            _apply_review(request.user, card, form.cleaned_data)
        except services.StaleWrite:
            card = selectors.card_detail(request.user, pk)
            typed = request.POST.copy()
            typed[form.add_prefix("version")] = str(card.version)
            form = forms.ReviewForm(typed, card=card)
            form.is_valid()
            stale_error, status = STALE_MESSAGE, 409
        except ValidationError as error:
            _add_errors(form, error)
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


def _apply_review(actor, card: ChallengeCard, data: dict[str, Any]) -> None:
    """Rating first, then the disposition, in one transaction (two service calls, one change for the user)."""
    decision = data["decision"]
    version = data["version"]
    rating = data["omb_rating"] or None
    with transaction.atomic():
        if decision in ("keep", "accept", "drop"):
            services.card_review(
                actor=actor,
                card=card.pk,
                expected_version=version,
                omb_rating=rating,
                disposition={"accept": Disposition.ACCEPTED, "drop": Disposition.DROPPED}.get(decision),
                reason=data["reason"],
            )
            return
        if rating is not None and rating != card.omb_rating:
            services.card_review(actor=actor, card=card.pk, expected_version=version, omb_rating=rating)
            version += 1
        if decision == "carry_over":
            services.card_carry_over(
                actor=actor, card=card.pk, expected_version=version, reason=data["reason"], due_date=data["due_date"]
            )
        else:
            services.card_return(actor=actor, card=card.pk, expected_version=version, reason=data["reason"])


@require_GET
@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    _require_omb(request)
    agencies = _page(request, selectors.agencies_with_counts(request.user), 50)
    return render(request, "challenge_cards/agency_list.html", {"nav": "agencies", "agencies": agencies})
