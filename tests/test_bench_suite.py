"""The benchmark suite's own logic (benchmarks/suite.py, packet.py): how it judges targets, from figures;
and that the baselines refuse and throttle as the API does.

No benchmark run: the row builders get made-up reports, as the parts write them; the baselines are
called in-process (no database for the refusals; a private redis-server for the throttle).
"""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.test_fault_redis import redis_cache  # noqa: F401  (a private redis-server)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def suite():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("suite")
    finally:
        sys.path.remove(str(BENCHMARKS))


def _pages(size: str, **p50: float) -> dict:
    names = {
        "list": "API card list (OMB admin, 50/page)",
        "review": "review board (OMB)",
        "page1": "card list page, page 1",
        "page1500": "card list page, page 1500",
        "search": "API ?search=hiring",
    }
    return {"size": size, "paths": {names[k]: {"p50_ms": v, "p95_ms": v * 2, "sql": 5} for k, v in p50.items()}}


def test_a_page_meets_its_target_only_within_3x_the_list_and_flat_from_large_to_x3(suite):
    flat = {"large": _pages("large", list=20, review=55), "x3": _pages("x3", list=21, review=60)}
    growing = {"large": _pages("large", list=20, review=55), "x3": _pages("x3", list=21, review=90)}
    slow = {"large": _pages("large", list=20, review=70), "x3": _pages("x3", list=21, review=70)}

    def review(pages):
        return next(row for row in suite.page_rows(pages) if row["path"].startswith("review board"))

    assert review(flat)["met"] is True
    assert review(growing)["met"] is False
    assert review(slow)["met"] is False
    assert review({"large": flat["large"]})["met"] is None  # no x3: not judged
    assert "x3/large 1.09" in review(flat)["ratio"]


def test_a_path_that_did_not_answer_200_is_not_judged(suite):
    pages = {"large": _pages("large", list=20, review=5), "x3": _pages("x3", list=21, review=5)}
    pages["large"]["paths"]["review board (OMB)"]["errors"] = 20  # e.g. redirected to a sign-in step
    row = next(row for row in suite.page_rows(pages) if row["path"].startswith("review board"))
    assert row["met"] is None and "20 NOT 200" in row["now"]


def test_deep_pages_are_judged_against_page_one(suite):
    pages = {
        "large": _pages("large", list=20, page1=80, search=40),
        "x3": _pages("x3", page1=80, page1500=200, search=90),
    }
    deep = suite.deep_rows(pages)[0]
    assert deep["met"] is False and deep["ratio"] == "2.50x page 1" and "(x3)" in deep["path"]
    pages["x3"]["paths"]["card list page, page 1500"]["p50_ms"] = 90  # by its Next link: judged
    pages["x3"]["paths"]["card list page, page 1500 by number"] = {"p50_ms": 200, "p95_ms": 400, "sql": 5}
    deep = suite.deep_rows(pages)[0]
    assert (deep["met"], deep["ratio"]) == (True, "1.12x page 1")
    assert deep["now"] == "p1500 90 ms; by number (a jump): p1500 200 ms"  # shown beside, not judged


def test_deep_pages_are_measured_as_reached_by_the_links_of_the_page_before_and_by_number_beside(suite):
    pages = importlib.import_module("pages")  # benchmarks/pages.py, on the path the suite fixture set
    found = {
        name: (who, path)
        for name, who, path in pages.paths(90_000, cursor_of="next of {}".format, next_link_of="Next of {}".format)
    }
    assert found["card list page, page 1500"] == ("omb", "Next of /cards/?page=1499")
    assert found["card list page, page 1500 by number"] == ("omb", "/cards/?page=1500")
    assert found["API card list, page 1500"] == ("api", "next of /api/v1/cards/?page=1499&page_size=50")


def _growth(large: float, x3: float, errors: int = 0) -> dict:
    """growth.json as benchmarks/growth.py writes it."""
    sizes = {size: {"n": 40, "p50_ms": p50, "p95_ms": p50 * 2} for size, p50 in (("large", large), ("x3", x3))}
    return {"paths": {"API ?search=hiring": {**sizes, "x3_over_large": round(x3 / large, 2), "errors": errors}}}


def test_search_is_judged_by_its_growth_with_the_sizes_side_by_side(suite):
    assert suite.search_row(_growth(40, 90))["met"] is False
    assert suite.search_row(_growth(40, 51))["met"] is False
    assert suite.search_row(_growth(40, 42))["met"] is True
    assert suite.search_row(_growth(40, 42))["ratio"] == "x3/large 1.05"
    assert suite.search_row(_growth(40, 42, errors=3))["met"] is None  # a path that did not answer 200
    assert suite.search_row(None)["now"] == "not measured"


def test_api_rows_report_ratios_and_the_update_statement_limit(suite):
    latency = {"app": {"p50_ms": 20, "p95_ms": 30}, "baseline": {"p50_ms": 10, "p95_ms": 15}}
    listing = {"app_rps": 80, "baseline_rps": 100, "ratio": 0.8, "latency": latency, "same_data": True}
    detail = {**listing, "ratio": 0.4}
    update = {"latency": latency, "ratio_p50": 2.0, "same_rows": True, "same_answer": True, "baseline_statements": 7}
    report = {
        "paths": {
            "card list": {**listing, "app_statements": 4, "baseline_statements": 2},
            "card detail": {**detail, "app_statements": 4, "baseline_statements": 4},
            "update": {**update, "app_statements": 22},
        }
    }
    rows = suite.api_rows(report)
    assert [row["met"] for row in rows] == [True, False, False]  # 22 statements > 10, though 2.0x <= 2.5x
    assert rows[0]["ratio"] == "80%"
    assert suite.api_rows(None)[0]["now"] == "not measured"


def test_reminders_and_packet_rows(suite):
    worker = {"per_second": 20.0, "received": 1000, "seconds": 50.0, "duplicates": 0, "lost": 0}
    report = {"count": 1000, "worker": worker, "deliver_statements": 7}
    report["one_process"] = {"per_second": 200.0}
    report["plain_smtp"] = {"per_second": 700.0}
    row = suite.reminder_row(report)
    assert row["met"] is False and row["ratio"] == "10% of one process"
    assert suite.reminder_row({**report, "worker": {**worker, "per_second": 150.0}})["met"] is True
    assert suite.reminder_row({**report, "worker": {**worker, "per_second": 150.0, "duplicates": 1}})["met"] is False

    killed = {"status": "killed at the time limit (180 s)", "seconds": 181, "peak_mb": 2100}
    killed["memory_still_growing_when_stopped"] = True
    small = {"status": "finished", "seconds": 9, "peak_mb": 200, "memory_still_growing_when_stopped": False}
    row = suite.packet_row({"results": {"large": killed, "small": small}, "met": False})
    assert row["met"] is False and "still growing" in row["now"] and row["ratio"] == "10.5x small's memory"


@pytest.fixture
def packet():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("packet")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_packet_benchmark_reads_a_process_memory(packet):
    rss, peak = packet.memory_mb(os.getpid())
    assert 0 < rss <= peak
    assert packet.memory_mb(2**22 + 7) == (0.0, 0.0)  # no such process


def test_the_packet_benchmark_adds_up_the_builds_children(packet):
    """The build lays out agencies in child processes: their memory counts against the packet's limit."""
    holder = "import sys, time; block = b\"x\" * (80 * 1024 * 1024); print('ready', flush=True); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert child.pid in packet.descendants(os.getpid())
        alone_rss, alone_peak = packet.memory_mb(os.getpid())
        tree_rss, tree_peak = packet.tree_memory_mb(os.getpid())
        assert tree_rss >= alone_rss + 80 and tree_peak >= alone_peak + 80
    finally:
        child.kill()
        child.wait()
    assert child.pid not in packet.descendants(os.getpid())


# --- the baselines do the API's job: who is asking, the throttle ----------------------------------


@pytest.fixture
def baseline(monkeypatch):
    """benchmarks/baseline_wsgi.py (the card list; detail and update by path), with no database."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delenv("BASELINE_DATABASE_URL", raising=False)  # a query would fail: none is expected
    threshold = gc.get_threshold()
    yield importlib.import_module("baseline_wsgi")
    gc.unfreeze()  # importing it froze pytest's objects as a server's start-up (core.runtime.freeze_start_up)
    gc.set_threshold(*threshold)


def _call(application, path: str, authorization: str | None, method: str = "GET") -> tuple[str, dict]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "HTTP_HOST": "testserver"}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    answered: dict = {}

    def start_response(status, headers):
        answered.update(status=status, headers=dict(headers))

    application(environ, start_response)
    return answered["status"], answered["headers"]


@pytest.mark.parametrize("path", ["/api/v1/cards/", "/api/v1/cards/7/"])
@pytest.mark.parametrize("authorization", [None, "", "Basic abc", "Bearer", "Bearer a b", "Bearer " + "x" * 201])
def test_a_baseline_refuses_a_request_without_a_usable_bearer_token_as_the_api_does(baseline, path, authorization):
    status, headers = _call(baseline.application, path, authorization)
    assert status == "401 Unauthorized"
    assert headers["WWW-Authenticate"] == 'Bearer realm="api"'


def _token_row(token) -> tuple:
    """The row baseline_auth.TOKEN_SQL reads: the token and its user."""
    user = token.user
    return (
        *(token.pk, user.pk, token.prefix, token.expires_at, token.last_used_at, token.revoked_at),
        *(user.is_active, user.username, user.first_name, user.last_name, user.date_joined),
    )


def test_the_baselines_count_in_the_app_s_budgets_with_its_script(request, deputy, settings, monkeypatch):
    """The app takes two requests of a token's 3 a minute; the baseline the third, then refuses as the app
    would: the same keys, script and rates, one EVALSHA a request through its own redis-py client."""
    from rest_framework.test import APIClient

    from agencies.tokens import token_create

    port = request.getfixturevalue("redis_cache")["port"]  # the app's cache too
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "3/minute", "100/minute"
    token, raw = token_create(user=deputy, name="Treasury tracker")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [api.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    auth = importlib.import_module("baseline_auth")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setattr(auth, "_redis", None)
    sent: list[str] = []
    client = auth.redis_client()
    original = client.execute_command
    monkeypatch.setattr(client, "execute_command", lambda *a, **o: sent.append(a[0]) or original(*a, **o))

    auth.throttle(_token_row(token), token.key_hash)  # the budget's third request
    with pytest.raises(auth.Answer) as refused:
        auth.throttle(_token_row(token), token.key_hash)
    assert refused.value.status == "429 Too Many Requests"
    assert 15 <= int(refused.value.headers["Retry-After"]) <= 20  # the next is due 20 s after the first
    assert sent.count("EVALSHA") == 2 and set(sent) <= {"EVALSHA", "SCRIPT LOAD"}
    assert api.get("/api/v1/me/").status_code == 429  # the app agrees: its budget is spent
