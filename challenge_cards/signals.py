"""Domain events sent by services inside their transaction.

Receivers (notifications, webhooks) write their own rows in the same transaction, so a
change and the notifications it causes commit or roll back together. Receivers must
not do I/O; they enqueue work with transaction.on_commit.
"""

from django.dispatch import Signal

# cards: list[ChallengeCard]; actor: User
cards_issued = Signal()
# card: ChallengeCard (the successor); predecessor: ChallengeCard (now carried over); actor: User
card_carried_over = Signal()
# update: CardUpdate (kind UPDATE, certified or not needing certification); actor: User
card_updated = Signal()
# update: CardUpdate (OMB review, return, carry-over); card: ChallengeCard; actor: User
card_reviewed = Signal()
# action: FollowUpAction; update: CardUpdate; actor: User
action_changed = Signal()
# meeting: Meeting; actor: User; changes: dict of field -> (old, new)
meeting_scheduled = Signal()
meeting_changed = Signal()
meeting_cancelled = Signal()
# admin: User (the demo's OMB admin); meetings: list[Meeting] (three past meetings, oldest first, then the next)
demo_seeded = Signal()
