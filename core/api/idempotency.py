"""Idempotency-Key records: a retried POST gets the first response instead of a duplicate.

The record is claimed (inserted, unique per user and key) before the request runs, so two
concurrent retries cannot both create; it is filled with the response when it succeeds and
removed when it fails, so a corrected request may reuse the key.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import IdempotencyRecord

KEEP_FOR = datetime.timedelta(hours=24)


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps({"method": method, "path": path, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: new (run the request), replay, reused or in progress."""

    outcome: str
    record: IdempotencyRecord


def idempotency_claim(*, user, key: str, fingerprint: str) -> Claim:
    now = timezone.now()
    IdempotencyRecord.objects.filter(user=user, key=key, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, key=key, request_hash=fingerprint, expires_at=now + KEEP_FOR
            )
        return Claim("new", record)
    except IntegrityError:
        record = IdempotencyRecord.objects.get(user=user, key=key)
    if record.request_hash != fingerprint:
        return Claim("reused", record)
    if record.response_status is None:
        return Claim("in_progress", record)
    return Claim("replay", record)


def idempotency_complete(*, record: IdempotencyRecord, status: int, body: Any, headers: dict[str, str]) -> None:
    """Keep a successful response for replay; forget a failed one so the key can be retried."""
    if 200 <= status < 300:
        record.response_status = status
        record.response_body = json.loads(json.dumps(body, default=str))
        record.response_headers = headers
        record.save(update_fields=["response_status", "response_body", "response_headers"])
    else:
        IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def idempotency_purge_expired(now: datetime.datetime | None = None) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
