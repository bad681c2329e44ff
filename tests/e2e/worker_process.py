"""A real Celery worker in a subprocess, pointed at the test database and the configured broker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database pytest-django created, so the worker writes where the test reads."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(
        self, log_path: Path, *, queues: str = "default,index,sweep", beat: bool = False, env: dict | None = None
    ):
        self.log_path = log_path
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "-n",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            cmd += ["-B", "-s", str(log_path.with_suffix(".beat"))]
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webapp.settings_test",
            "DATABASE_URL": test_database_url(),
            "VAR_DIR": str(settings.VAR_DIR),
            **(env or {}),
        }
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.wait_ready()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "ready." in self.output():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.output()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, not a shutdown."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:  # a warm shutdown; the test has asserted what it needed, so do not wait long for it
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(predicate, timeout: float = 120, interval: float = 0.25, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def purge_broker() -> None:
    """Drop messages a previous run may have left in the broker."""
    from workers.celery import app

    with app.connection_for_write() as conn:
        for queue in ("default", "index", "gpu", "sweep", "webhooks"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001 - a queue that does not exist yet has nothing to purge
                pass
