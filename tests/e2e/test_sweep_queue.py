"""Recovery never waits behind long work: with the `default,index` worker's slot held by an index
task (blocked here on the index's folder lock, which the test holds), a job whose worker died is
re-queued within JOB_STALE_SECONDS + 2 x JOB_SWEEP_SECONDS by the `sweep` worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ml.embedding import vectors
from tests.e2e.worker_process import wait_for
from webapp.feedback.models import TransferJob
from webapp.retrieval import indexfiles
from webapp.retrieval.embedding import current_embedder

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

STALE, SWEEP = 6, 2
FAST = {"JOB_STALE_SECONDS": str(STALE), "JOB_SWEEP_SECONDS": str(SWEEP), "JOB_HEARTBEAT_SECONDS": "1"}


def test_a_dead_job_is_requeued_on_time_while_the_index_worker_is_busy(start_worker, tmp_path):
    start_worker(queues="sweep", beat=True, env=FAST)
    with vectors.folder_lock(indexfiles.lock_path(current_embedder().key)):
        busy = start_worker(queues="default,index", env=FAST)  # its start-up sync waits on the lock
        wait_for(lambda: "indexing.sync_index" in busy.output(), timeout=30, what="the busy index task")
        now = timezone.now()
        dead = TransferJob.objects.create(  # what a worker killed mid-export leaves behind
            kind="export",
            path=str(tmp_path / "dead.jsonl"),
            status="running",
            attempt=1,
            heartbeat_at=now,
            started_at=now,
        )
        job = wait_for(
            lambda: (row := TransferJob.objects.get(pk=dead.pk)).status != "running" and row,
            timeout=STALE + 4 * SWEEP + 10,
            what="the recovery",
        )
        assert job.status == "queued" and job.recoveries == 1
        assert job.enqueued_at - now <= timedelta(seconds=STALE + 2 * SWEEP)
        busy.kill()  # before the lock is released: the test is over, its queue need not drain
