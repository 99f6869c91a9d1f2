"""Each person's private calendar-feed URL: made, replaced (the old one stops at once) or revoked.

What the feed contains is rendered by notifications/calendar.py.
"""

from __future__ import annotations

from django.db import transaction

from ..models import CalendarFeed


def calendar_feed_of(user) -> CalendarFeed:
    """The person's feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_replace(*, user) -> CalendarFeed:
    """A new private URL; the old one stops working at once."""
    CalendarFeed.objects.filter(user=user).delete()
    return CalendarFeed.objects.create(user=user)


@transaction.atomic
def calendar_feed_revoke(*, user) -> None:
    """No feed any more: the URL stops working."""
    CalendarFeed.objects.filter(user=user).delete()
