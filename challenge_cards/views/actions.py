"""Follow-up actions: add one to a card, then complete, drop, reopen, reassign or move its due date."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import forms, permissions, selectors, services
from ..models import FollowUpAction
from ._common import add_errors
from .cards import card_page


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
            add_errors(form, error)
        else:
            messages.success(request, "Follow-up action added.")
            return redirect(f"{card.get_absolute_url()}#actions")
    return card_page(request, card, status=400, action_form=form)


class _Change(NamedTuple):
    """One change a page may post: its form, the form's prefix and key on the action page, its service call."""

    form: type[forms.VersionForm]
    prefix: str | None
    bound_key: str
    service: Callable[..., Any]
    arguments: Callable[[dict[str, Any]], dict[str, Any]]
    done: str


# op in the URL -> the change. Each op is one service call; the service decides the rules.
ACTION_CHANGES: dict[str, _Change] = {
    "complete": _Change(
        forms.ActionCompleteForm,
        None,
        "complete",
        services.action_complete,
        lambda d: {"note": d["note"]},
        "Follow-up action marked done.",
    ),
    "reopen": _Change(
        forms.ActionCompleteForm,
        None,
        "reopen",
        services.action_reopen,
        lambda d: {"note": d["note"]},
        "Follow-up action reopened.",
    ),
    "drop": _Change(
        forms.ActionDropForm,
        "drop",
        "drop",
        services.action_drop,
        lambda d: {"reason": d["reason"]},
        "Follow-up action dropped.",
    ),
    "reassign": _Change(
        forms.ActionReassignForm,
        "reassign",
        "reassign",
        services.action_change,
        lambda d: {"owner": d["owner"], "owner_name": d["owner_name"], "owned_by": d["owned_by"]},
        "Follow-up action reassigned.",
    ),
    "due-date": _Change(
        forms.ActionDueDateForm,
        "due",
        "due_date",
        services.action_change,
        lambda d: {"due_date": d["due_date"]},
        "Due date changed.",
    ),
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
        # A stale "mark done" or "reopen" (posted from the card page): its form again, with the typed note.
        "stale_retry": [(op, form) for op, form in (bound or {}).items() if op in ("complete", "reopen")],
        **_action_forms(action, bound),
    }
    return render(request, "challenge_cards/action_detail.html", context, status=status)


STALE_ACTION_MESSAGE = (
    "Someone else changed this action after you opened the page. Check it; what you typed is kept below: "
    "send it again if it still applies."
)


def _stale_action_page(request: HttpRequest, pk: int, change: _Change, kwargs: dict[str, Any]) -> HttpResponse:
    """409: the action as it is now, with the posted form bound to what was typed and the current version,
    so sending it again is one click once the user has seen the change."""
    action = _get_action(request, pk)
    typed = request.POST.copy()
    form = change.form(typed, **kwargs)
    typed[form.add_prefix("version")] = str(action.version)
    form = change.form(typed, **kwargs)
    form.is_valid()
    return _action_page(request, action, status=409, bound={change.bound_key: form}, stale_error=STALE_ACTION_MESSAGE)


@require_GET
@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_page(request, _get_action(request, pk))


@require_POST
@login_required
def action_change(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    action = _get_action(request, pk)
    change = ACTION_CHANGES.get(op)
    if change is None:
        raise Http404("No such change.")
    if not permissions.can_edit_action(request.user, action):
        raise PermissionDenied("You cannot change this follow-up action.")
    kwargs: dict[str, Any] = {"prefix": change.prefix}
    if op == "reassign":
        kwargs["card"] = action.card
    form = change.form(request.POST, **kwargs)
    if form.is_valid():
        data = form.cleaned_data
        try:
            change.service(
                actor=request.user, action=action, expected_version=data["version"], **change.arguments(data)
            )
        except services.StaleWrite:
            return _stale_action_page(request, pk, change, kwargs)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, change.done)
            return redirect(f"{action.card.get_absolute_url()}#actions")
    if op in ("complete", "reopen"):
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(f"{action.card.get_absolute_url()}#actions")
    return _action_page(request, action, status=400, bound={change.bound_key: form})
