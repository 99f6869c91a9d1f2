"""Browser sessions: kept in the database, read from the cache (Redis), and still served when Redis is down.

Django's cached_db store reads a session from the cache and falls back to the database on a miss,
so a page usually pays no SQL query for its session. But it lets a cache error escape from a few
calls (the write-back after a miss, `exists` when a new session key is drawn, `delete` at sign-in
and sign-out), so a stopped Redis would turn sign-in and sign-out into 500s. Here every cache call
is best effort: an unreachable cache is a miss, and the database stays the record.

Entries are kept in the cache for at most SESSION_CACHE_SECONDS: if Redis is unreachable from a
web host while a session changes (sign-out included) and then comes back with the old entry, that
old entry can be served for at most that long.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

logger = logging.getLogger("django.contrib.sessions")


def _with_current_backend(data: dict) -> dict:
    """A session signed in through a backend that has since moved (SESSION_BACKEND_RENAMES: old dotted
    path -> new) names the new one, so a deploy that moves a backend signs nobody out."""
    renamed = settings.SESSION_BACKEND_RENAMES.get(data.get(BACKEND_SESSION_KEY, ""))
    if renamed:
        data[BACKEND_SESSION_KEY] = renamed
    return data


class SessionStore(cached_db.SessionStore):
    def _cache_call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._cache, method)(*args)  # type: ignore[attr-defined]  # django-stubs lacks it
        except Exception:
            logger.warning("Session cache unreachable (%s); using the database", method, exc_info=True)
            return None

    def _cache_seconds(self, expiry_age: int) -> int:
        return max(0, min(expiry_age, settings.SESSION_CACHE_SECONDS))

    def load(self) -> dict:
        data = self._cache_call("get", self.cache_key)
        if data is not None:
            return _with_current_backend(data)
        stored = self._get_session_from_db()  # type: ignore[attr-defined]  # django-stubs lacks it
        if not stored:
            return {}
        data = _with_current_backend(self.decode(stored.session_data))
        self._cache_call(
            "set", self.cache_key, data, self._cache_seconds(self.get_expiry_age(expiry=stored.expire_date))
        )
        return data

    def exists(self, session_key: str) -> bool:
        if session_key and self._cache_call("has_key", self.cache_key_prefix + session_key):
            return True
        return DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DBStore.save(self, must_create)
        session = self._session  # type: ignore[attr-defined]  # django-stubs lacks it
        self._cache_call("set", self.cache_key, session, self._cache_seconds(self.get_expiry_age()))

    def delete(self, session_key: str | None = None) -> None:
        DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache_call("delete", self.cache_key_prefix + session_key)
