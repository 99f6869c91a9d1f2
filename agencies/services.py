"""Writes to an agency's own settings."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .models import Agency
from .roles import roles_of


@transaction.atomic
def agency_set_certification(*, actor, agency: Agency | int, required: bool) -> Agency:
    """The deputy secretary (or an OMB admin) decides whether delegates' updates need certifying.

    Not in card history: the setting belongs to the agency, not to a card. It is to be recorded
    by the audit log (audit app) once that logs agency settings; no model of our own for it here.
    """
    agency = Agency.objects.select_for_update().get(pk=agency.pk if isinstance(agency, Agency) else agency)
    roles = roles_of(actor)
    if agency.pk not in roles.deputy_of and not roles.omb_admin:
        raise PermissionDenied("Only the agency's deputy secretary turns certification on or off.")
    agency.certification_required = required
    agency.save(update_fields=["certification_required", "updated_at"])
    return agency
