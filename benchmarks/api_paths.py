"""The API's card list, card detail and a posted update, each against its baseline in the same run.

    .venv/bin/python benchmarks/api_paths.py [--size large] [--requests 300] [--rounds 3] [--clients 4]
                                             [--latency-requests 100] [--updates 60] [--workers 2]

Two gunicorn servers on 127.0.0.1 (card_list.start_gunicorn, 2 sync workers each): the app with
production settings, and benchmarks/baseline_wsgi.py, whose card list is card_list.py's baseline and
whose detail and update (benchmarks/baseline_writes.py) check the same token, roles and visibility
with raw SQL and write the same rows in one transaction. On the database of --size
(benchmarks/datasets.py; `large` is seed_demo --scale large):

- card list (OMB admin token, 50 a page) and card detail (OMB admin token, a card with 5 actions):
  the baseline is checked to answer the same data first, and to refuse what the app refuses (a
  deputy secretary's list holds only their agency's cards; another agency's card is 404 to them; a
  bad token is 401); throughput of --rounds rounds of
  --requests requests from --clients processes, alternating baseline and app (median round);
  single-client p50/p95 of --latency-requests requests, app and baseline interleaved;
- a posted update (a deputy secretary's token, POST /api/v1/cards/<id>/updates/ with If-Match and a
  status change with a note), --updates of each, interleaved, sequential, each with the ETag the
  previous answer gave; before timing, one update from each side is checked to write the same rows
  (history, notification, audit; the card's version) and answer the same JSON (ids and times aside).

SQL statements per request: the app's counted in-process (Django's CaptureQueriesContext, as served:
with Redis; BEGIN, COMMIT and savepoints included), the baseline's as it reports them (X-Statements).
Writes var/bench/api_paths.json. Only 127.0.0.1 is contacted; every loop is bounded by a count.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import card_list
import common
import datasets
import psycopg

TARGETS = {
    "card list": "throughput >= 70% of the baseline",
    "card detail": "throughput >= 50% of the baseline",
    "update": "p50 <= 2.5x the baseline's, <= 10 SQL statements",
}
UPDATE_VOLATILE = {"id", "created_at", "changes", "status_to", "note"}
CARD_VOLATILE = {"status", "version", "etag", "last_agency_update_at", "updated_at"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", choices=list(datasets.SIZES))
    parser.add_argument("--requests", type=int, default=300, help="requests per throughput round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per server (default 3)")
    parser.add_argument("--clients", type=int, default=4, help="client processes for throughput (default 4)")
    parser.add_argument("--latency-requests", type=int, default=100, help="sequential requests per side")
    parser.add_argument("--updates", type=int, default=60, help="posted updates per side (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    parser.add_argument("--json", default="api_paths.json", help="file name under var/bench/")
    return parser.parse_args(argv)


# --- who and what ---------------------------------------------------------------------------


def deputy_with_cards(count: int) -> tuple:
    """A deputy secretary (deputy.usda, or the first one) and the ids of `count` of their agency's open cards
    in progress or at risk, issued by someone else (so an update notifies the issuer); exits if fewer."""
    from django.contrib.auth import get_user_model

    from challenge_cards.models import ChallengeCard

    users = get_user_model().objects
    deputy = (
        users.filter(username="deputy.usda").first()
        or users.filter(memberships__role="deputy_secretary", memberships__ended_on__isnull=True).order_by("id").first()
    )
    own = (
        ChallengeCard.objects.filter(
            agency__memberships__user=deputy,
            agency__memberships__role="deputy_secretary",
            disposition="open",
            status__in=["in_progress", "at_risk"],
            issued_by__isnull=False,
        )
        .exclude(issued_by=deputy)
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )
    if len(own) < count:
        sys.exit(f"{deputy.username} has fewer than {count} open cards in progress or at risk to update.")
    return deputy, list(own)


def prepare() -> dict:
    """Tokens (OMB admin, a deputy secretary), the cards to read and update, the app's SQL counts."""
    from django.db.models import Count

    from agencies.tokens import token_create
    from challenge_cards.models import ChallengeCard

    deputy, own = deputy_with_cards(3)
    _token, deputy_token = token_create(user=deputy, name="benchmark api_paths", expires_days=1)
    detail_card = (
        ChallengeCard.objects.annotate(n=Count("actions")).filter(n__gte=5).order_by("id").values_list("id", flat=True)
    )
    detail_card = detail_card[len(detail_card) // 2] if detail_card else ChallengeCard.objects.first().pk
    hidden = ChallengeCard.objects.exclude(pk__in=ChallengeCard.objects.visible_to(deputy).values("pk"))
    return {
        "admin_token": card_list.bench_token(),
        "deputy": deputy.username,
        "deputy_token": deputy_token,
        "detail_card": detail_card,
        "app_card": own[0],
        "baseline_card": own[1],
        "count_card": own[2],
        "hidden_card": hidden.order_by("id").values_list("id", flat=True).first(),
    }


def revoke_tokens(setup: dict) -> None:
    """The run's two tokens, revoked: each user may hold only API_TOKENS_PER_USER live ones (ten runs a day)."""
    from agencies.models import ApiToken
    from agencies.tokens import hash_token, token_revoke

    for raw in (setup["admin_token"], setup["deputy_token"]):
        token = ApiToken.objects.select_related("user").get(key_hash=hash_token(raw))
        token_revoke(actor=token.user, token=token)


def app_statements(setup: dict) -> dict:
    """The app's SQL statements per request, in-process on the same data (as served: Redis on)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    admin = Client(HTTP_AUTHORIZATION=f"Bearer {setup['admin_token']}")
    deputy = Client(HTTP_AUTHORIZATION=f"Bearer {setup['deputy_token']}")
    counts = {}
    for name, path in (
        ("card list", "/api/v1/cards/?page_size=50"),
        ("card detail", f"/api/v1/cards/{setup['detail_card']}/"),
    ):
        admin.get(path)  # warm: the token's last use
        with CaptureQueriesContext(connection) as captured:
            admin.get(path)
        counts[name] = len(captured)
    card = setup["count_card"]
    etag = deputy.get(f"/api/v1/cards/{card}/")["ETag"]
    status = json.loads(deputy.get(f"/api/v1/cards/{card}/").content)["status"]
    body = json.dumps({"status": _other(status), "note": "Benchmark: counting statements."})
    with CaptureQueriesContext(connection) as captured:
        response = deputy.post(
            f"/api/v1/cards/{card}/updates/", body, content_type="application/json", HTTP_IF_MATCH=etag
        )
    if response.status_code != 201:
        sys.exit(f"Counting the update's statements: {response.status_code} {response.content[:300]!r}")
    counts["update"] = len(captured)
    counts["update_statements"] = [query["sql"].split(" ", 1)[0] for query in captured]
    return counts


def _other(status: str) -> str:
    return "at_risk" if status == "in_progress" else "in_progress"


# --- checks: the baseline does the same job -------------------------------------------------------


def same_detail(app_port: int, base_port: int, path: str, headers: dict) -> tuple[bool, int | None]:
    """Whether both answer the same JSON and ETag; and the baseline's statement count."""
    first = common.request(app_port, "GET", path, headers)
    second = common.request(base_port, "GET", path, headers)
    same = first[0] == second[0] == 200 and json.loads(first[2]) == json.loads(second[2])
    same = same and first[1].get("ETag") == second[1].get("ETag")
    if not same:
        print("WARNING: the baseline's card detail differs from the API's", file=sys.stderr)
    statements = second[1].get("X-Statements")
    return same, int(statements) if statements else None


def same_refusals(app_port: int, base_port: int, setup: dict) -> dict:
    """Whether the baseline sees and refuses what the app does: a deputy secretary's list (only their
    agency's cards), another agency's card (404 to them), a token that does not exist (401)."""
    deputy = {
        "Authorization": f"Bearer {setup['deputy_token']}",
        "Accept": "application/json",
        "X-Forwarded-Proto": "https",
    }
    stranger = {**deputy, "Authorization": "Bearer cc_no-such-token"}
    list_path = card_list.ENDPOINT
    checks = {
        "deputy's list": card_list.same_page(
            {"endpoint": (app_port, list_path, deputy), "baseline": (base_port, list_path, deputy)}
        ),
    }
    asks = {"unknown token, list": (list_path, stranger)}
    asks["unknown token, detail"] = (f"/api/v1/cards/{setup['detail_card']}/", stranger)
    if setup["hidden_card"] is not None:
        asks["another agency's card"] = (f"/api/v1/cards/{setup['hidden_card']}/", deputy)
    for name, (path, headers) in asks.items():
        statuses = [common.request(port, "GET", path, headers)[0] for port in (app_port, base_port)]
        checks[name] = statuses[0] == statuses[1] and statuses[0] in (401, 404)
        if not checks[name]:
            print(f"WARNING: {name}: the app answered {statuses[0]}, the baseline {statuses[1]}", file=sys.stderr)
    return checks


def rows_written(url: str, card: int) -> dict:
    """Row counts that a posted update changes, for one card."""
    counts = {
        "history rows": "SELECT count(*) FROM challenge_cards_cardupdate WHERE card_id = %(card)s",
        "notification rows": "SELECT count(*) FROM notifications_notification WHERE card_id = %(card)s",
        "audit rows": "SELECT count(*) FROM audit_auditevent WHERE object_id = %(text)s AND action = 'request.post'",
        "card version": "SELECT version FROM challenge_cards_challengecard WHERE id = %(card)s",
    }
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(sql, {"card": card, "text": str(card)}).fetchone()[0] for name, sql in counts.items()
        }


class Poster:
    """Posts updates to one card, each with the ETag the previous answer gave, alternating the status."""

    def __init__(self, port: int, card: int, token: str) -> None:
        self.card = card
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "X-Forwarded-Proto": "https"}
        status, headers, body, _ms = common.request(port, "GET", f"/api/v1/cards/{card}/", self.headers)
        if status != 200:
            sys.exit(f"Reading card {card} on port {port}: {status} {body[:300]!r}")
        self.etag, self.status = headers["ETag"], json.loads(body)["status"]
        self.errors = 0
        self.statements: list[int] = []

    def post(self, port: int, index: int) -> tuple[float, dict | None]:
        new = _other(self.status)
        body = json.dumps({"status": new, "note": f"Benchmark update {index}: why it is {new}."}).encode()
        headers = {**self.headers, "Content-Type": "application/json", "If-Match": self.etag}
        status, answer_headers, answer, ms = common.request(
            port, "POST", f"/api/v1/cards/{self.card}/updates/", headers, body
        )
        if status != 201:
            self.errors += 1
            print(f"WARNING: update answered {status}: {answer[:200]!r}", file=sys.stderr)
            return ms, None
        self.etag, self.status = answer_headers["ETag"], new
        if "X-Statements" in answer_headers:
            self.statements.append(int(answer_headers["X-Statements"]))
        return ms, json.loads(answer)


def _masked(answer: dict) -> dict:
    """An update's answer without what differs between two updates of the same card."""
    update = {k: v for k, v in answer["update"].items() if k not in UPDATE_VOLATILE}
    card = {k: v for k, v in answer["card"].items() if k not in CARD_VOLATILE}
    return {"update": update, "card": card}


def same_update(url: str, app_port: int, base_port: int, card: int, token: str) -> dict:
    """Two updates of one card, the app's then the baseline's: the same rows written, the same answer."""
    poster = Poster(app_port, card, token)
    deltas, answers = {}, {}
    for name, port in (("app", app_port), ("baseline", base_port)):
        before = rows_written(url, card)
        _ms, answers[name] = poster.post(port, 0)
        after = rows_written(url, card)
        deltas[name] = {key: after[key] - before[key] for key in before}
    same_rows = deltas["app"] == deltas["baseline"]
    same_answer = None not in answers.values() and _masked(answers["app"]) == _masked(answers["baseline"])
    if not (same_rows and same_answer):
        print(f"WARNING: the baseline's update differs: rows {deltas}, same answer {same_answer}", file=sys.stderr)
        if None not in answers.values():
            print(f"  app:      {_masked(answers['app'])}\n  baseline: {_masked(answers['baseline'])}", file=sys.stderr)
    return {"rows_written": deltas, "same_rows": same_rows, "same_answer": same_answer}


# --- measuring --------------------------------------------------------------------------------


def _check_client(job: tuple[int, str, dict, int]) -> tuple[list[float], int]:
    port, path, headers, count = job
    latencies, errors = [], 0
    for _ in range(count):
        status, _headers, body, ms = common.request(port, "GET", path, headers)
        latencies.append(ms)
        errors += status != 200 or not body.startswith(b"{")
    return latencies, errors


def rates(pool, targets: dict, args) -> tuple[dict, dict]:
    """Throughput rounds alternating baseline and app; (req/s per round, errors) per side."""
    found: dict[str, list[float]] = {"baseline": [], "app": []}
    errors = {"baseline": 0, "app": 0}
    for _round in range(args.rounds):
        for name in ("baseline", "app"):
            port, path, headers = targets[name]
            share = [args.requests // args.clients + (i < args.requests % args.clients) for i in range(args.clients)]
            start = time.perf_counter()
            results = pool.map(_check_client, [(port, path, headers, n) for n in share])
            found[name].append(args.requests / (time.perf_counter() - start))
            errors[name] += sum(e for _, e in results)
    return found, errors


def interleaved_latency(targets: dict, count: int) -> dict:
    values: dict[str, list[float]] = {"baseline": [], "app": []}
    for port, path, headers in targets.values():
        _check_client((port, path, headers, 10))  # warm every worker
    for _ in range(count):
        for name, (port, path, headers) in targets.items():
            values[name].append(_check_client((port, path, headers, 1))[0][0])
    return {name: common.summary(v) for name, v in values.items()}


def throughput_path(pool, name: str, targets: dict, args) -> dict:
    found, errors = rates(pool, targets, args)
    median = {side: statistics.median(v) for side, v in found.items()}
    latency = interleaved_latency(targets, args.latency_requests)
    return {
        "path": name,
        "app_rps": round(median["app"], 1),
        "baseline_rps": round(median["baseline"], 1),
        "rounds_rps": {side: [round(v, 1) for v in values] for side, values in found.items()},
        "ratio": round(median["app"] / median["baseline"], 3),
        "latency": latency,
        "errors": errors,
    }


def update_path(url: str, app_port: int, base_port: int, setup: dict, count: int) -> dict:
    check = same_update(url, app_port, base_port, setup["count_card"], setup["deputy_token"])
    app = Poster(app_port, setup["app_card"], setup["deputy_token"])
    base = Poster(base_port, setup["baseline_card"], setup["deputy_token"])
    values: dict[str, list[float]] = {"app": [], "baseline": []}
    for index in range(1, count + 1):
        for name, poster, port in (("app", app, app_port), ("baseline", base, base_port)):
            values[name].append(poster.post(port, index)[0])
    latency = {name: common.summary(v) for name, v in values.items()}
    return {
        "path": "update",
        "latency": latency,
        "ratio_p50": round(latency["app"]["p50_ms"] / latency["baseline"]["p50_ms"], 2),
        "baseline_statements": max(base.statements) if base.statements else None,
        "errors": {"app": app.errors, "baseline": base.errors},
        **check,
    }


def run(args: argparse.Namespace) -> dict:
    url = datasets.ensure(args.size)
    card_list.django_setup(url)
    sizes = card_list.data_sizes()
    setup = prepare()
    statements = app_statements(setup)
    from django.db import connections

    connections.close_all()
    app_port, base_port = card_list.free_port(), card_list.free_port()
    env = common.server_env()
    servers = [
        card_list.start_gunicorn("config.wsgi:application", app_port, args.workers, url, extra_env=env),
        card_list.start_gunicorn("baseline_wsgi:application", base_port, args.workers, url, extra_env=env),
    ]
    admin = {
        "Authorization": f"Bearer {setup['admin_token']}",
        "Accept": "application/json",
        "X-Forwarded-Proto": "https",
    }
    list_path, detail_path = card_list.ENDPOINT, f"/api/v1/cards/{setup['detail_card']}/"
    try:
        same_list = card_list.same_page(
            {"endpoint": (app_port, list_path, admin), "baseline": (base_port, list_path, admin)}
        )
        list_statements = common.request(base_port, "GET", list_path, admin)[1].get("X-Statements")
        same, detail_statements = same_detail(app_port, base_port, detail_path, admin)
        refusals = same_refusals(app_port, base_port, setup)
        with multiprocessing.Pool(args.clients) as pool:
            listing = throughput_path(
                pool,
                "card list",
                {"baseline": (base_port, list_path, admin), "app": (app_port, list_path, admin)},
                args,
            )
            detail = throughput_path(
                pool,
                "card detail",
                {"baseline": (base_port, detail_path, admin), "app": (app_port, detail_path, admin)},
                args,
            )
        update = update_path(url, app_port, base_port, setup, args.updates)
    finally:
        common.stop(servers)
        revoke_tokens(setup)
        import redis

        redis.Redis.from_url(card_list.bench_redis_url()).delete("celery", "cc_bench_baseline_tasks")

    listing.update(same_data=same_list, app_statements=statements["card list"])
    listing["baseline_statements"] = int(list_statements) if list_statements else None
    detail.update(same_data=same, app_statements=statements["card detail"], baseline_statements=detail_statements)
    update["app_statements"] = statements["update"]
    update["app_statement_kinds"] = statements["update_statements"]
    listing["met"] = listing["ratio"] >= 0.70
    detail["met"] = detail["ratio"] >= 0.50
    update["met"] = update["ratio_p50"] <= 2.5 and update["app_statements"] <= 10
    report = {
        "machine": card_list.machine(),
        "load_average": common.load_average(),
        "size": args.size,
        "data": sizes,
        "settings": vars(args),
        "targets": TARGETS,
        "paths": {"card list": listing, "card detail": detail, "update": update},
        "baseline_refuses_as_the_app": refusals,
    }
    common.write_json(args.json, report)
    return report


def print_report(report: dict) -> None:
    print(f"\nAPI paths at {report['size']} data — {report['machine']}, load {report['load_average']}")
    for name in ("card list", "card detail"):
        p = report["paths"][name]
        lat = p["latency"]
        print(
            f"  {name:<12} app {p['app_rps']:>6.1f} req/s, baseline {p['baseline_rps']:>6.1f} req/s: {p['ratio']:.0%}; "
            f"p50/p95 app {lat['app']['p50_ms']}/{lat['app']['p95_ms']} ms, baseline "
            f"{lat['baseline']['p50_ms']}/{lat['baseline']['p95_ms']} ms; SQL {p['app_statements']} vs "
            f"{p['baseline_statements']}; same data: {p['same_data']}; errors {p['errors']}"
        )
    refusals = report.get("baseline_refuses_as_the_app", {})
    print("  the baseline sees and refuses as the app: " + ", ".join(f"{k} {v}" for k, v in refusals.items()))
    u = report["paths"]["update"]
    lat = u["latency"]
    print(
        f"  {'update':<12} p50/p95 app {lat['app']['p50_ms']}/{lat['app']['p95_ms']} ms, baseline "
        f"{lat['baseline']['p50_ms']}/{lat['baseline']['p95_ms']} ms: {u['ratio_p50']}x; SQL {u['app_statements']} vs "
        f"{u['baseline_statements']}; same rows: {u['same_rows']}, same answer: {u['same_answer']}; "
        f"errors {u['errors']}"
    )


def main() -> int:
    report = run(parse_args())
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
