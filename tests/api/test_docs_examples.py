"""The curl examples in docs/api.md run, as written, against a live server.

The `python manage.py create_api_token` line is run in-process with call_command (a
subprocess could not reach the test database); every curl command is run by bash with
the variables the guide describes, each taken from the answer of the command before.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from challenge_cards.models import ActionStatus, CardStatus, CardUpdate

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def guide_commands() -> list[str]:
    """Each command of the guide's bash blocks, continuation lines joined, comments dropped."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", GUIDE.read_text(), flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    return commands


def test_the_guide_has_the_daily_sync_steps():
    commands = guide_commands()
    assert commands[0].startswith("python manage.py create_api_token")
    curls = [command for command in commands[1:] if command.startswith("curl ")]
    assert len(curls) == len(commands) - 1 == 5
    assert any("updated_since" in command for command in curls)
    assert any("If-Match" in command and "/updates/" in command for command in curls)
    assert any("/complete/" in command for command in curls)


@pytest.mark.django_db(transaction=True)
def test_the_guides_curl_examples_run_against_a_live_server(live_server, world, settings):
    card, action = world["own_card"], world["own_action"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BASE": live_server.url,
        "SINCE": (timezone.now() - datetime.timedelta(hours=1)).astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    answers: list[dict] = []
    for command in guide_commands():
        if command.startswith("python manage.py "):
            out = io.StringIO()
            call_command(*shlex.split(command)[2:], stdout=out, stderr=io.StringIO())
            env["TOKEN"] = out.getvalue().strip().splitlines()[-1]
            continue
        result = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        answer = json.loads(result.stdout)
        answers.append(answer)
        if "/api/v1/cards/?" in command:
            first = answer["results"][0]
            env["CARD_ID"], env["CARD_ETAG"] = str(first["id"]), first["etag"]
        elif "/api/v1/actions/?" in command:
            first = answer["results"][0]
            env["ACTION_ID"], env["ACTION_ETAG"] = str(first["id"]), first["etag"]

    me, cards, posted, actions, completed = answers
    assert me["username"] == "deputy.treas"
    assert [row["id"] for row in cards["results"]] == [card.pk]
    assert posted["card"]["status"] == CardStatus.IN_PROGRESS
    assert [row["id"] for row in actions["results"]] == [action.pk]
    assert completed["status"] == ActionStatus.DONE
    card.refresh_from_db()
    action.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS and str(card.metric_value) == "120.00"
    assert action.status == ActionStatus.DONE
    assert CardUpdate.objects.filter(card=card, kind="update", author=world["users"]["deputy"]).count() == 1
