"""Scale-out tests on the compose topology: nginx, two web containers, two workers, beat, PostgreSQL,
Redis, the object store and an SMTP sink (deploy/compose.yaml), built and started once for the module.

Run with `.venv/bin/pytest tests/deploy -m compose` (see conftest.py); `make test` leaves them out.
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import NOTICE_PATH, SIGN_IN_PATH, Stack, wait_for

pytestmark = pytest.mark.compose

TREASURY = "deputy.treasury"


def api(stack: Stack, method: str, path: str, *, token: str, timeout: float = 20, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **kwargs.pop("headers", {})}
    return requests.request(method, stack.url(path), headers=headers, timeout=timeout, **kwargs)


def open_card(stack: Stack, token: str, *, service: str | None = None) -> dict:
    """One of the agency's open cards, read through the load balancer or inside one web container."""
    path = "/api/v1/cards/?page_size=50"
    if service:
        answer = stack.http_inside(service, "GET", path, token=token)
        assert answer["status"] == 200, answer
        body = answer["json"]
    else:
        response = api(stack, "GET", path, token=token)
        assert response.status_code == 200, response.text
        body = response.json()
    cards = body["results"] if isinstance(body, dict) else body
    for card in cards:
        if card["status"] not in {"done", "dropped", "closed"}:
            return card
    raise AssertionError(f"no open card among {len(cards)}")


def update_body(note: str) -> dict:
    return {"note": note}


def history_notes(stack: Stack, card_id: int, token: str) -> list[str]:
    response = api(stack, "GET", f"/api/v1/cards/{card_id}/updates/?page_size=200", token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return [row.get("note") or "" for row in rows]


def test_sign_in_page_served_through_the_load_balancer_by_both_web_containers(stack: Stack):
    for _ in range(8):
        # The sign-in page sends a new visitor to the system-use notice first (accounts.middleware, AC-8).
        response = requests.get(stack.url(SIGN_IN_PATH), timeout=10)
        assert response.status_code == 200
        assert NOTICE_PATH in response.url
        assert 'data-testid="system-use-notice"' in response.text and "I understand and agree" in response.text
        assert "Server" not in response.headers or "nginx/" not in response.headers["Server"]  # no version shown

    # nginx's access log names the upstream of each request: both web containers answered.
    def both_upstreams() -> bool:
        # The sign-in page and the notice it redirects to alternate between the upstreams: count both.
        lines = [
            line
            for line in stack.logs("lb", tail=500).splitlines()
            if f'"GET {SIGN_IN_PATH} ' in line or f'"GET {NOTICE_PATH}' in line
        ]
        upstreams = {part.split("=", 1)[1] for line in lines for part in line.split() if part.startswith("upstream=")}
        return len(upstreams) >= 2

    wait_for(both_upstreams, timeout=10, what="requests answered by two upstreams in the nginx log")


def test_card_update_through_web1_is_seen_through_web2_at_once(demo: Stack):
    token = demo.tokens[TREASURY]
    card = open_card(demo, token, service="web2")
    note = f"Posted through web 1 ({uuid.uuid4().hex[:8]})."

    posted = demo.http_inside(
        "web1",
        "POST",
        f"/api/v1/cards/{card['id']}/updates/",
        token=token,
        headers={"If-Match": card["etag"]},
        body=update_body(note),
    )
    assert posted["status"] in (200, 201), posted
    new_etag = posted["headers"].get("ETag")
    assert new_etag and new_etag != card["etag"]

    # At once, through the other container: the new version, and the update in the history.
    seen = demo.http_inside("web2", "GET", f"/api/v1/cards/{card['id']}/", token=token)
    assert seen["status"] == 200, seen
    assert seen["headers"].get("ETag") == new_etag
    assert seen["json"]["etag"] == new_etag
    history = demo.http_inside("web2", "GET", f"/api/v1/cards/{card['id']}/updates/?page_size=200", token=token)
    rows = history["json"]["results"] if isinstance(history["json"], dict) else history["json"]
    assert note in [row.get("note") for row in rows]

    # And web 2 refuses a write on the version web 1 replaced: the version lives in the shared database.
    stale = demo.http_inside(
        "web2",
        "POST",
        f"/api/v1/cards/{card['id']}/updates/",
        token=token,
        headers={"If-Match": card["etag"]},
        body=update_body("A stale write through web 2."),
    )
    assert stale["status"] == 412, stale


def test_evidence_uploaded_through_web1_downloads_through_web2(demo: Stack):
    """A file added in web 1 lands in the object store (not web 1's disk); web 2's gunicorn streams it back."""
    uploaded = _result(demo.manage("shell", "-c", UPLOAD_EVIDENCE))
    assert uploaded["storage"] == "S3Storage", uploaded
    assert uploaded["s3_size"] == uploaded["size"] and uploaded["s3_sha256"] == uploaded["sha256"], uploaded
    assert uploaded["on_local_disk"] == [], f"the file is on web 1's disk too: {uploaded}"

    downloads = _result(demo.manage("shell", "-c", DOWNLOAD_EVIDENCE % uploaded["id"], service="web2"))
    mine = downloads[TREASURY]
    assert mine["status"] == 200, mine
    assert (mine["length"], mine["sha256"]) == (uploaded["size"], uploaded["sha256"]), (mine, uploaded)
    assert mine["content_type"] == "application/pdf"
    assert "attachment" in mine["disposition"] and "scale-out.pdf" in mine["disposition"], mine
    # Another agency's deputy secretary: not found, through the same container.
    assert downloads["deputy.usda"]["status"] == 404, downloads["deputy.usda"]


def test_a_web_container_restarted_under_load_loses_no_request(demo: Stack):
    """300 requests over about 20 s through nginx while web 1 restarts: every one answered 200."""
    token = demo.tokens[TREASURY]
    web1 = demo.container("web1")
    started_before = _started_at(web1)
    total, seconds = 300, 20.0
    results: list[tuple[int, str, int | str]] = []
    lock = threading.Lock()
    t0 = time.monotonic()

    def one(n: int):
        time.sleep(max(0.0, t0 + n * seconds / total - time.monotonic()))  # paced: about 15 requests a second
        path = "/api/v1/me/" if n % 3 == 0 else SIGN_IN_PATH
        headers = {"Authorization": f"Bearer {token}"} if n % 3 == 0 else {}
        try:
            response = requests.get(demo.url(path), headers=headers, timeout=30)
            outcome: int | str = response.status_code
        except requests.RequestException as error:
            outcome = type(error).__name__
        with lock:
            results.append((n, path, outcome))

    restart: dict = {}

    def restart_web1():
        time.sleep(5)
        restart["at"] = time.monotonic() - t0
        restart["result"] = subprocess.run(["docker", "restart", "-t", "30", web1], capture_output=True, text=True)
        restart["done"] = time.monotonic() - t0

    restarter = threading.Thread(target=restart_web1)
    restarter.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(total)))
    restarter.join(120)

    assert restart["result"].returncode == 0, restart["result"].stderr
    assert _started_at(web1) != started_before, "web 1 was not restarted"
    assert restart["done"] < seconds + 10, f"the restart ended after the load ({restart})"
    failed = [(n, path, outcome) for n, path, outcome in results if outcome != 200]
    assert len(results) == total
    assert failed == [], f"{len(failed)} failed requests while web 1 restarted at {restart['at']:.1f} s: {failed[:10]}"
    wait_for(lambda: _health(web1) == "healthy", timeout=90, what="web 1 healthy again")


def test_postgres_restart_fails_cleanly_and_recovers_with_nothing_half_written(demo: Stack):
    token = demo.tokens[TREASURY]
    card = open_card(demo, token)
    notes_before = history_notes(demo, card["id"], token)
    lost_note = f"Written while the database was down ({uuid.uuid4().hex[:8]})."

    demo.compose("stop", "-t", "10", "postgres")
    try:
        # Reads and writes that need the database fail with a server error page, quickly, not a hang.
        for method, path, kwargs in (
            ("GET", f"/api/v1/cards/{card['id']}/", {}),
            (
                "POST",
                f"/api/v1/cards/{card['id']}/updates/",
                {"json": update_body(lost_note), "headers": {"If-Match": card["etag"]}},
            ),
        ):
            start = time.monotonic()
            response = api(demo, method, path, token=token, timeout=30, **kwargs)
            elapsed = time.monotonic() - start
            assert 500 <= response.status_code < 600, (method, path, response.status_code, response.text[:300])
            assert elapsed < 15, f"{method} {path} took {elapsed:.1f} s with the database down"
        # Pages that need no database still answer.
        assert requests.get(demo.url(SIGN_IN_PATH), timeout=15).status_code == 200
    finally:
        demo.compose("start", "postgres")

    wait_for(
        lambda: api(demo, "GET", f"/api/v1/cards/{card['id']}/", token=token).status_code == 200,
        timeout=90,
        what="the API answering again after PostgreSQL came back",
    )
    # Several requests in a row succeed on both web containers (no broken kept connection left behind).
    for _ in range(6):
        assert api(demo, "GET", f"/api/v1/cards/{card['id']}/", token=token).status_code == 200

    after = api(demo, "GET", f"/api/v1/cards/{card['id']}/", token=token)
    assert after.json()["etag"] == card["etag"], "the card changed although its write failed"
    notes_after = history_notes(demo, card["id"], token)
    assert notes_after == notes_before
    assert lost_note not in notes_after

    # The same write, now, goes through once.
    response = api(
        demo,
        "POST",
        f"/api/v1/cards/{card['id']}/updates/",
        token=token,
        json=update_body(lost_note),
        headers={"If-Match": card["etag"]},
    )
    assert response.status_code in (200, 201), response.text
    assert history_notes(demo, card["id"], token).count(lost_note) == 1


def test_two_beats_running_send_no_reminder_twice(demo: Stack):
    """A second beat runs beside the first; both scan at the same moment. Each notification is made
    by one scan only and each e-mail reaches the SMTP sink once."""
    demo.compose("up", "-d", "--no-recreate", "--scale", "beat=2", "beat", timeout=180)
    beats = demo.compose("ps", "-q", "beat").stdout.split()
    assert len(beats) == 2
    # Reminders due now and not made yet: a meeting three days out, whose reminders (to every agency with
    # open cards) no scan has made.
    meeting = int(demo.manage("shell", "-c", NEW_MEETING).strip().splitlines()[-1])
    before = {int(row[0]) for row in demo.psql("SELECT id FROM notifications_notification")}

    command = ["python3", "manage.py", "send_reminders"]
    scans = [
        subprocess.Popen(["docker", "exec", beat, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for beat in beats
    ]
    outputs = [scan.communicate(timeout=180) for scan in scans]
    assert [scan.returncode for scan in scans] == [0, 0], outputs
    queued = [int(out.split("Queued ", 1)[1].split()[0]) for out, _ in outputs]

    rows = demo.psql("SELECT id, rule, subject, recipient_id, occurrence FROM notifications_notification")
    new = {int(row[0]): tuple(row[1:]) for row in rows if int(row[0]) not in before}
    # Each row was claimed by one scan (beat's own scheduled scan may have claimed some too).
    assert 0 < sum(queued) <= len(new), f"scans said {queued}, {len(new)} new rows"
    assert any(subject.startswith(f"meeting:{meeting}/") for _, subject, _, _ in new.values())
    assert len(set(new.values())) == len(new)  # no notification twice

    # The new meeting's reminders go out as their own e-mails; other notifications the scans made (an
    # overdue action for an OMB admin, say) may wait for that person's daily digest, by their choice.
    reminders = [pk for pk, (_, subject, _, _) in new.items() if subject.startswith(f"meeting:{meeting}/")]
    ids = ",".join(str(pk) for pk in reminders)

    def delivered() -> list[list[str]]:
        rows = demo.psql(f"SELECT id, status FROM notifications_notification WHERE id IN ({ids})")
        return rows if all(status in ("sent", "no_email", "cancelled") for _, status in rows) else []

    statuses = wait_for(delivered, timeout=120, interval=2, what="the new notifications delivered by the workers")
    sent = {int(pk) for pk, status in statuses if status == "sent"}
    assert sent, statuses

    # Every message in the sink names its notification; each sent notification arrived exactly once.
    headers = demo.exec(
        "mail", "sh", "-c", "grep -h -i '^X-Challenge-Cards-Notification:' /var/mail/Maildir/new/* || true"
    )
    arrived = collections.Counter(int(line.split(":", 1)[1]) for line in headers.splitlines() if line.strip())
    twice = {pk: n for pk, n in arrived.items() if n > 1}
    assert twice == {}, f"notifications e-mailed more than once: {twice}"
    assert sent <= set(arrived), f"sent but not in the sink: {sorted(sent - set(arrived))[:10]}"


def test_a_worker_killed_mid_delivery_loses_no_reminder(demo: Stack):
    """With the SMTP sink frozen, both workers hold deliveries; worker 1 is killed (SIGKILL) with its
    share in hand. Every reminder still arrives, any copy carrying the same Message-ID."""
    mail = demo.container("mail")
    worker1 = demo.container("worker1")
    subprocess.run(["docker", "pause", mail], check=True, capture_output=True)
    try:
        meeting = int(demo.manage("shell", "-c", NEW_MEETING).strip().splitlines()[-1])
        demo.manage("send_reminders")
        rows = demo.psql(
            f"SELECT id FROM notifications_notification WHERE meeting_id = {meeting} AND status = 'pending'"
        )
        ids = [int(row[0]) for row in rows]
        assert ids, "no reminder was queued"
        time.sleep(4)  # both workers take deliveries and wait on the frozen SMTP server
        subprocess.run(["docker", "kill", "-s", "KILL", worker1], check=True, capture_output=True)
        held = _tasks_in_hand(worker1)
        assert held, "worker 1 held no delivery when it was killed: the test would prove nothing"
    finally:
        subprocess.run(["docker", "unpause", mail], check=True, capture_output=True)

    # What worker 1 held is found again by the sweeper (beat runs it every 30 s): the rows it had claimed
    # once their claim's 60 s lease is over, rows never claimed once queued longer than the admin's "sweep
    # after" (here more than 5 s ago).
    sql = f"SELECT id, status FROM notifications_notification WHERE id IN ({','.join(map(str, ids))})"
    sweep = "from notifications import services; print(services.undelivered_sweep(older_than=5))"

    def all_sent() -> bool:
        statuses = dict(demo.psql(sql))
        if all(status == "sent" for status in statuses.values()):
            return True
        demo.manage("shell", "-c", sweep, service="web2")
        return False

    wait_for(all_sent, timeout=150, interval=5, what="every reminder sent after worker 1 was killed")

    found = demo.exec("mail", "python3", "-c", READ_MAILDIR)
    copies: dict[int, set[str]] = collections.defaultdict(set)
    arrived: collections.Counter = collections.Counter()
    for line in found.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            copies[int(parts[0])].add(parts[1])
            arrived[int(parts[0])] += 1
    missing = [pk for pk in ids if arrived[pk] == 0]
    assert missing == [], f"{len(missing)} of {len(ids)} reminders never arrived"
    assert all(len(copies[pk]) == 1 for pk in ids), "a repeat carried another Message-ID"
    repeated = sum(arrived[pk] for pk in ids) - len(ids)
    print(f"{len(ids)} reminders, worker 1 killed holding {len(held)}, {repeated} repeated")
    demo.compose("start", "worker1")  # worker 2 and the sweeper did it alone; worker 1 comes back now


def _tasks_in_hand(container: str) -> set[str]:
    """Delivery tasks the worker's log shows received and never finished (succeeded, retried, failed)."""
    log = subprocess.run(["docker", "logs", container], capture_output=True, text=True).stderr
    received, finished = set(), set()
    for line in log.splitlines():
        match = re.search(r"deliver_notifications?\[([0-9a-f-]{36})\]", line)
        if match:
            (received if " received" in line else finished).add(match.group(1))
    return received - finished


def _result(out: str):
    """The JSON a container script printed after RESULT (other lines may be logs)."""
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line in:\n{out}"
    return json.loads(lines[-1].removeprefix("RESULT "))


# Runs in web 1 (manage.py shell): a PDF added to a Treasury card through the service, then looked for in
# the bucket (boto3, the settings' endpoint and keys) and under MEDIA_ROOT.
UPLOAD_EVIDENCE = """
import hashlib, json, pathlib, secrets
import boto3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from agencies.roles import roles_of
from challenge_cards import permissions, services
from challenge_cards.models import ChallengeCard
deputy = get_user_model().objects.get(username="deputy.treasury")
cards = ChallengeCard.objects.filter(agency_id__in=roles_of(deputy).deputy_of).order_by("pk")
card = next(card for card in cards if permissions.can_update_card(deputy, card))
data = b"%PDF-1.4\\n% compose scale-out test\\n" + secrets.token_bytes(50_000) + b"\\n%%EOF\\n"
evidence = services.evidence_add(
    actor=deputy, card=card, title="Uploaded through web 1", file=ContentFile(data, name="scale-out.pdf")
)
options = settings.STORAGES["default"].get("OPTIONS", {})
s3 = boto3.client(
    "s3",
    endpoint_url=options.get("endpoint_url"),
    region_name=options.get("region_name"),
    aws_access_key_id=options.get("access_key"),
    aws_secret_access_key=options.get("secret_key"),
)
stored = s3.get_object(Bucket=options.get("bucket_name"), Key=evidence.file.name)["Body"].read()
media = pathlib.Path(settings.MEDIA_ROOT)
print("RESULT " + json.dumps({
    "id": evidence.pk,
    "name": evidence.file.name,
    "size": len(data),
    "sha256": hashlib.sha256(data).hexdigest(),
    "storage": type(storages["default"]).__name__,
    "s3_size": len(stored),
    "s3_sha256": hashlib.sha256(stored).hexdigest(),
    "on_local_disk": sorted(str(path) for path in media.rglob(pathlib.Path(evidence.file.name).name)),
}))
"""

# Runs in web 2 (manage.py shell): a session for each deputy secretary (force_login: no sign-in notice or
# second factor on the way), then a real GET of the download URL from web 2's own gunicorn with that cookie.
DOWNLOAD_EVIDENCE = """
import hashlib, json, os, urllib.error, urllib.request
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
path = reverse("challenge_cards:evidence_download", args=[%d])
answers = {}
for username in ("deputy.treasury", "deputy.usda"):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username), backend="core.auth.PasswordBackend")
    cookie = settings.SESSION_COOKIE_NAME + "=" + client.cookies[settings.SESSION_COOKIE_NAME].value
    request = urllib.request.Request(
        "http://127.0.0.1:%%s%%s" %% (os.environ.get("PORT", "8000"), path),
        headers={"Host": "127.0.0.1", "Cookie": cookie},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    answers[username] = {
        "status": status,
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "content_type": headers.get("Content-Type", ""),
        "disposition": headers.get("Content-Disposition", ""),
    }
print("RESULT " + json.dumps(answers))
"""


# Runs in the mail container: "notification-id message-id" for each message in the sink.
READ_MAILDIR = """
import email, pathlib
for path in pathlib.Path("/var/mail/Maildir/new").iterdir():
    message = email.message_from_bytes(path.read_bytes())
    print(str(message.get("X-Challenge-Cards-Notification", "")).strip(), str(message.get("Message-ID", "")).strip())
"""

NEW_MEETING = """
import datetime, zoneinfo
from django.contrib.auth import get_user_model
from django.utils import timezone
from challenge_cards import services
from challenge_cards.models import Meeting
eastern = zoneinfo.ZoneInfo("America/New_York")
admin = get_user_model().objects.get(username="omb.admin")
day = timezone.now().astimezone(eastern).date() + datetime.timedelta(days=3)
taken = {m.starts_at for m in Meeting.objects.all()}
starts = next(
    moment
    for minute in range(13 * 60 + 1, 18 * 60)
    if (moment := datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=eastern)) not in taken
)
print(services.meeting_schedule(actor=admin, starts_at=starts, location="compose test").pk)
"""


def _started_at(container: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.State.StartedAt}}", container], capture_output=True, text=True, check=True
    ).stdout.strip()


def _health(container: str) -> str:
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{json .State.Health}}", container], capture_output=True, text=True, check=True
    ).stdout
    return (json.loads(out) or {}).get("Status", "")
