"""The audit log as JSON lines for a SIEM: one event per line, oldest first, streamed in bounded memory."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import orjson
from django.db.models import QuerySet

from .models import AuditEvent

FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "on_behalf_of_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "method",
    "path",
    "status_code",
    "ip_address",
    "user_agent",
    "request_id",
    "details",
)
# Rows fetched per round trip (a server-side cursor on PostgreSQL): the memory held is one chunk, whatever the range.
CHUNK_SIZE = 2000


def events_between(first: datetime.date, last: datetime.date) -> QuerySet:
    """Events from the start of `first` to the end of `last`, both days in UTC."""
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=datetime.UTC)
    events = AuditEvent.objects.filter(occurred_at__gte=start)
    if last < datetime.date.max:  # the day after 9999-12-31 is past what a date can hold: no end then
        end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC)
        events = events.filter(occurred_at__lt=end)
    return events.order_by("occurred_at", "id")


def json_lines(events: QuerySet) -> Iterator[bytes]:
    """One JSON object and a newline per event, read chunk by chunk."""
    for row in events.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        event = dict(zip(FIELDS, row, strict=True))
        event["occurred_at"] = event["occurred_at"].astimezone(datetime.UTC)
        yield orjson.dumps(event, option=orjson.OPT_UTC_Z) + b"\n"
