"""Who may do what through the API: every role x endpoint x method x own/other agency.

Scoping as on the pages: another agency's object is a 404, read-only roles get a 403
on writes, anonymous callers a 401. "own" is the Treasury card and action (the agency
the deputy, delegate and agency viewer belong to); "other" is Labor's.
"""

from __future__ import annotations

import pytest

from core.api.views import etag_for
from tests import factories
from tests.api.conftest import client_for

ROLES = ["omb_admin", "omb_viewer", "deputy", "delegate", "agency_viewer", "anonymous"]


def _card(world, target):
    return world["own_card" if target == "own" else "other_card"]


def _action(world, target):
    return world["own_action" if target == "own" else "other_action"]


def _agency(world, target):
    return world["agency" if target == "own" else "other_agency"]


# name: (method, path, body, if_match) built from the world and the target.
ENDPOINTS = {
    "card detail": lambda w, t: ("get", f"/api/v1/cards/{_card(w, t).pk}/", None, None),
    "card history": lambda w, t: ("get", f"/api/v1/cards/{_card(w, t).pk}/updates/", None, None),
    "action detail": lambda w, t: ("get", f"/api/v1/actions/{_action(w, t).pk}/", None, None),
    "agency detail": lambda w, t: ("get", f"/api/v1/agencies/{_agency(w, t).pk}/", None, None),
    "meeting detail": lambda w, t: ("get", f"/api/v1/meetings/{w['meeting'].pk}/", None, None),
    "post card update": lambda w, t: (
        "post",
        f"/api/v1/cards/{_card(w, t).pk}/updates/",
        {"status": "in_progress", "note": "Hiring started."},
        etag_for("card", _card(w, t)),
    ),
    "review card": lambda w, t: (
        "post",
        f"/api/v1/cards/{_card(w, t).pk}/review/",
        {"omb_rating": "yellow"},
        etag_for("card", _card(w, t)),
    ),
    "carry card over": lambda w, t: (
        "post",
        f"/api/v1/cards/{_card(w, t).pk}/carry-over/",
        {"reason": "Needs another month."},
        etag_for("card", _card(w, t)),
    ),
    "issue card": lambda w, t: (
        "post",
        "/api/v1/cards/",
        {
            "meeting": w["meeting"].pk,
            "agencies": [_agency(w, t).pk],
            "title": "Ramp up CX capacity",
            "ask": "Name a CX lead.",
            "priority": w["priority"].pk,
        },
        None,
    ),
    "add action": lambda w, t: (
        "post",
        "/api/v1/actions/",
        {"card": _card(w, t).pk, "description": "Draft the hiring plan"},
        None,
    ),
    "change action": lambda w, t: (
        "patch",
        f"/api/v1/actions/{_action(w, t).pk}/",
        {"due_date": "2030-01-31"},
        etag_for("action", _action(w, t)),
    ),
    "complete action": lambda w, t: (
        "post",
        f"/api/v1/actions/{_action(w, t).pk}/complete/",
        {"note": "Done."},
        etag_for("action", _action(w, t)),
    ),
    "drop action": lambda w, t: (
        "post",
        f"/api/v1/actions/{_action(w, t).pk}/drop/",
        {"reason": "No longer needed."},
        etag_for("action", _action(w, t)),
    ),
    "change meeting": lambda w, t: (
        "patch",
        f"/api/v1/meetings/{w['meeting'].pk}/",
        {"location": "Room 350"},
        etag_for("meeting", w["meeting"]),
    ),
    "cancel meeting": lambda w, t: (
        "post",
        f"/api/v1/meetings/{w['meeting'].pk}/cancel/",
        {},
        etag_for("meeting", w["meeting"]),
    ),
}

AGENCY_READ = {"own": 200, "other": 404}
ALL_READ = {"own": 200, "other": 200}
AGENCY_WRITE = {"own": "ok", "other": 404}
ALL = {"own": "ok", "other": "ok"}
FORBIDDEN = {"own": 403, "other": 403}
FORBIDDEN_OR_HIDDEN = {"own": 403, "other": 404}

# Expected status per endpoint and role; "ok" is 200 or 201 (the endpoint's success status).
EXPECTED = {
    "card detail": {
        "omb_admin": ALL_READ,
        "omb_viewer": ALL_READ,
        "deputy": AGENCY_READ,
        "delegate": AGENCY_READ,
        "agency_viewer": AGENCY_READ,
    },
    "post card update": {
        "omb_admin": FORBIDDEN,
        "omb_viewer": FORBIDDEN,
        "deputy": AGENCY_WRITE,
        "delegate": AGENCY_WRITE,
        "agency_viewer": FORBIDDEN,
    },
    "review card": {
        "omb_admin": ALL,
        "omb_viewer": FORBIDDEN,
        "deputy": FORBIDDEN_OR_HIDDEN,
        "delegate": FORBIDDEN_OR_HIDDEN,
        "agency_viewer": FORBIDDEN,
    },
    "issue card": {
        "omb_admin": ALL,
        "omb_viewer": FORBIDDEN,
        "deputy": FORBIDDEN,
        "delegate": FORBIDDEN,
        "agency_viewer": FORBIDDEN,
    },
    # Another agency's card cannot even be named in the body: it "does not exist" (404, as in a path).
    "add action": {
        "omb_admin": ALL,
        "omb_viewer": FORBIDDEN,
        "deputy": {"own": "ok", "other": 404},
        "delegate": {"own": "ok", "other": 404},
        "agency_viewer": FORBIDDEN,
    },
    "change meeting": {
        "omb_admin": ALL,
        "omb_viewer": FORBIDDEN,
        "deputy": FORBIDDEN,
        "delegate": FORBIDDEN,
        "agency_viewer": FORBIDDEN,
    },
}
EXPECTED["card history"] = EXPECTED["action detail"] = EXPECTED["card detail"]
EXPECTED["agency detail"] = EXPECTED["meeting detail"] = dict.fromkeys(ROLES[:-1], ALL_READ)
EXPECTED["carry card over"] = EXPECTED["review card"]
EXPECTED["change action"] = EXPECTED["complete action"] = EXPECTED["drop action"] = {
    "omb_admin": ALL,
    "omb_viewer": FORBIDDEN,
    "deputy": AGENCY_WRITE,
    "delegate": AGENCY_WRITE,
    "agency_viewer": FORBIDDEN,
}
EXPECTED["cancel meeting"] = EXPECTED["change meeting"]

CASES = [
    pytest.param(endpoint, role, target, id=f"{endpoint}-{role}-{target}")
    for endpoint in ENDPOINTS
    for role in ROLES
    for target in ("own", "other")
]


@pytest.mark.parametrize(("endpoint", "role", "target"), CASES)
def test_permission_matrix(world, endpoint, role, target):
    factories.MeetingFactory()  # a later meeting, so a card can be carried over to it
    method, path, body, if_match = ENDPOINTS[endpoint](world, target)
    client = client_for(world["users"][role])
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}
    response = getattr(client, method)(path, body, format="json", **headers)

    if role == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        return
    expected = EXPECTED[endpoint][role][target]
    if expected in ("ok", 200):
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == expected, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == expected


@pytest.mark.parametrize("role", ROLES[:-1])
@pytest.mark.parametrize("path", ["/api/v1/cards/", "/api/v1/actions/", "/api/v1/meetings/", "/api/v1/agencies/"])
def test_lists_show_only_what_the_role_may_see(world, role, path):
    response = client_for(world["users"][role]).get(path)
    assert response.status_code == 200
    agencies = {row.get("agency", row.get("id")) for row in response.json()["results"]}
    agency_roles = {"deputy", "delegate", "agency_viewer"}
    if path in ("/api/v1/cards/", "/api/v1/actions/") and role in agency_roles:
        assert agencies == {world["agency"].pk}
    elif path in ("/api/v1/cards/", "/api/v1/actions/"):
        assert agencies == {world["agency"].pk, world["other_agency"].pk}
    elif path == "/api/v1/meetings/":  # meetings are council-wide
        assert {row["id"] for row in response.json()["results"]} == {world["meeting"].pk}
    else:  # agencies are public facts
        assert agencies == {world["agency"].pk, world["other_agency"].pk}


@pytest.mark.parametrize("query", [{}, {"search": "a"}, {"ordering": "-title", "page_size": 5}])
def test_the_card_list_kept_sql_never_serves_one_scope_to_another(world, query):
    """The list's SQL is kept per key (core.db.compiled): users taking turns each get their own agency's page."""
    own, other = world["own_card"], world["other_card"]
    own.title, other.title = "A Treasury card", "A Labor card"
    own.save(), other.save()
    expected = {"deputy": [own.pk], "other_deputy": [other.pk], "omb_admin": sorted([own.pk, other.pk])}
    clients = {role: client_for(world["users"][role]) for role in expected}
    for _ in range(2):
        for role, client in clients.items():
            listed = client.get("/api/v1/cards/", query).json()
            assert sorted(row["id"] for row in listed["results"]) == expected[role], role
            assert listed["count"] == len(expected[role])
            actions = {action["card"] for row in listed["results"] for action in row["actions"]}
            assert actions == set(expected[role]), role


@pytest.mark.parametrize("keep_as", [None, "first", ("second",)])
def test_the_card_list_selector_keeps_sql_only_under_the_caller_s_name(world, keep_as):
    """Two callers that build the cards differently (all visible cards; one agency's) never share kept SQL."""
    from django.http import QueryDict

    from challenge_cards import selectors
    from challenge_cards.api.serializers import ChallengeCardSerializer, FollowUpActionSerializer
    from challenge_cards.models import ChallengeCard

    admin = world["users"]["omb_admin"]
    everything = ChallengeCard.objects.visible_to(admin).order_by("due_date", "id")
    one_agency = everything.filter(agency=world["agency"])
    read = {
        "columns": ChallengeCardSerializer.row_columns(),
        "action_columns": FollowUpActionSerializer.row_columns(),
        "params": QueryDict(""),
        "number": 1,
        "size": 50,
    }
    all_page = selectors.card_list_page(admin, cards=everything, keep_as=keep_as, **read)
    other_name = None if keep_as is None else ("other", keep_as)
    own_page = selectors.card_list_page(admin, cards=one_agency, keep_as=other_name, **read)
    assert (all_page.total, own_page.total) == (everything.count(), 1)
    assert [row[0] for row, _ in own_page.items] == [world["own_card"].pk]


def test_a_user_without_any_role_sees_no_cards(world):
    loner = factories.UserFactory(username="no.role")
    response = client_for(loner).get("/api/v1/cards/")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def _add_action(world, role, **body):
    payload = {"card": world["own_card"].pk, "description": "SECRET TREASURY PLAN", **body}
    return client_for(world["users"][role]).post("/api/v1/actions/", payload, format="json")


def test_an_action_owner_outside_the_caller_s_reach_does_not_exist(world):
    """Another agency's deputy cannot be named (nor their name read back) through an action's owner."""
    from challenge_cards.models import FollowUpAction

    other = world["users"]["other_deputy"]
    for owned_by in ("omb", "agency"):
        response = _add_action(world, "delegate", owner=other.pk, owned_by=owned_by)
        assert response.status_code == 404, response.content  # as any object the caller may not see
        assert list(response.json()["errors"]) == ["owner"]
        assert other.get_full_name() not in response.content.decode()
    assert not FollowUpAction.objects.filter(description="SECRET TREASURY PLAN").exists()


def test_an_owner_on_the_wrong_side_is_a_400_on_owner(world):
    deputy, admin = world["users"]["deputy"], world["users"]["omb_admin"]
    response = _add_action(world, "delegate", owner=deputy.pk, owned_by="omb")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["owner"]
    response = _add_action(world, "omb_admin", owner=world["users"]["other_deputy"].pk, owned_by="omb")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["owner"]
    response = _add_action(world, "delegate", owner=admin.pk, owned_by="omb")
    assert response.status_code == 201 and response.json()["owner"] == admin.pk
    action = world["own_action"]
    response = client_for(deputy).patch(
        f"/api/v1/actions/{action.pk}/",
        {"owner": world["users"]["other_deputy"].pk},
        format="json",
        HTTP_IF_MATCH=etag_for("action", action),
    )
    assert response.status_code == 404 and list(response.json()["errors"]) == ["owner"]  # not theirs to name


@pytest.mark.parametrize("role", ["deputy", "delegate"])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("post", "complete/", {"note": "Done."}),
        ("post", "drop/", {"reason": "Not needed."}),
        ("patch", "", {"due_date": "2031-01-31"}),
        ("patch", "", {"owned_by": "agency", "owner_name": "CHCO"}),
    ],
)
def test_agency_users_read_but_cannot_change_omb_owned_actions(world, role, method, suffix, body):
    action = factories.FollowUpActionFactory(
        card=world["own_card"], owned_by="omb", owner=world["users"]["omb_admin"], owner_name=""
    )
    client = client_for(world["users"][role])
    assert client.get(f"/api/v1/actions/{action.pk}/").status_code == 200
    response = getattr(client, method)(
        f"/api/v1/actions/{action.pk}/{suffix}", body, format="json", HTTP_IF_MATCH=etag_for("action", action)
    )
    assert response.status_code == 403, response.content
    action.refresh_from_db()
    assert (action.status, action.owned_by, action.version) == ("open", "omb", 1)
