"""The audit log export for a SIEM: OMB admins only, a date range, JSON lines streamed from a chunked cursor."""

import datetime
import json
from unittest import mock

from django.db.models import QuerySet

from audit import export
from audit.models import AuditEvent

URL = "/audit/export/"


def _at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, tzinfo=datetime.UTC)


def test_only_omb_admins_export(client, deputy, omb_viewer_user):
    assert client.get(URL)["Location"].startswith("/accounts/login/")
    for person in (deputy, omb_viewer_user):
        client.force_login(person)
        assert client.get(URL, {"first": "2026-11-01", "last": "2026-11-30"}).status_code == 403


def test_the_form_and_its_errors(client, admin_user):
    client.force_login(admin_user)
    page = client.get(URL).content.decode()
    assert 'type="date"' in page and "JSON lines" in page
    response = client.get(URL, {"first": "2026-11-30", "last": "2026-11-01"})
    assert response.status_code == 400 and "must not be after" in response.content.decode()


def test_a_date_range_streams_as_json_lines_in_order(client, admin_user):
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(occurred_at=_at(1, 0), action="too.early", outcome="success"),
            AuditEvent(occurred_at=_at(2, 0), action="first.day", outcome="success", details={"n": 1}),
            AuditEvent(occurred_at=_at(3, 23), action="last.day", outcome="denied", ip_address="192.0.2.7"),
            AuditEvent(occurred_at=_at(4, 0), action="too.late", outcome="success"),
        ]
    )
    client.force_login(admin_user)
    response = client.get(URL, {"first": "2026-11-02", "last": "2026-11-03"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == 'attachment; filename="audit-2026-11-02-to-2026-11-03.jsonl"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["action"] for e in events] == ["first.day", "last.day"]
    assert events[0]["occurred_at"] == "2026-11-02T00:00:00Z" and events[0]["details"] == {"n": 1}
    assert events[1]["ip_address"] == "192.0.2.7" and set(events[1]) == set(export.FIELDS)
    # The export itself is in the log.
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor == admin_user and exported.details == {"from": "2026-11-02", "to": "2026-11-03"}


def test_many_rows_stream_from_a_chunked_cursor(client, admin_user):
    total = 5000
    AuditEvent.objects.bulk_create(
        AuditEvent(occurred_at=_at(10) + datetime.timedelta(seconds=i), action="bulk", outcome="success", object_id=i)
        for i in range(total)
    )
    chunk_sizes = []
    iterator = QuerySet.iterator

    def spy(queryset, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return iterator(queryset, chunk_size=chunk_size)

    client.force_login(admin_user)
    with mock.patch.object(QuerySet, "iterator", spy):
        response = client.get(URL, {"first": "2026-11-10", "last": "2026-11-10"})
        assert response.streaming and chunk_sizes == []  # nothing is read before the body is
        body = iter(response.streaming_content)
        first = json.loads(next(body))
        assert first["action"] == "bulk" and first["object_id"] == "0"
        assert chunk_sizes == [export.CHUNK_SIZE] and total > export.CHUNK_SIZE
        rest = [json.loads(line) for line in body]
    assert len(rest) == total - 1
    assert [e["object_id"] for e in rest[-2:]] == [str(total - 2), str(total - 1)]
