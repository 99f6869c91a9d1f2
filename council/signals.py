"""The council's domain events, sent by its services inside their transaction (notifications listens)."""

from django.dispatch import Signal

# comment: Comment; mentioned: list[User] (newly mentioned, all may see the card); actor: User
comment_posted = Signal()
comment_edited = Signal()
# initiative: Initiative; kind: InitiativeChange.Kind value; actor: User | None
initiative_changed = Signal()
# record: MeetingRecord; version: RecordVersion; actor: User | None (None: published by the meeting's close)
record_published = Signal()
