"""Personal API tokens: create, revoke, and check one sent by an agency tool.

The secret is shown once; only its SHA-256 hash is stored, so a database leak does not
leak working tokens. High-entropy random secrets need no slow hash.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import router, transaction
from django.utils import timezone

from core.db.compiled import CompiledRead

from .models import ApiToken

TOKEN_PREFIX = "cc_"
PREFIX_LENGTH = 10  # "cc_" + 7 characters of the secret, shown in lists to tell tokens apart
# Recording the last use at most this often keeps authentication free of a write per request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
MAX_EXPIRES_DAYS = 3650


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, user, name: str, expires_days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for the user; returns the row and the secret, which is never stored."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Say what the token is for."
    elif len(name) > 100:
        errors["name"] = "Keep the name under 100 characters."
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        errors["expires_days"] = f"Choose between 1 and {MAX_EXPIRES_DAYS} days."
    if not user.is_active:
        errors["user"] = "This account is not active."
    if errors:
        raise ValidationError(errors)
    _refuse_past_the_cap(user)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=hash_token(raw),
        expires_at=timezone.now() + datetime.timedelta(days=expires_days) if expires_days else None,
    )
    return token, raw


def _refuse_past_the_cap(user) -> None:
    """At most API_TOKENS_PER_USER live tokens each: the user's row is locked, so two at once cannot pass."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    cap = settings.API_TOKENS_PER_USER
    if ApiToken.objects.filter(user=user).active().count() >= cap:
        message = (
            f"You already have {cap} live API tokens, the most one person may hold. "
            "Revoke one you no longer use (on your profile page) before creating another."
        )
        raise ValidationError({NON_FIELD_ERRORS: message})


@transaction.atomic
def token_revoke(*, actor, token: ApiToken | int) -> ApiToken:
    """Revoke a token at once; only its owner (or a superuser) may."""
    token_id = token.pk if isinstance(token, ApiToken) else token
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


class TokenRejected(Exception):
    """The token is unknown, revoked or expired; the message says which, in plain words."""


@functools.cache
def _token_and_user_columns() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(field.attname for field in ApiToken._meta.concrete_fields),
        tuple(field.attname for field in get_user_model()._meta.concrete_fields),
    )


def _token_read(key_hash: str):
    token_columns, user_columns = _token_and_user_columns()
    return (
        ApiToken.objects.filter(key_hash=key_hash)
        .order_by()
        .values_list(*token_columns, *(f"user__{column}" for column in user_columns))
    )


# Every API request reads its token; compiled once (core.db.compiled). No sha256 hex digest has a NUL.
_TOKEN_BY_HASH = CompiledRead(ApiToken, _token_read, slot="\x00key hash\x00")


def _token_with_user(key_hash: str) -> ApiToken | None:
    """The token with this hash and its user, in one query (key_hash is unique)."""
    rows = _TOKEN_BY_HASH.rows(key_hash)
    if not rows:
        return None
    token_columns, user_columns = _token_and_user_columns()
    alias = router.db_for_read(ApiToken)
    token = ApiToken.from_db(alias, token_columns, rows[0][: len(token_columns)])
    token.user = get_user_model().from_db(alias, user_columns, rows[0][len(token_columns) :])
    return token


def token_authenticate(raw: str) -> ApiToken:
    """The active token for this secret, with its user; raises TokenRejected otherwise."""
    if not raw or len(raw) > 200 or "\x00" in raw:
        raise TokenRejected("Invalid token.")
    token = _token_with_user(hash_token(raw))
    if token is None:
        raise TokenRejected("Invalid token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected("This token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected("This token has expired.")
    if not token.user.is_active:
        raise TokenRejected("This account is not active.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: concurrent requests write at most once per minute, without a lock.
        stale = ApiToken.objects.filter(pk=token.pk)
        stale = (
            stale.filter(last_used_at__isnull=True)
            if token.last_used_at is None
            else stale.filter(last_used_at__lte=now - LAST_USED_RESOLUTION)
        )
        # use_recorded tells the audit log (audit.middleware) that this request recorded the use.
        token.use_recorded = bool(stale.update(last_used_at=now))
        token.last_used_at = now
    return token
