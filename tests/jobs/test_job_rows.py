"""The job-row machinery: claim by conditional UPDATE, attempt tokens, cancel, and the sweep."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from webapp.feedback.models import TransferJob
from webapp.jobs.services import JobLost, JobRun, job_claim, job_request_cancel, job_running, jobs_sweep

pytestmark = pytest.mark.django_db


def new_job(**fields) -> TransferJob:
    return TransferJob.objects.create(kind="export", path="/tmp/x.jsonl", **fields)


def test_a_second_delivery_of_a_claimed_job_does_nothing():
    job = new_job()
    assert job_claim(TransferJob, job.pk) == 1
    assert job_claim(TransferJob, job.pk) is None
    ran = []
    with job_running(TransferJob, job.pk) as run:
        ran.append(run)
    assert ran == [None]


def test_a_stale_worker_can_no_longer_write_once_the_job_was_recovered():
    job = new_job()
    token = job_claim(TransferJob, job.pk)
    TransferJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with override_settings(JOB_STALE_SECONDS=60):
        assert jobs_sweep()["recovered"] == 1
    stale = JobRun(TransferJob, job.pk, token)
    with pytest.raises(JobLost):
        stale.save(result={"rows": 1})
    job.refresh_from_db()
    assert job.status == "queued" and job.recoveries == 1 and job.result == {}


def test_success_and_failure_are_written_on_the_row():
    ok, bad = new_job(), new_job()
    with job_running(TransferJob, ok.pk) as run:
        run.save(result={"rows": 3})
    with job_running(TransferJob, bad.pk):
        raise ValueError("the disk is full")
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, ok.result) == ("succeeded", {"rows": 3})
    assert bad.status == "failed" and "the disk is full" in bad.error


def test_cancel_stops_a_queued_job_at_once_and_a_running_one_at_its_next_progress_report():
    queued = new_job()
    job_request_cancel(queued)
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    running = new_job()
    with job_running(TransferJob, running.pk) as run:
        job_request_cancel(running)
        run.cancelled.set()  # what the heartbeat thread does when it sees the flag
        run.progress(10, 100)
    running.refresh_from_db()
    assert running.status == "cancelled"


@override_settings(JOB_STALE_SECONDS=60, JOB_MAX_RECOVERIES=2)
def test_a_job_that_keeps_dying_fails_after_the_maximum_recoveries():
    job = new_job(status="running", attempt=5, recoveries=2, heartbeat_at=timezone.now() - timedelta(hours=1))
    assert jobs_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and "3 times" in job.error


@override_settings(JOB_REQUEUE_SECONDS=10)
def test_queued_jobs_are_sent_again_with_a_doubling_delay():
    now = timezone.now()
    fresh = new_job(enqueued_at=now - timedelta(seconds=5), enqueue_count=1)
    lost = new_job(enqueued_at=now - timedelta(seconds=15), enqueue_count=1)
    patient = new_job(enqueued_at=now - timedelta(seconds=15), enqueue_count=2)  # waits 20 s this time
    assert jobs_sweep()["requeued"] == 1
    counts = dict(TransferJob.objects.values_list("pk", "enqueue_count"))
    assert counts == {fresh.pk: 1, lost.pk: 2, patient.pk: 2}


def test_running_jobs_with_a_fresh_heartbeat_are_left_alone():
    new_job(status="running", attempt=1, heartbeat_at=timezone.now())
    assert jobs_sweep() == {"recovered": 0, "failed": 0, "requeued": 0}


def test_a_cancelled_job_keeps_the_last_progress_it_reported():
    job = new_job()
    with job_running(TransferJob, job.pk) as run:
        run.progress(3, 10)
        job_request_cancel(job)
        run.cancelled.set()  # what the heartbeat thread does when it sees the flag
        run.progress(4, 10)
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == ("cancelled", 4, 10)
