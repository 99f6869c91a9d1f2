"""Follow-up actions: add, complete, drop, reopen, and change owner or due date."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.roles import roles_of

from .. import permissions, signals
from ..domain import refuse_long_text
from ..models import ActionOwnerSide, ActionStatus, CardUpdate, ChallengeCard, FollowUpAction, UpdateKind
from ._common import UNSET, _check_version, _lock_card, _record, on_behalf_of_for


def _lock_action(action: FollowUpAction | int) -> FollowUpAction:
    action_id = action.pk if isinstance(action, FollowUpAction) else action
    # PostgreSQL refuses FOR UPDATE on the nullable (outer-joined) owner; lock the action row only.
    return (
        FollowUpAction.objects.select_for_update(of=("self",)).select_related("card__agency", "owner").get(pk=action_id)
    )


def _record_action(action: FollowUpAction, *, actor, changes: dict[str, list[Any]], note: str = "") -> CardUpdate:
    update = _record(
        card=action.card,
        kind=UpdateKind.ACTION,
        actor=actor,
        changes={"action": [None, action.pk], **changes},
        note=note or action.description,
        on_behalf_of=on_behalf_of_for(actor, action.card.agency),
    )
    signals.action_changed.send(sender=FollowUpAction, action=action, update=update, actor=actor)
    return update


def _validate_owner(*, card: ChallengeCard, owner, owned_by: str) -> None:
    """An OMB-owned action's owner is OMB staff; an agency-owned one's is a member of the card's agency.

    The owner is told about the action (overdue notices, the calendar feed), so naming anyone
    else would send another agency's card to them.
    """
    if owned_by not in ActionOwnerSide.values:
        raise ValidationError({"owned_by": "Choose agency or OMB."})
    if owner is None:
        return
    roles = roles_of(owner)
    if owned_by == ActionOwnerSide.OMB:
        if not roles.is_omb:
            raise ValidationError({"owner": "An action owned by OMB needs an owner on OMB's staff."})
    elif card.agency_id not in roles.agency_ids:
        raise ValidationError({"owner": "The owner must belong to this agency."})


@transaction.atomic
def action_add(
    *,
    actor,
    card: ChallengeCard | int,
    description: str,
    owner=None,
    owner_name: str = "",
    owned_by: str = ActionOwnerSide.AGENCY,
    due_date: datetime.date | None = None,
) -> FollowUpAction:
    card = _lock_card(card)
    if not permissions.can_add_action(actor, card):
        raise PermissionDenied("You cannot add follow-up actions to this card.")
    if not description.strip():
        raise ValidationError({"description": "Say what the action is."})
    _validate_owner(card=card, owner=owner, owned_by=owned_by)
    action = FollowUpAction.objects.create(
        card=card,
        description=description.strip(),
        owner=owner,
        owner_name=owner_name.strip(),
        owned_by=owned_by,
        due_date=due_date,
        created_by=actor,
    )
    _record_action(action, actor=actor, changes={"status": [None, ActionStatus.OPEN]})
    return action


def _change_action(action: FollowUpAction | int, *, actor, expected_version: int | None) -> FollowUpAction:
    action = _lock_action(action)
    if not permissions.can_edit_action(actor, action):
        raise PermissionDenied("You cannot change this follow-up action.")
    _check_version(action.version, expected_version)
    return action


def _save_action(action: FollowUpAction) -> None:
    action.version += 1
    # created_by may be empty (seed data, the admin, SET_NULL); that must not freeze the action.
    action.full_clean(exclude=["created_by"], validate_constraints=False)
    action.save()


def _require_open(action: FollowUpAction) -> None:
    if action.status != ActionStatus.OPEN:
        raise ValidationError({"status": f"This action is already {action.get_status_display().lower()}."})


@transaction.atomic
def action_complete(
    *, actor, action: FollowUpAction | int, expected_version: int | None, note: str = ""
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    _require_open(action)
    refuse_long_text(note=note)
    action.status = ActionStatus.DONE
    action.completed_at = timezone.now()
    _save_action(action)
    _record_action(action, actor=actor, changes={"status": [ActionStatus.OPEN, ActionStatus.DONE]}, note=note)
    return action


@transaction.atomic
def action_drop(*, actor, action: FollowUpAction | int, expected_version: int | None, reason: str) -> FollowUpAction:
    refuse_long_text(reason=reason)
    action = _change_action(action, actor=actor, expected_version=expected_version)
    _require_open(action)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the action is dropped."})
    action.status = ActionStatus.DROPPED
    action.dropped_reason = reason.strip()
    _save_action(action)
    _record_action(action, actor=actor, changes={"status": [ActionStatus.OPEN, ActionStatus.DROPPED]}, note=reason)
    return action


@transaction.atomic
def action_reopen(
    *, actor, action: FollowUpAction | int, expected_version: int | None, note: str = ""
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    if action.status == ActionStatus.OPEN:
        raise ValidationError({"status": "This action is already open."})
    refuse_long_text(note=note)
    old = action.status
    action.status = ActionStatus.OPEN
    action.completed_at = None
    action.dropped_reason = ""
    _save_action(action)
    _record_action(action, actor=actor, changes={"status": [old, ActionStatus.OPEN]}, note=note)
    return action


def _set_owner(action: FollowUpAction, *, actor, owner, owner_name: str, owned_by: str | None) -> None:
    """Give a locked action a new owner (a person or a name) and side; one history row."""
    owned_by = owned_by or action.owned_by
    if owner is None and not owner_name.strip():
        raise ValidationError({"owner": "Name the new owner."})
    _validate_owner(card=action.card, owner=owner, owned_by=owned_by)
    old = action.owner_display
    action.owner = owner
    action.owner_name = owner_name.strip()
    changes: dict[str, list[Any]] = {"owner": [old, action.owner_display]}
    if owned_by != action.owned_by:
        changes["owned_by"] = [action.owned_by, owned_by]
        action.owned_by = owned_by
    _save_action(action)
    _record_action(action, actor=actor, changes=changes)


def _set_due_date(action: FollowUpAction, *, actor, due_date: datetime.date | None) -> None:
    """Move a locked action's due date (None: no date); the same date is refused. One history row."""
    if due_date == action.due_date:
        raise ValidationError({"due_date": "That is already the due date."})
    changes = {"due_date": [action.due_date, due_date]}
    action.due_date = due_date
    _save_action(action)
    _record_action(action, actor=actor, changes=changes)


@transaction.atomic
def action_reassign(
    *,
    actor,
    action: FollowUpAction | int,
    expected_version: int | None,
    owner=None,
    owner_name: str = "",
    owned_by: str | None = None,
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    _set_owner(action, actor=actor, owner=owner, owner_name=owner_name, owned_by=owned_by)
    return action


@transaction.atomic
def action_change_due_date(
    *, actor, action: FollowUpAction | int, expected_version: int | None, due_date: datetime.date | None
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    _set_due_date(action, actor=actor, due_date=due_date)
    return action


@transaction.atomic
def action_change(
    *,
    actor,
    action: FollowUpAction | int,
    expected_version: int | None,
    due_date: datetime.date | None = UNSET,
    owner=UNSET,
    owner_name: str = UNSET,
    owned_by: str = UNSET,
    refuse_unchanged: bool = True,
) -> FollowUpAction:
    """Change an action's due date and/or owner in one transaction, one history row per change.

    What the action page and the API's PATCH both ask for. Arguments left UNSET are not changed;
    an owner part given alone keeps the other owner parts. A due date equal to the current one
    is skipped beside an owner change; asked for alone it is refused (the page: the person meant a
    change), or, with refuse_unchanged=False, changes nothing (the API: a sync tool sends what it has).
    """
    action = _change_action(action, actor=actor, expected_version=expected_version)
    reassign = not (owner is UNSET and owner_name is UNSET and owned_by is UNSET)
    if due_date is not UNSET and (due_date != action.due_date or (not reassign and refuse_unchanged)):
        _set_due_date(action, actor=actor, due_date=due_date)
    if reassign:
        _set_owner(
            action,
            actor=actor,
            owner=action.owner if owner is UNSET else owner,
            owner_name=action.owner_name if owner_name is UNSET else owner_name,
            owned_by=None if owned_by is UNSET else owned_by,
        )
    return action
