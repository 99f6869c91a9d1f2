"""Writing audit rows. A failure to write is logged and never breaks the request it describes, except for
a row written with the change it records (with_change), which stands or falls with that change."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from .context import client_ip, current
from .models import AuditEvent

logger = logging.getLogger("audit")
Outcome = AuditEvent.Outcome


def audit_record(
    *,
    action: str,
    outcome: str,
    request=None,
    actor=None,
    actor_username: str = "",
    on_behalf_of_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    status_code: int | None = None,
    details: dict[str, Any] | None = None,
    with_change: bool = False,
) -> AuditEvent | None:
    """Append one audit row; returns it, or None when it could not be written (the error is logged).

    with_change: written inside the open transaction of the change it describes, as one INSERT (no
    savepoint): the row commits or rolls back with the change, so a change is never left without its
    row, and a failure to write it fails the change (raised, not logged and passed over).
    """
    if with_change and not transaction.get_connection().in_atomic_block:
        raise TypeError("with_change: the audit row is written inside the change's open transaction.")
    try:
        fields: dict[str, Any] = {
            "action": action,
            "outcome": outcome,
            "object_type": object_type,
            "object_id": str(object_id)[:64],
            "on_behalf_of_id": on_behalf_of_id,
            "status_code": status_code,
            "details": details or {},
        }
        if actor is not None and getattr(actor, "is_authenticated", False):
            fields["actor_id"] = actor.pk
            actor_username = actor_username or actor.get_username()
        fields["actor_username"] = (actor_username or "")[:150]
        if request is not None:
            fields["method"] = request.method or ""
            fields["path"] = request.path[:500]
            fields["ip_address"] = client_ip(request)
            fields["user_agent"] = request.headers.get("User-Agent", "")[:300]
            context = current()
            fields["request_id"] = context.request_id if context else ""
        if with_change:
            return AuditEvent.objects.create(**fields)
        # A savepoint: a failed insert must not poison a transaction the caller is in.
        with transaction.atomic():
            return AuditEvent.objects.create(**fields)
    except Exception:
        if with_change:
            raise
        logger.exception("Could not write the audit event %s (%s)", action, outcome)
        return None
