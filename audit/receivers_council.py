"""The council's events tell the audit middleware which object a request changed (as receivers.py does for cards)."""

from __future__ import annotations

from django.dispatch import receiver

from council import signals

from .receivers import _annotate


@receiver(signals.initiative_changed, dispatch_uid="audit_initiative_changed")
def initiative_changed(sender, initiative, kind, **kwargs) -> None:
    _annotate(event=f"initiative_{kind}", object_type="council.initiative", object_id=initiative.pk)


@receiver(signals.comment_posted, dispatch_uid="audit_comment_posted")
@receiver(signals.comment_edited, dispatch_uid="audit_comment_edited")
def comment_changed(sender, comment, signal, **kwargs) -> None:
    event = "comment_edited" if signal is signals.comment_edited else "comment_posted"
    _annotate(event=event, object_type="council.comment", object_id=comment.pk)


@receiver(signals.record_published, dispatch_uid="audit_record_published")
def record_published(sender, record, version, **kwargs) -> None:
    event = "record_published" if version.number == 1 else "record_corrected"
    _annotate(event=event, object_type="council.meetingrecord", object_id=record.pk)
