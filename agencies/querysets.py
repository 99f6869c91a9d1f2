"""Reads of agencies and memberships."""

from __future__ import annotations

from django.db import models


class AgencyQuerySet(models.QuerySet):
    def active(self) -> AgencyQuerySet:
        return self.filter(active=True)

    def visible_to(self, user) -> AgencyQuerySet:
        """Agencies are public facts: every signed-in user may see the list."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.all()


class MembershipQuerySet(models.QuerySet):
    def current(self) -> MembershipQuerySet:
        return self.filter(ended_on__isnull=True)

    def visible_to(self, user) -> MembershipQuerySet:
        from .roles import roles_of

        roles = roles_of(user)
        if roles.is_omb:
            return self.all()
        return self.filter(agency_id__in=roles.agency_ids)
