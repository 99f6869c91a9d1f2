"""The conversation on a card: comments with @mentions, edited by their author within 15 minutes, never deleted.

A mention names someone by user name (``@deputy.treas``); only people who may see the card can be
mentioned, so nobody outside the card's visibility is ever notified (notifications listens to
comment_posted and comment_edited, and tells the newly mentioned through their preferences).
"""

from __future__ import annotations

import datetime
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from challenge_cards.models import ChallengeCard

from .. import permissions, signals
from ..models import Comment, CommentRevision
from ._common import check_version

EDIT_WINDOW = datetime.timedelta(minutes=15)
MAX_LENGTH = 5000
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_][\w.+-]*[\w])")


def mentioned_names(body: str) -> list[str]:
    """The user names a comment mentions, in order, once each."""
    return list(dict.fromkeys(MENTION.findall(body)))


def _mentioned(card: ChallengeCard, body: str) -> list:
    """The people a comment mentions; refused when one of them may not see the card (or does not exist)."""
    names = mentioned_names(body)
    if not names:
        return []
    found = {user.get_username().lower(): user for user in get_user_model().objects.filter(username__in=names)}
    people, refused = [], []
    for name in names:
        user = found.get(name.lower())
        if user is None or not permissions.can_see_card(user, card):
            refused.append(f"@{name}")
        else:
            people.append(user)
    if refused:
        raise ValidationError(
            {"body": f"Only people who can see this card can be mentioned: {', '.join(refused)} cannot."}
        )
    return people


def _clean(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a comment."})
    if len(body) > MAX_LENGTH:
        raise ValidationError({"body": f"Keep a comment under {MAX_LENGTH} characters."})
    return body


@transaction.atomic
def comment_post(*, actor, card: ChallengeCard | int, body: str) -> Comment:
    """Post a comment on a card; the people it mentions are told (they may all see the card)."""
    card_id = card.pk if isinstance(card, ChallengeCard) else card
    card = ChallengeCard.objects.select_related("agency").get(pk=card_id)
    if not permissions.can_comment(actor, card):
        raise PermissionDenied("Only the card's agency and OMB admins comment on a card.")
    body = _clean(body)
    people = _mentioned(card, body)
    comment = Comment.objects.create(card=card, author=actor, body=body, created_at=timezone.now())
    comment.mentions.set(people)
    others = [person for person in people if person.pk != actor.pk]
    signals.comment_posted.send(sender=Comment, comment=comment, mentioned=others, actor=actor)
    return comment


def editable_until(comment: Comment) -> datetime.datetime:
    return comment.created_at + EDIT_WINDOW


def can_edit(user, comment: Comment, now: datetime.datetime | None = None) -> bool:
    return comment.author_id == getattr(user, "pk", None) and (now or timezone.now()) <= editable_until(comment)


@transaction.atomic
def comment_edit(*, actor, comment: Comment | int, body: str, expected_version: int | None) -> Comment:
    """The author corrects a comment within 15 minutes; the earlier text is kept. Later, post a new comment."""
    comment_id = comment.pk if isinstance(comment, Comment) else comment
    comment = Comment.objects.select_for_update(of=("self",)).select_related("card__agency").get(pk=comment_id)
    if comment.author_id != actor.pk:
        raise PermissionDenied("Only the author edits a comment.")
    now = timezone.now()
    if now > editable_until(comment):
        raise ValidationError({"body": "A comment can be edited for 15 minutes. Post a new comment to correct it."})
    check_version(comment.version, expected_version)
    body = _clean(body)
    if body == comment.body:
        return comment
    people = _mentioned(comment.card, body)
    before = set(comment.mentions.values_list("pk", flat=True))
    CommentRevision.objects.create(comment=comment, body=comment.body, replaced_at=now, editor=actor)
    comment.body = body
    comment.edited_at = now
    comment.version += 1
    comment.save(update_fields=["body", "edited_at", "version"])
    comment.mentions.set(people)
    new = [person for person in people if person.pk not in before and person.pk != actor.pk]
    signals.comment_edited.send(sender=Comment, comment=comment, mentioned=new, actor=actor)
    return comment
