"""The conversation on a card: mentions only of people who may see it, the 15-minute edit window, the record kept."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from council import services
from council.models import Comment, CommentRevision
from notifications.models import Notification, Preference, Rule


def test_a_mention_of_someone_who_may_see_the_card_notifies_them(card, delegate, admin_user):
    comment = services.comment_post(actor=admin_user, card=card, body="@delegate.treas can you send the hires?")
    assert list(comment.mentions.values_list("username", flat=True)) == ["delegate.treas"]
    (note,) = Notification.objects.filter(rule=Rule.MENTION)
    assert (note.recipient, note.card, note.url) == (delegate, card, f"/cards/{card.pk}/#comment-{comment.pk}")


def test_nobody_outside_the_card_visibility_can_be_mentioned_or_notified(card, deputy, other_deputy):
    with pytest.raises(ValidationError, match="@deputy.dol cannot"):
        services.comment_post(actor=deputy, card=card, body="Thanks @deputy.dol for the tip")
    with pytest.raises(ValidationError, match="@nobody.here cannot"):
        services.comment_post(actor=deputy, card=card, body="@nobody.here look")
    assert not Comment.objects.exists()
    assert not Notification.objects.filter(rule=Rule.MENTION).exists()


def test_a_mention_follows_the_persons_preferences(card, delegate, admin_user):
    Preference.objects.create(user=delegate, rule=Rule.MENTION, enabled=False)
    services.comment_post(actor=admin_user, card=card, body="@delegate.treas please look")
    assert not Notification.objects.filter(rule=Rule.MENTION).exists()


def test_only_the_agency_and_omb_admins_comment(card, omb_viewer_user, other_deputy):
    for outsider in (omb_viewer_user, other_deputy):
        with pytest.raises(PermissionDenied):
            services.comment_post(actor=outsider, card=card, body="Hello")


def test_the_author_edits_within_15_minutes_and_every_version_is_kept(card, deputy, delegate):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        comment = services.comment_post(actor=deputy, card=card, body="We hired 30 people.")
    with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
        with pytest.raises(PermissionDenied):
            services.comment_edit(actor=delegate, comment=comment, body="Not mine", expected_version=1)
        services.comment_edit(
            actor=deputy, comment=comment, body="We hired 32 people. @delegate.treas", expected_version=1
        )
    comment.refresh_from_db()
    assert (comment.body, comment.version) == ("We hired 32 people. @delegate.treas", 2)
    assert list(CommentRevision.objects.values_list("body", flat=True)) == ["We hired 30 people."]
    assert Notification.objects.filter(rule=Rule.MENTION, recipient=delegate).count() == 1
    late = start + datetime.timedelta(minutes=16)
    with time_machine.travel(late, tick=False), pytest.raises(ValidationError, match="15 minutes"):
        services.comment_edit(actor=deputy, comment=comment, body="Too late", expected_version=2)
    with pytest.raises(ValueError, match="never deleted"):
        comment.delete()


def test_the_card_page_shows_the_conversation_and_the_api_posts(client, card, deputy, delegate):
    client.force_login(deputy)
    response = client.post(
        "/api/v1/comments/",
        {"card": card.pk, "body": "Update: @delegate.treas has the numbers"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["mentions"] == ["delegate.treas"]
    refused = client.post(
        "/api/v1/comments/", {"card": card.pk, "body": "@omb.nobody"}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused["Content-Type"].startswith("application/problem+json")
    page = client.get(card.get_absolute_url())
    history = page.content.decode()[page.content.decode().index('id="history-heading"') :]
    assert 'data-testid="timeline-comment"' in history and "has the numbers" in history
    comment_id = response.json()["id"]
    edited = client.patch(
        f"/api/v1/comments/{comment_id}/",
        {"body": "Corrected"},
        content_type="application/json",
        headers={"If-Match": response["ETag"]},
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2


def test_a_comment_posted_on_the_page_is_in_the_audit_log(client, card, deputy):
    from audit.models import AuditEvent

    client.force_login(deputy)
    response = client.post(f"/cards/{card.pk}/comments/", {"body": "We are on it."})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="request.post")
    comment = Comment.objects.get()
    assert (event.object_type, event.object_id, event.details["events"]) == (
        "council.comment",
        str(comment.pk),
        ["comment_posted"],
    )


def test_the_mention_email_quotes_the_comment_and_links_it(card, delegate, admin_user):
    from notifications import emails

    comment = services.comment_post(actor=admin_user, card=card, body="@delegate.treas the certificate is ready.")
    message = emails.build(Notification.objects.get(rule=Rule.MENTION))
    assert "the certificate is ready." in message.body
    assert f"/cards/{card.pk}/#comment-{comment.pk}" in message.body
    assert "the certificate is ready." in message.alternatives[0][0]
