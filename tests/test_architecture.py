"""The layers of docs/architecture.md, checked over the import graph of the source (every import, at
module level or inside a function, relative imports resolved).

LAYERS below is the table of the docs: which of the project's own packages each package may import.
Reading it from top to bottom: core is shared code that knows no app; agencies is the ground floor;
challenge_cards is the domain; council (initiatives, the conversation on a card, the meeting's
record) stands on it; accounts (sign-in policy) stands on agencies; notifications and audit listen to
the others' signals and nothing imports them; config is the wiring and no app imports it. No module of
these packages is longer than 500 lines (migrations aside).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "agencies": {"core"},
    "challenge_cards": {"core", "agencies"},
    "council": {"core", "agencies", "challenge_cards"},
    "accounts": {"core", "agencies"},
    "notifications": {"core", "agencies", "challenge_cards", "council"},
    "audit": {"core", "agencies", "challenge_cards", "council", "accounts"},
}
FIRST_PARTY = {*LAYERS, "config"}
PACKAGES = sorted(FIRST_PARTY)
MAX_LINES = 500


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module this file imports, relative imports resolved."""
    name = _module_name(path, root)
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


def _sources(package: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / package).rglob("*.py"))


def _violations(package: str, root: Path = ROOT) -> list[str]:
    """The imports of `package` that LAYERS does not allow it."""
    allowed = LAYERS[package] | {package}
    return [
        f"{path.relative_to(root)} imports {module}"
        for path in _sources(package, root)
        for module in sorted(_imports(path, root))
        if module.split(".", 1)[0] in FIRST_PARTY - allowed
    ]


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_each_package_imports_only_the_layers_below_it(package):
    assert _violations(package) == []


def test_every_app_is_in_the_table():
    """A new app must take its place in LAYERS (and in docs/architecture.md), or it is checked by nothing."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS)


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


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The graph reads relative and function-level imports (else the tests above could pass on nothing)."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "probe.py").write_text(
        "def late():\n    from agencies.models import Agency\n    from ..challenge_cards import models\n"
    )
    assert _violations("core", tmp_path) == [
        "core/probe.py imports agencies.models",
        "core/probe.py imports agencies.models.Agency",
        "core/probe.py imports challenge_cards",
        "core/probe.py imports challenge_cards.models",
    ]
