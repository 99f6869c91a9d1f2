"""The session timeouts at their production defaults (config/settings/test.py turns them off elsewhere)."""

import pytest

from config.settings import base


@pytest.fixture(autouse=True)
def production_session_timeouts(settings):
    settings.SESSION_IDLE_MINUTES = base.SESSION_IDLE_MINUTES
    settings.SESSION_MAX_HOURS = base.SESSION_MAX_HOURS
    settings.SESSION_COOKIE_AGE = base.SESSION_COOKIE_AGE
