"""Writing audit rows. A failure to write is logged and never breaks the request it describes."""

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
) -> AuditEvent | None:
    """Append one audit row; returns it, or None when it could not be written (the error is logged)."""
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
        # A savepoint: a failed insert must not poison a transaction the caller is in.
        with transaction.atomic():
            return AuditEvent.objects.create(**fields)
    except Exception:
        logger.exception("Could not write the audit event %s (%s)", action, outcome)
        return None
