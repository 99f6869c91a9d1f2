"""Which kinds of notification a person receives; deputy secretaries cannot switch meeting reminders off."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from agencies.roles import roles_of

from ..models import Preference, Rule


def locked_rules(user) -> set[str]:
    """Rules this person may not switch off: meeting reminders, for deputy secretaries."""
    return {Rule.MEETING_REMINDER} if roles_of(user).deputy_of else set()


def preferences_of(user) -> dict[str, bool]:
    """Every rule, on or off for this person: on unless switched off, and always on when locked."""
    stored = dict(Preference.objects.filter(user=user).values_list("rule", "enabled"))
    locked = locked_rules(user)
    # The digest: on by default for OMB admins only.
    defaults: dict[str, bool] = {Rule.DAILY_DIGEST: roles_of(user).omb_admin}
    return {rule: (rule in locked) or stored.get(rule, defaults.get(rule, True)) for rule in Rule.values}


@transaction.atomic
def preferences_update(*, user, enabled: dict[str, bool]) -> dict[str, bool]:
    """Switch kinds of notification on or off; meeting reminders stay on for deputy secretaries."""
    unknown = set(enabled) - set(Rule.values)
    if unknown:
        raise ValidationError({"rule": f"Unknown notification kinds: {', '.join(sorted(unknown))}."})
    locked = locked_rules(user)
    refused = [rule for rule, on in enabled.items() if rule in locked and not on]
    if refused:
        raise ValidationError({"meeting_reminder": "Deputy secretaries always get the reminders before a meeting."})
    for rule, on in enabled.items():
        Preference.objects.update_or_create(user=user, rule=rule, defaults={"enabled": bool(on)})
    return preferences_of(user)
