"""The audit rows' request id: the proxy's X-Request-ID when it is sane, a new one otherwise."""

import pytest
from django.test import RequestFactory

from audit.context import request_id_for


@pytest.mark.parametrize("given", ["abc-123_x.y", "a" * 64, "Anfrage-ä1", "7"])
def test_a_sane_request_id_is_kept(given):
    assert request_id_for(RequestFactory().get("/", HTTP_X_REQUEST_ID=given)) == given


@pytest.mark.parametrize("given", ["", "a" * 65, "a b", "a/b", "id;drop", "new\nline", "tab\t"])
def test_any_other_request_id_is_replaced_by_a_new_one(given):
    made = request_id_for(RequestFactory().get("/", HTTP_X_REQUEST_ID=given))
    assert made != given and len(made) == 32 and made.isalnum()


def test_two_requests_without_one_get_different_ids():
    factory = RequestFactory()
    assert request_id_for(factory.get("/")) != request_id_for(factory.get("/"))
