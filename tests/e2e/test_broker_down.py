"""Launching while the broker is down: the web process answers 202 at once (the job row is committed
and the sweep sends it when the broker is back), and a client retrying with its Idempotency-Key gets
the same job, not a duplicate. The broker is a private redis-server on a free port, killed by the test
(never the machine's shared one)."""

import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from rest_framework.authtoken.models import Token

from tests.e2e.server_process import ServerProcess, free_port
from tests.e2e.worker_process import wait_for
from webapp.feedback.models import TransferJob
from webapp.modelstore.models import ModelJob

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


class PrivateRedis:
    """A throwaway redis-server on a loopback port, without persistence."""

    def __init__(self, folder: Path):
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(command, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=20, interval=0.05, what="the private redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.kill()


def test_launches_succeed_while_the_broker_is_down_and_a_retry_returns_the_first_job(
    staff, private_redis, tmp_path, start_worker
):
    server = ServerProcess(tmp_path / "uvicorn.log", env={"CELERY_BROKER_URL": private_redis.url})
    try:
        private_redis.kill()
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Token {Token.objects.create(user=staff).key}"}, timeout=60
        )

        def export(key: str) -> httpx.Response:
            return client.post("/api/v1/transfers/export/", json={"format": "pairs"}, headers={"Idempotency-Key": key})

        first = export("retry-me")
        assert first.status_code == 202, first.text
        again = export("retry-me")
        assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
        install = client.post("/api/v1/model-jobs/install/", json={"source": "org/model"})
        assert install.status_code == 202, install.text
        assert TransferJob.objects.count() == 1 and ModelJob.objects.count() == 1
        assert "could not publish" in (tmp_path / "uvicorn.log").read_text()
    finally:
        server.stop()

    private_redis.start()  # the broker is back: the sweep sends the job that was never published
    start_worker(
        queues="default,sweep", beat=True, env={"CELERY_BROKER_URL": private_redis.url, "JOB_SWEEP_SECONDS": "1"}
    )
    job_id = first.json()["id"]
    done = wait_for(lambda: TransferJob.objects.get(pk=job_id).is_finished, timeout=60, what="the export")
    assert done and TransferJob.objects.get(pk=job_id).status == "succeeded"
