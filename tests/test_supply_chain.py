"""Supply chain: hashed locks made from the requirements*.in, the SBOM, the audit that never claims too much.

No test here reaches the network: the SBOM is made with every proxy pointed at a closed port, and the
audit's probes go to a closed port or to a stub server on 127.0.0.1.
"""

import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there
OFFLINE = {"HTTP_PROXY": CLOSED, "HTTPS_PROXY": CLOSED, "ALL_PROXY": CLOSED, "NO_PROXY": ""}
OFFLINE |= {key.lower(): value for key, value in OFFLINE.items()}

LOCKS = {"requirements.in": "requirements.txt", "requirements-dev.in": "requirements-dev.txt"}

# One locked requirement: name==version, an optional environment marker, then at least one sha256 hash.
LOCK_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)"
    r"(?:\s*;\s*[^-][^\\]*?)?(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)$"
)

# What issue 18 asked to add, at the versions asked for (a change here has to be reported).
ADDED_RUNTIME = {
    "django-storages": "1.14.6",
    "boto3": "1.44.8",
    "sentry-sdk": "2.75.0",
    "prometheus-client": "0.26.0",
    "python-json-logger": "4.2.0",
    "django-otp": "1.7.5",
    "django-otp-webauthn": "0.10.3",
    "standardwebhooks": "1.1.0",
}
ADDED_DEV = {
    "hypothesis": "6.170.15",
    "mypy": "2.4.1",
    "django-stubs": "6.1.2",
    "djangorestframework-stubs": "3.18.1",
    "celery-types": "0.26.0",
    "types-openpyxl": "3.1.5.20261017",
    "types-tqdm": "4.70.0.20261106",
    "moto": "5.2.5",
    "pip-audit": "2.10.1",
    "cyclonedx-bom": "7.5.0",
    "pip-tools": "7.6.2",
}


def _logical_lines(path: Path) -> list[str]:
    """The lines of a requirements file with backslash continuations joined, comments and blanks dropped."""
    joined, lines = "", []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            joined += line[:-1] + " "
            continue
        joined += line
        if joined.strip():
            lines.append(" ".join(joined.split()))
        joined = ""
    assert not joined.strip(), f"{path.name} ends inside a continued line"
    return lines


def _lock(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """canonical name -> (version, hashes) of every entry of a lock file."""
    entries = {}
    for line in _logical_lines(ROOT / name):
        match = LOCK_ENTRY.match(line)
        assert match, f"{name}: not a pinned, hashed requirement: {line[:200]}"
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", match["hashes"]))
        entries[canonicalize_name(match["name"])] = (match["version"], hashes)
    return entries


def _asked_for(name: str) -> list[Requirement]:
    """The requirements an .in file asks for, following -r includes (a -c constraint asks for nothing)."""
    requirements = []
    for line in _logical_lines(ROOT / name):
        if line.startswith(("-r ", "--requirement ")):
            requirements += _asked_for(line.split(None, 1)[1])
        elif line.startswith(("-c ", "--constraint ")):
            continue
        else:
            assert not line.startswith("-"), f"{name}: unexpected option {line!r}"
            requirements.append(Requirement(line))
    return requirements


@pytest.mark.parametrize("lock", sorted(LOCKS.values()))
def test_every_lock_entry_is_pinned_with_a_hash(lock):
    lines = _logical_lines(ROOT / lock)
    assert len(lines) > 50, f"{lock} has only {len(lines)} entries"
    for line in lines:
        # No index, find-links, editable or URL lines: only name==version --hash=...
        assert LOCK_ENTRY.match(line), f"{lock}: not a pinned, hashed requirement: {line[:200]}"
    assert len(_lock(lock)) == len(lines), f"{lock} names a package twice"


@pytest.mark.parametrize("source, lock", sorted(LOCKS.items()))
def test_every_package_asked_for_is_locked_at_its_pin(source, lock):
    locked = _lock(lock)
    asked = _asked_for(source)
    assert len(asked) >= 20
    for requirement in asked:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is asked for in {source} but missing from {lock}"
        specifiers = list(requirement.specifier)
        assert [s.operator for s in specifiers] == ["=="], f"{source}: {requirement} is not pinned with =="
        pinned = specifiers[0].version
        assert locked[name][0] == pinned, f"{lock} has {name}=={locked[name][0]}, {source} asks {requirement}"


def test_runtime_lock_is_part_of_the_dev_lock_at_the_same_versions_and_hashes():
    runtime, dev = _lock("requirements.txt"), _lock("requirements-dev.txt")
    for name, entry in runtime.items():
        assert dev.get(name) == entry, f"{name}: runtime lock {entry[0]}, dev lock {dev.get(name, ('missing',))[0]}"
    assert len(dev) > len(runtime)


@pytest.mark.parametrize("lock, added", [("requirements.txt", ADDED_RUNTIME), ("requirements-dev.txt", ADDED_DEV)])
def test_the_packages_issue_18_adds_are_locked_at_the_versions_asked_for(lock, added):
    locked = _lock(lock)
    assert {name: locked.get(name, ("missing",))[0] for name in added} == added


def test_dev_lock_holds_what_the_lock_itself_needs():
    dev = _lock("requirements-dev.txt")
    # --allow-unsafe: pip itself is pinned and hashed, so a fresh venv's pip is replaced from the lock too.
    assert "pip" in dev and "setuptools" in dev
    # psycopg[binary] and django-storages[s3]: --strip-extras locks the extras' packages by name.
    assert {"psycopg-binary", "boto3", "botocore"} <= set(_lock("requirements.txt"))


def test_in_files_say_how_to_regenerate_the_locks():
    for source in LOCKS:
        assert "make lock" in (ROOT / source).read_text(), source


def _make_dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_installs_from_the_hashed_dev_lock_only():
    commands = _make_dry_run("-B", "install")
    installs = [line for line in commands.splitlines() if "pip install" in line]
    assert installs, commands
    for line in installs:
        assert "--require-hashes" in line and "-r requirements-dev.txt" in line, line


def test_make_lock_runs_pip_compile_with_hashes_for_both_locks():
    commands = _make_dry_run("lock")
    compiles = [line for line in commands.splitlines() if "pip-compile" in line]
    assert len(compiles) == 2, commands
    for line in compiles:
        assert "--generate-hashes" in line and "--allow-unsafe" in line and "PIP_CONFIG_FILE=/dev/null" in line
    assert "requirements.in" in compiles[0] and "--output-file requirements.txt" in compiles[0]
    assert "requirements-dev.in" in compiles[1] and "--output-file requirements-dev.txt" in compiles[1]


def test_sbom_is_cyclonedx_json_of_the_runtime_lock(tmp_path):
    assert "scripts/sbom.sh" in _make_dry_run("sbom")
    out = tmp_path / "sbom.cdx.json"
    result = subprocess.run(
        ["bash", "scripts/sbom.sh", str(out)],
        cwd=ROOT,
        env=os.environ | OFFLINE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(out) in result.stdout
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["metadata"]["component"]["name"] == "challenge-cards"
    runtime = _lock("requirements.txt")
    components = {canonicalize_name(c["name"]): c for c in bom["components"]}
    assert set(components) == set(runtime)
    assert components["django"]["version"] == runtime["django"][0]
    assert components["django"]["purl"] == f"pkg:pypi/django@{runtime['django'][0]}"
    django_hashes = {h["content"] for ref in components["django"]["externalReferences"] for h in ref.get("hashes", [])}
    assert {f"sha256:{h}" for h in django_hashes} == runtime["django"][1]
    assert "mypy" not in components  # dev tools are not shipped


# --- make audit -------------------------------------------------------------------------------------------


@pytest.fixture
def fake_pip_audit(tmp_path):
    """A pip-audit stand-in that records how it was called and claims a clean audit."""
    calls = tmp_path / "pip-audit-calls"
    script = tmp_path / "pip-audit"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho "No known vulnerabilities found"\n')
    script.chmod(0o755)
    return script, calls


def _audit(pip_audit: Path, pypi_url: str, osv_url: str, *locks: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "AUDIT_PYPI_URL": pypi_url,
        "AUDIT_OSV_URL": osv_url,
        "PIP_AUDIT": str(pip_audit),
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    return subprocess.run(
        ["bash", "scripts/audit.sh", *locks], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_audit_with_no_vulnerability_data_says_nothing_was_audited(fake_pip_audit):
    pip_audit, calls = fake_pip_audit
    result = _audit(pip_audit, CLOSED, CLOSED)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "NOTHING was audited" in output
    assert "no known vulnerabilities" not in output.lower()
    assert not calls.exists(), "pip-audit ran although no vulnerability data was reachable"


def test_make_audit_is_not_part_of_ci():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in commands if "audit" in line], "make audit needs the internet; keep it out of .ci/run"
    assert "make test" in ci


@pytest.fixture
def vulnerability_data():
    """A stub of the two services on 127.0.0.1; `answers` says which one gives data."""
    answers = {"pypi": False, "osv": False}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, ok: bool, body: dict) -> None:
            payload = json.dumps(body).encode() if ok else b"Not Found"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json" if ok else "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            ok = answers["pypi"] and re.fullmatch(r"/pypi/django/[^/]+/json", self.path) is not None
            self._reply(ok, {"info": {"name": "django"}, "vulnerabilities": []})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._reply(answers["osv"] and self.path == "/v1/query", {})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()


def test_audit_with_pypi_data_runs_strict_pip_audit_on_the_lock(fake_pip_audit, vulnerability_data):
    pip_audit, calls = fake_pip_audit
    url, answers = vulnerability_data
    answers["pypi"] = True
    result = _audit(pip_audit, url, CLOSED)
    assert result.returncode == 0, result.stdout + result.stderr
    args = calls.read_text().split()
    assert "--strict" in args and "--require-hashes" in args
    assert args[args.index("--vulnerability-service") + 1] == "pypi"
    assert args[args.index("--requirement") + 1] == "requirements.txt"


def test_audit_falls_back_to_osv_and_audits_every_lock_given(fake_pip_audit, vulnerability_data):
    pip_audit, calls = fake_pip_audit
    url, answers = vulnerability_data
    answers["osv"] = True
    result = _audit(pip_audit, url, url, "requirements.txt", "requirements-dev.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    args = calls.read_text().split()
    assert args[args.index("--vulnerability-service") + 1] == "osv"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--requirement"] == [
        "requirements.txt",
        "requirements-dev.txt",
    ]


def test_audit_with_a_pypi_answer_that_has_no_vulnerability_data_audits_nothing(fake_pip_audit, vulnerability_data):
    """A 404 (what PyPI's per-version JSON answers here) is not vulnerability data."""
    pip_audit, calls = fake_pip_audit
    url, _answers = vulnerability_data  # both services answer 404
    result = _audit(pip_audit, url, url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "NOTHING was audited" in result.stderr
    assert not calls.exists()


# --- .github -----------------------------------------------------------------------------------------------


def _yaml(path: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / path).read_text())


def test_ci_workflow_runs_ci_run_with_postgres_and_redis():
    job = _yaml("workflows/ci.yml")["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu")
    assert {"postgres", "redis"} <= set(job["services"])
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in job["steps"])


def test_pip_audit_codeql_and_dependabot_are_defined():
    audit_steps = _yaml("workflows/pip-audit.yml")["jobs"]["pip-audit"]["steps"]
    assert any("make audit" in step.get("run", "") for step in audit_steps)
    codeql_steps = _yaml("workflows/codeql.yml")["jobs"]["analyze"]["steps"]
    assert any(
        step.get("uses", "").startswith("github/codeql-action/init") and step["with"]["languages"] == "python"
        for step in codeql_steps
    )
    updates = {u["package-ecosystem"]: u["schedule"]["interval"] for u in _yaml("dependabot.yml")["updates"]}
    assert updates == {"pip": "weekly", "github-actions": "weekly"}
