"""The server process's garbage collector (core/runtime.py), as gunicorn's workers get it from config.wsgi."""

import json
import os
import subprocess
import sys
from pathlib import Path

from core import runtime

BASE_DIR = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json
before = gc.get_threshold()
import config.wsgi
import config.urls
print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(), "before": before,
                  # a frozen object is in no generation that get_objects lists
                  "urlconf_frozen": all(o is not config.urls.urlpatterns for o in gc.get_objects())}))
"""


def test_the_wsgi_application_freezes_what_start_up_made_and_raises_the_young_threshold():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    probe = subprocess.run([sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["urlconf_frozen"]  # every view imported before the freeze
    assert found["frozen"] > 50_000  # Django, the apps, the URLconf
    assert found["threshold"] == [runtime.YOUNG_THRESHOLD, *found["before"][1:]]
    assert found["before"][0] < runtime.YOUNG_THRESHOLD
