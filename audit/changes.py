"""Before and after values of the changes an OMB security office asks about, wherever they are made.

Memberships, OMB roles, agencies, reminder rules and webhook subscriptions: every save and delete, through the
admin, the pages or a service, appends an audit row in the same transaction (so a change that is rolled back
leaves no row) with the old and new value of each changed field. Secrets are never copied: a changed webhook
secret shows as "(changed)". Models are named by label, so audit imports no app it may not.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import post_delete, post_save, pre_save

from .context import current
from .services import Outcome, audit_record

# model label -> fields never copied into the log
TRACKED: dict[str, frozenset[str]] = {
    "agencies.Agency": frozenset(),
    "agencies.Membership": frozenset(),
    "agencies.OmbRole": frozenset(),
    "notifications.ReminderRule": frozenset(),
    "notifications.WebhookSubscription": frozenset({"secret"}),
}
# Bookkeeping, not a change anyone made.
IGNORED_FIELDS = frozenset({"created_at", "updated_at"})
SECRET = "(changed)"
_BEFORE = "_audit_values_before"


def _fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in IGNORED_FIELDS]


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _raw(instance) -> dict[str, Any]:
    return {f.attname: _json(f.value_from_object(instance)) for f in _fields(instance)}


def _shown(instance, values: dict[str, Any], word: str) -> dict[str, Any]:
    """The values as the log shows them: a secret field only says it was set or changed."""
    secret = {f.attname for f in _fields(instance) if f.name in TRACKED[instance._meta.label]}
    return {name: (word if name in secret else value) for name, value in values.items()}


def _remember_before(sender, instance, raw=False, **kwargs) -> None:
    """The stored row, kept on the instance (in memory only) until the save is done."""
    before = None
    if not raw and instance.pk is not None and not instance._state.adding:
        model = type(instance)
        row = model._base_manager.filter(pk=instance.pk).values(*[f.attname for f in _fields(model)]).first()
        before = {name: _json(value) for name, value in row.items()} if row is not None else None
    setattr(instance, _BEFORE, before)


def _record(instance, action: str, before: dict | None, after: dict | None) -> None:
    audit = current()
    request = audit.request if audit is not None else None
    audit_record(
        action=action,
        outcome=Outcome.SUCCESS,
        request=request,
        actor=getattr(request, "user", None),
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        details={"object": str(instance)[:200], "before": before, "after": after},
    )


def _saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    before, after = getattr(instance, _BEFORE, None), _raw(instance)
    setattr(instance, _BEFORE, None)
    if created or before is None:
        _record(instance, "change.created", None, _shown(instance, after, "(set)"))
        return
    changed = sorted(name for name in after if after[name] != before.get(name))
    if changed:
        _record(
            instance,
            "change.updated",
            _shown(instance, {n: before.get(n) for n in changed}, SECRET),
            _shown(instance, {n: after[n] for n in changed}, SECRET),
        )


def _deleted(sender, instance, **kwargs) -> None:
    _record(instance, "change.deleted", _shown(instance, _raw(instance), "(set)"), None)


def connect() -> None:
    for label in TRACKED:
        model = apps.get_model(label)
        uid = f"audit_changes_{label}"
        pre_save.connect(_remember_before, sender=model, dispatch_uid=f"{uid}_before", weak=False)
        post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}_saved", weak=False)
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}_deleted", weak=False)
