"""Test and benchmark helpers: a local SMTP sink and a real `celery -A config worker` subprocess.

Used by tests/notifications and benchmarks/reminders.py only (aiosmtpd is a dev requirement).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from kombu import pools

BASE_DIR = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """A real SMTP server on localhost that keeps what it accepts.

    ``refuse`` lists recipients answered with a permanent 550. ``hold_at`` makes the
    n-th DATA wait ``hold_seconds`` after setting ``held`` (a test kills the sending worker
    then); a message whose client is gone by the end of the wait is not kept, as a real
    server does not deliver a transaction the client never saw accepted.

    It keeps each message's bytes and parses them when asked (``messages``, ``message_ids``): parsing every
    message as it arrived cost the sink more CPU than the sending worker spent building it, on the same cores.
    """

    def __init__(self, *, refuse: set[str] | None = None, hold_at: int | None = None, hold_seconds: float = 3.0):
        self.refuse = {address.lower() for address in refuse or set()}
        self.hold_at = hold_at
        self.hold_seconds = hold_seconds
        self.held = threading.Event()
        self._received: list[bytes] = []
        self._parsed: list[EmailMessage] = []
        self.data_started = 0
        self.sessions = 0  # SMTP sessions opened (one EHLO each)
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port())

    # aiosmtpd handler hooks
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self._lock:
            self.sessions += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_started += 1
            number = self.data_started
        if self.hold_at is not None and number == self.hold_at:
            self.held.set()
            await asyncio.sleep(self.hold_seconds)
            reader = getattr(server, "_reader", None)
            if server.transport is None or server.transport.is_closing() or (reader is not None and reader.at_eof()):
                return "421 4.4.2 Client gone"
        with self._lock:
            self._received.append(envelope.content)
        return "250 2.0.0 Message accepted"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages accepted so far, in the order accepted."""
        with self._lock:
            for data in self._received[len(self._parsed) :]:
                self._parsed.append(message_from_bytes(data, policy=default_policy))
            return list(self._parsed)

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def message_ids(self) -> Counter:
        """How many times each Message-ID was accepted (only the headers are parsed)."""
        with self._lock:
            received = list(self._received)
        headers = BytesHeaderParser(policy=default_policy)
        return Counter(headers.parsebytes(data)["Message-ID"] for data in received)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Worker:
    """A real `celery -A config worker` process with its own environment and log file."""

    def __init__(self, env: dict[str, str], log_path: Path, *, pool: str = "solo", concurrency: int = 1):
        self.env = env
        self.log_path = log_path
        self.pool = pool
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Worker:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._offset = self.log_path.stat().st_size
        command = [
            str(CELERY),
            "-A",
            "config",
            "worker",
            f"--pool={self.pool}",
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=notify-test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        # Run outside the repository: a filesystem broker keeps its exchange table in ./control.
        workdir = Path(self.env["CC_VAR_DIR"])
        workdir.mkdir(parents=True, exist_ok=True)
        process = self.process = subprocess.Popen(
            command, cwd=workdir, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if not wait_until(lambda: self._ready() or process.poll() is not None, timeout, 0.2):
            self.stop()
            raise RuntimeError(f"The worker did not start in {timeout} s:\n{self.log()}")
        if process.poll() is not None:
            raise RuntimeError(f"The worker exited with {process.returncode}:\n{self.log()}")
        return self

    def _ready(self) -> bool:
        return b" ready." in self.log_path.read_bytes()[self._offset :]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker's process and its pool's live processes (Linux)."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        pids = [self.process.pid]
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # a pool process that just exited
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL the worker's whole process group: no clean shutdown, no acknowledgement."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if not self._log.closed:
            self._log.close()


def worker_env(
    *, database_url: str, smtp_port: int, broker_url: str | None, var_dir: Path, extra: dict | None = None
) -> dict[str, str]:
    """The worker's environment: the same database and broker as the caller, e-mail to the sink."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "DATABASE_URL", "EMAIL_HOST", "EMAIL_PORT", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "CC_VAR_DIR": str(var_dir),
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "0.2",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH", "")])),
        }
    )
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    env.update(extra or {})
    return env


def filesystem_broker(var_dir: Path) -> tuple[str, dict]:
    """The broker that config.settings.local sets up under CC_VAR_DIR when CELERY_BROKER_URL is unset."""
    folder = var_dir / "celery"
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str(folder / "control"),
    }
    return "filesystem://", options


def point_app_at(app, broker_url: str, transport_options: dict) -> None:
    """Make this process publish to the given broker (drops pooled connections to the old one)."""
    app.conf.broker_url = broker_url
    # Publishing uses the write URL; Celery lets an environment CELERY_BROKER_URL win over broker_url.
    app.conf.broker_write_url = broker_url
    app.conf.broker_transport_options = transport_options
    pools.reset()  # close and forget every pooled connection and producer
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
