"""Before and after values in the audit log for memberships, OMB roles, agencies, reminder rules and webhook
subscriptions, whether the change comes through the admin, a page or a service."""

import pytest
from django.db import transaction

from agencies.models import Membership, OmbRole
from audit.models import AuditEvent
from notifications.models import ReminderRule, WebhookSubscription
from tests import factories


def _changes(object_type: str):
    return list(AuditEvent.objects.filter(object_type=object_type, action__startswith="change.").order_by("id"))


def test_a_membership_changed_in_the_admin_records_the_old_and_new_role(client, admin_user, deputy, agency):
    membership = Membership.objects.get(user=deputy)
    client.force_login(admin_user)
    response = client.post(
        f"/admin/agencies/membership/{membership.pk}/change/",
        {
            "user": deputy.pk,
            "agency": agency.pk,
            "role": "viewer",
            "title": membership.title,
            "started_on": membership.started_on.isoformat() if membership.started_on else "",
            "ended_on": "2026-11-30",
        },
    )
    assert response.status_code == 302
    event = _changes("agencies.membership")[-1]
    assert event.action == "change.updated" and event.object_id == str(membership.pk)
    assert event.actor == admin_user and event.path == f"/admin/agencies/membership/{membership.pk}/change/"
    # Only the fields that changed, each with its old and new value.
    assert event.details["before"] == {"role": "deputy_secretary", "ended_on": None}
    assert event.details["after"] == {"role": "viewer", "ended_on": "2026-11-30"}
    # The request's own row tells the same story, with the same request id.
    request_row = AuditEvent.objects.get(action="request.post", request_id=event.request_id)
    assert request_row.object_type == "agencies.membership"


def test_an_omb_role_granted_changed_and_removed_in_the_admin(client, admin_user):
    person = factories.UserFactory(username="analyst.omb")
    client.force_login(admin_user)
    client.post("/admin/agencies/ombrole/add/", {"user": person.pk, "kind": "viewer"})
    role = OmbRole.objects.get(user=person)
    client.post(f"/admin/agencies/ombrole/{role.pk}/change/", {"user": person.pk, "kind": "admin"})
    client.post(f"/admin/agencies/ombrole/{role.pk}/delete/", {"post": "yes"})
    created, updated, deleted = _changes("agencies.ombrole")[-3:]
    assert (created.action, created.details["before"], created.details["after"]) == (
        "change.created",
        None,
        {"user_id": person.pk, "kind": "viewer"},
    )
    assert (updated.details["before"], updated.details["after"]) == ({"kind": "viewer"}, {"kind": "admin"})
    assert (deleted.action, deleted.details["before"], deleted.details["after"]) == (
        "change.deleted",
        {"user_id": person.pk, "kind": "admin"},
        None,
    )
    assert {created.actor, updated.actor, deleted.actor} == {admin_user}
    assert "analyst.omb" in created.details["object"]


def test_an_agency_changed_through_a_page_and_its_service(client, deputy, agency):
    client.force_login(deputy)
    client.post(f"/profile/certification/{agency.pk}/", {f"a{agency.pk}-certification_required": "on"})
    event = _changes("agencies.agency")[-1]
    assert event.details == {
        "object": str(agency),
        "before": {"certification_required": False},
        "after": {"certification_required": True},
    }
    assert event.actor == deputy and event.outcome == "success"


def test_a_reminder_rule_changed_in_the_admin(client, db):
    superuser = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    rule = ReminderRule.objects.create(rule="meeting_reminder", business_days_before=5)
    client.force_login(superuser)
    response = client.post(
        f"/admin/notifications/reminderrule/{rule.pk}/change/",
        {"rule": "meeting_reminder", "business_days_before": 3, "active": "on"},
    )
    assert response.status_code == 302
    event = _changes("notifications.reminderrule")[-1]
    assert (event.details["before"], event.details["after"]) == (
        {"business_days_before": 5},
        {"business_days_before": 3},
    )
    assert event.actor == superuser


def test_a_webhook_subscription_never_copies_its_secret(agency):
    hook = WebhookSubscription.objects.create(agency=agency, event_type="card.issued", url="https://a.example.gov/h")
    hook.url = "https://b.example.gov/h"
    hook.secret = "a-new-shared-secret"
    hook.save()
    created, updated = _changes("notifications.webhooksubscription")
    assert (
        created.details["after"]["secret"] == "(set)" and created.details["after"]["url"] == "https://a.example.gov/h"
    )
    assert updated.details["before"] == {"secret": "(changed)", "url": "https://a.example.gov/h"}
    assert updated.details["after"] == {"secret": "(changed)", "url": "https://b.example.gov/h"}
    assert "a-new-shared-secret" not in str(AuditEvent.objects.values_list("details", flat=True))
    # Outside a request (a service from a task or a command) the row stands alone: no actor, no address.
    assert updated.actor is None and updated.ip_address is None


def test_a_save_that_changes_nothing_and_a_rolled_back_change_leave_no_row(agency):
    rows = AuditEvent.objects.count()
    agency.save()
    assert AuditEvent.objects.count() == rows
    with pytest.raises(RuntimeError), transaction.atomic():
        agency.name = "Department of Nothing"
        agency.save()
        raise RuntimeError("the service refused")
    assert AuditEvent.objects.count() == rows
