"""The layers of docs/architecture.md, checked over the import graph of the source (every import, at
module level or inside a function).

- core imports no app and not config: shared code, reusable as is;
- config is wiring: it may import anything, and no app imports it (settings come from django.conf);
- agencies is the ground floor: it imports no other app;
- challenge_cards (the domain) imports agencies and core only: notifications and audit listen to its
  signals and are imported by no domain module;
- council (initiatives, the conversation on a card, the meeting's record) stands on challenge_cards, which
  never imports it (its pages show council's panels through council's template tags);
- accounts (sign-in policy: the system-use notice, password sign-in, second factors) imports agencies and
  core only; audit listens to its signals;
- no module of an app is longer than 500 lines (migrations aside).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("agencies", "challenge_cards", "council", "notifications", "audit", "accounts")
PACKAGES = ("core", "config", *APPS)
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, relative imports resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _violations(package: str, forbidden: set[str], allowed: set[str] = frozenset()) -> list[str]:
    problems = []
    for path in _sources(package):
        for module in sorted(_imports(path)):
            if _top(module) in forbidden and module not in allowed:
                problems.append(f"{path.relative_to(ROOT)} imports {module}")
    return problems


def test_core_imports_no_app_and_not_config():
    assert _violations("core", {*APPS, "config"}) == []


@pytest.mark.parametrize("app", APPS)
def test_apps_do_not_import_config(app):
    # The Celery app is wiring too: tasks use @shared_task, never config.celery.
    assert _violations(app, {"config"}) == []


def test_agencies_is_the_ground_floor():
    assert _violations("agencies", {"challenge_cards", "notifications", "audit", "accounts"}) == []


def test_sign_in_stands_on_agencies_only():
    """accounts (the notice, password policy, second factors) asks agencies who is an OMB admin; audit listens."""
    assert _violations("accounts", {"challenge_cards", "notifications", "audit", "council"}) == []


def test_the_domain_does_not_import_its_listeners():
    assert _violations("challenge_cards", {"notifications", "audit", "council"}) == []


def test_the_council_does_not_import_its_listeners():
    """council (initiatives, comments, records) stands on challenge_cards; notifications and audit listen to it."""
    assert _violations("council", {"notifications", "audit"}) == []


def test_config_holds_wiring_only():
    """settings, urls, the API router, the Celery app, WSGI/ASGI: nothing else lives in config/."""
    wiring = {"__init__.py", "api.py", "celery.py", "urls.py", "wsgi.py", "asgi.py"}
    files = {path.name for path in (ROOT / "config").glob("*.py")}
    assert files <= wiring, f"shared code belongs in core/: {sorted(files - wiring)}"
    assert {path.parent.name for path in (ROOT / "config").rglob("*.py")} <= {"config", "settings"}


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_are_short_enough_to_read_in_one_sitting(package):
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _sources(package)
        if "migrations" not in path.parts and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_checker_sees_a_forbidden_import():
    """The graph reads relative and function-level imports (else the tests above could pass on nothing)."""
    module = ROOT / "core" / "_probe_for_test.py"
    module.write_text("def late():\n    from agencies.models import Agency\n    from ..challenge_cards import models\n")
    try:
        assert _violations("core", {*APPS}) == [
            "core/_probe_for_test.py imports agencies.models",
            "core/_probe_for_test.py imports agencies.models.Agency",
            "core/_probe_for_test.py imports challenge_cards",
            "core/_probe_for_test.py imports challenge_cards.models",
        ]
    finally:
        module.unlink()
