"""Reads and visibility for initiatives, comments and meeting records: every page and API list starts here."""

from __future__ import annotations

from django.db import models

from agencies.roles import roles_of


def _has_role(user) -> bool:
    roles = roles_of(user)
    return roles.is_omb or bool(roles.agency_ids)


class InitiativeQuerySet(models.QuerySet):
    def visible_to(self, user) -> InitiativeQuerySet:
        """Initiatives and their government-wide totals are council-wide: everyone with a role sees them.

        Which agencies' cards someone sees inside one is selectors.initiatives.agency_rows_visible.
        """
        return self.all() if _has_role(user) else self.none()


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user) -> CommentQuerySet:
        """The conversation on the cards the user may see."""
        from challenge_cards.models import ChallengeCard

        return self.filter(card__in=ChallengeCard.objects.visible_to(user).values("pk"))


class MeetingRecordQuerySet(models.QuerySet):
    def visible_to(self, user) -> MeetingRecordQuerySet:
        """OMB sees drafts; the agencies see a record once it is published."""
        roles = roles_of(user)
        if roles.is_omb:
            return self.all()
        if not roles.agency_ids:
            return self.none()
        return self.filter(status="published")
