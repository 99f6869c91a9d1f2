"""No browser or proxy keeps a copy of what a signed-in user saw, nor of any API answer (issue 16, failure 3);
static files keep their long caching."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from core.security import SecurityHeadersMiddleware
from tests.api.conftest import client_for

NO_STORE = "no-store, private"


@pytest.mark.parametrize("path", ["/", "/cards/", "/profile/tokens/", "/admin/", "/accounts/login/"])
def test_every_page_for_a_signed_in_user_is_no_store(client, deputy, path):
    client.force_login(deputy)
    response = client.get(path)
    assert response.status_code in (200, 302, 403), response.status_code
    assert response["Cache-Control"] == NO_STORE
    assert "Expires" not in response


def test_a_signed_in_user_s_card_page_is_no_store(client, deputy, card):
    client.force_login(deputy)
    response = client.get(f"/cards/{card.pk}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.parametrize("path", ["/api/v1/cards/", "/api/v1/me/", "/api/v1/cards/export.csv", "/api/v1/nothing/"])
def test_every_api_response_is_no_store(deputy, card, path):
    response = client_for(deputy).get(path)
    assert response["Cache-Control"] == NO_STORE
    assert Client().get(path)["Cache-Control"] == NO_STORE  # the 401 too


def test_a_signed_out_visitor_s_public_page_is_left_alone(client, db):
    assert "no-store" not in client.get("/accessibility/").get("Cache-Control", "")


def test_static_files_keep_their_long_caching(rf, deputy):
    """WhiteNoise's answer for a static file passes the middleware untouched, even for a signed-in user."""
    request = rf.get(f"{settings.STATIC_URL}css/site.1234abcd.css")
    request.user = deputy
    long_caching = "max-age=315360000, public, immutable"

    def whitenoise(request):
        response = HttpResponse("body { }", content_type="text/css")
        response["Cache-Control"] = long_caching
        return response

    assert SecurityHeadersMiddleware(whitenoise)(request)["Cache-Control"] == long_caching
    request = rf.get("/cards/")
    request.user = deputy
    assert SecurityHeadersMiddleware(whitenoise)(request)["Cache-Control"] == NO_STORE
