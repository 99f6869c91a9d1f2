"""The benchmark suite's own logic (benchmarks/suite.py, packet.py): how it judges targets, from figures.

No database, server or benchmark run: the row builders get made-up reports, as the parts write them.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

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


def test_deep_pages_and_search_are_judged_against_page_one_and_growth(suite):
    pages = {
        "large": _pages("large", list=20, page1=80, search=40),
        "x3": _pages("x3", page1=80, page1500=200, search=90),
    }
    deep = suite.deep_rows(pages)[0]
    assert deep["met"] is False and deep["ratio"] == "2.5x page 1" and "(x3)" in deep["path"]
    assert suite.search_row(pages)["met"] is False
    pages["x3"]["paths"]["API ?search=hiring"]["p50_ms"] = 42
    assert suite.search_row(pages)["met"] is True


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


def test_the_packet_benchmark_reads_a_process_memory():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        packet = importlib.import_module("packet")
    finally:
        sys.path.remove(str(BENCHMARKS))
    rss, peak = packet.memory_mb(os.getpid())
    assert 0 < rss <= peak
    assert packet.memory_mb(2**22 + 7) == (0.0, 0.0)  # no such process
