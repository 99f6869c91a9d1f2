"""At every sign-in (the page, the admin's, single sign-on): note whether a second factor is still due."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import policy


@receiver(user_logged_in, dispatch_uid="accounts_second_factor_due")
def second_factor_due(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    step = policy.second_factor_step(user, getattr(user, "backend", "") or "")
    if step is None:
        request.session.pop(policy.SECOND_FACTOR_PENDING, None)
    else:
        request.session[policy.SECOND_FACTOR_PENDING] = step
