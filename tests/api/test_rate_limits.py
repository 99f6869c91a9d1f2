"""Rate limits per user as well as per token, and a cap on live tokens per user (issue 16, failure 7)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from agencies.tokens import token_create, token_revoke
from tests.api.conftest import client_for
from tests.api.test_errors import assert_problem

CAP_MESSAGE = "You already have 3 live API tokens, the most one person may hold."


@pytest.fixture(autouse=True)
def _whole_budgets():
    """Each test starts with whole budgets: on SQLite a user's id comes again in the next test (and in the next
    run on either database), and the budget kept in Redis under it with it."""
    cache.clear()


def test_a_user_s_tokens_share_one_budget(world, settings):
    """Minting a second token does not double what a user may send."""
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "100/minute", "4/minute"
    deputy = world["users"]["deputy"]
    first, second = client_for(deputy), client_for(deputy)
    statuses = [client.get("/api/v1/me/").status_code for client in (first, second, first, second)]
    assert statuses == [200, 200, 200, 200]
    response = second.get("/api/v1/me/")
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert first.get("/api/v1/me/").status_code == 429
    assert client_for(world["users"]["delegate"]).get("/api/v1/me/").status_code == 200  # another user's budget


def test_each_token_still_has_its_own_budget_inside_the_user_s(world, settings):
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "2/minute", "100/minute"
    deputy = world["users"]["deputy"]
    busy, quiet = client_for(deputy), client_for(deputy)
    assert [busy.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert quiet.get("/api/v1/me/").status_code == 200


def test_a_browser_session_gets_its_whole_budget(world, settings):
    """A signed-in browser calling the API is counted once a request, not once per throttle."""
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "4/minute", "4/minute"
    from django.test import Client

    browser = Client()
    browser.force_login(world["users"]["deputy"])
    assert [browser.get("/api/v1/me/").status_code for _ in range(5)] == [200, 200, 200, 200, 429]


@pytest.fixture
def three_tokens(deputy, settings):
    settings.API_TOKENS_PER_USER = 3
    return [token_create(user=deputy, name=f"tool {n}")[0] for n in range(3)]


def test_live_tokens_per_user_are_capped(deputy, three_tokens):
    with pytest.raises(ValidationError) as refused:
        token_create(user=deputy, name="a fourth tool")
    assert CAP_MESSAGE in refused.value.messages[0]
    token_revoke(actor=deputy, token=three_tokens[0])
    token_create(user=deputy, name="a fourth tool")  # a revoked token no longer counts


def test_an_expired_token_does_not_count(deputy, three_tokens):
    three_tokens[0].expires_at = timezone.now() - datetime.timedelta(days=1)
    three_tokens[0].save(update_fields=["expires_at"])
    token_create(user=deputy, name="a fourth tool")


def test_the_profile_page_says_why_no_token_was_made(client, deputy, three_tokens):
    client.force_login(deputy)
    response = client.post("/profile/tokens/", {"name": "a fourth tool"})
    assert response.status_code == 400
    assert CAP_MESSAGE in response.content.decode()
    assert deputy.api_tokens.count() == 3


def test_create_api_token_says_why_no_token_was_made(deputy, three_tokens):
    with pytest.raises(CommandError, match=CAP_MESSAGE):
        call_command("create_api_token", deputy.username, stdout=StringIO(), stderr=StringIO())
