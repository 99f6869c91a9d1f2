"""Sign-in events, and the domain events that tell the middleware which object a request changed."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver

from accounts.signals import second_factor_changed, second_factor_failed, second_factor_verified
from challenge_cards import signals as domain
from core.api.views import write_answered

from .context import current
from .middleware import request_audited
from .services import Outcome, audit_record


def _mark_recorded(request) -> None:
    audit = getattr(request, "audit", None)
    if audit is not None:
        audit.recorded = True


@receiver(user_logged_in, dispatch_uid="audit_signed_in")
def signed_in(sender, request, user, **kwargs) -> None:
    backend = getattr(user, "backend", "") or ""
    audit_record(
        action="auth.sign_in",
        outcome=Outcome.SUCCESS,
        request=request,
        actor=user,
        details={"method": "oidc" if "oidc" in backend.lower() else "password"},
    )
    _mark_recorded(request)


@receiver(user_logged_out, dispatch_uid="audit_signed_out")
def signed_out(sender, request, user, **kwargs) -> None:
    reason = getattr(request, "signed_out_because", "") if request is not None else ""
    audit_record(
        action="auth.session_expired" if reason else "auth.sign_out",
        outcome=Outcome.SUCCESS,
        request=request,
        actor=user,
        details={"reason": reason} if reason else {},
    )
    _mark_recorded(request)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", "") or "")
    audit_record(
        action="auth.sign_in_failed",
        outcome=Outcome.FAILURE,
        request=request,
        actor_username=username,
    )
    _mark_recorded(request)


def _annotate(*, event: str, object_type: str, object_id, on_behalf_of_id=None) -> None:
    audit = current()
    if audit is None:  # a service called outside a request (a task, a command)
        return
    audit.events.append(event)
    audit.object_type, audit.object_id = object_type, str(object_id)
    if on_behalf_of_id:
        audit.on_behalf_of_id = on_behalf_of_id


@receiver(write_answered, dispatch_uid="audit_write_answered")
def write_answered_(sender, request, status: int, **kwargs) -> None:
    request_audited(request, status)


@receiver(domain.cards_issued, dispatch_uid="audit_cards_issued")
def cards_issued(sender, cards, **kwargs) -> None:
    ids = ",".join(str(card.pk) for card in cards)
    _annotate(event="cards_issued", object_type="challenge_cards.challengecard", object_id=ids[:64])


@receiver(domain.card_updated, dispatch_uid="audit_card_updated")
@receiver(domain.card_reviewed, dispatch_uid="audit_card_reviewed")
def card_changed(sender, update, **kwargs) -> None:
    event = "card_reviewed" if kwargs.get("signal") is domain.card_reviewed else "card_updated"
    _annotate(
        event=event,
        object_type="challenge_cards.challengecard",
        object_id=update.card_id,
        on_behalf_of_id=update.on_behalf_of_id,
    )


@receiver(domain.action_changed, dispatch_uid="audit_action_changed")
def action_changed(sender, action, update=None, **kwargs) -> None:
    _annotate(
        event="action_changed",
        object_type="challenge_cards.followupaction",
        object_id=action.pk,
        on_behalf_of_id=getattr(update, "on_behalf_of_id", None),
    )


@receiver(domain.meeting_scheduled, dispatch_uid="audit_meeting_scheduled")
@receiver(domain.meeting_changed, dispatch_uid="audit_meeting_changed")
@receiver(domain.meeting_cancelled, dispatch_uid="audit_meeting_cancelled")
def meeting_changed(sender, meeting, signal: Signal, **kwargs) -> None:
    event = {domain.meeting_scheduled: "meeting_scheduled", domain.meeting_cancelled: "meeting_cancelled"}.get(
        signal, "meeting_changed"
    )
    _annotate(event=event, object_type="challenge_cards.meeting", object_id=meeting.pk)


@receiver(second_factor_verified, dispatch_uid="audit_second_factor_verified")
def second_factor_used(sender, user, request, kind, **kwargs) -> None:
    audit_record(
        action="auth.second_factor", outcome=Outcome.SUCCESS, request=request, actor=user, details={"kind": kind}
    )
    _mark_recorded(request)


@receiver(second_factor_failed, dispatch_uid="audit_second_factor_failed")
def second_factor_refused(sender, user, request, **kwargs) -> None:
    audit_record(action="auth.second_factor_failed", outcome=Outcome.FAILURE, request=request, actor=user)
    _mark_recorded(request)


@receiver(second_factor_changed, dispatch_uid="audit_second_factor_changed")
def second_factor_changed_(sender, user, request, kind, change, **kwargs) -> None:
    audit_record(
        action="auth.second_factor_changed",
        outcome=Outcome.SUCCESS,
        request=request,
        actor=user,
        object_type="auth.user",
        object_id=user.pk,
        details={"kind": kind, "change": change},
    )
