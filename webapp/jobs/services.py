"""Job rows: enqueue after commit, claim by conditional UPDATE, heartbeat from claim to finish, and
the sweep that recovers jobs whose message or worker was lost. The broker is never trusted to
remember a job: the row is (docs/operations.md, "Job recovery")."""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.jobs.models import IdempotencyKey, Job, JobStatus
from webapp.jobs.signals import job_finished
from webapp.queue import send_task

log = logging.getLogger(__name__)

J = TypeVar("J", bound=Job)


class JobLost(Exception):
    """This worker's claim is no longer valid: the job was recovered or cancelled elsewhere."""


class JobCancelled(Exception):
    """Staff asked the job to stop; the runner stops at its next check."""


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job)]


def job_enqueue(job: Job) -> None:
    """Send the job's task once the surrounding transaction commits (a worker must see the row)."""
    model, pk, queue = type(job), job.pk, job.target_queue()
    model.objects.filter(pk=pk).update(enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1)

    def send() -> None:
        if not send_task(model.task_name, args=[pk], queue=queue):
            _mark_overdue(model, pk)

    transaction.on_commit(send)


def requeue_wait(enqueue_count: int) -> float:
    """Seconds a queued job waits for a worker before the sweep sends it again (doubling per send)."""
    return float(settings.JOB_REQUEUE_SECONDS * 2 ** min(max(enqueue_count, 1) - 1, 8))


def _mark_overdue(model: type[Job], pk: int) -> None:
    """The broker was down: date the send back so that the first sweep once it is up sends it again."""
    count = model.objects.filter(pk=pk).values_list("enqueue_count", flat=True).first() or 1
    overdue = timezone.now() - timedelta(seconds=requeue_wait(count) + 1)
    model.objects.filter(pk=pk, status=JobStatus.QUEUED).update(enqueued_at=overdue)


def job_request_cancel(job: Job) -> None:
    model = type(job)
    model.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    )
    model.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True)


def job_claim(model: type[Job], job_id: int) -> int | None:
    """Take a queued job. Returns the new attempt token, or None when another delivery (or a
    cancel) got there first: zero rows updated means someone else has it."""
    row = model.objects.filter(pk=job_id).values("attempt", "status").first()
    if row is None or row["status"] != JobStatus.QUEUED:
        return None
    now = timezone.now()
    claimed = model.objects.filter(pk=job_id, status=JobStatus.QUEUED, attempt=row["attempt"]).update(
        status=JobStatus.RUNNING, attempt=row["attempt"] + 1, heartbeat_at=now, started_at=now
    )
    return row["attempt"] + 1 if claimed else None


def _guarded(model: type[Job], job_id: int, token: int) -> QuerySet[Job]:
    return model.objects.filter(pk=job_id, attempt=token, status=JobStatus.RUNNING)


class JobRun(Generic[J]):
    """What a runner sees of its job: progress reports, log lines, the cancel flag.

    Progress is kept in memory and written by the heartbeat thread on its own connection: a runner
    inside a long transaction (an atomic import) must not hold the job row locked, and on SQLite no
    other write could happen until it commits anyway. Every write is conditional on the attempt token."""

    def __init__(self, model: type[J], job_id: int, token: int):
        self.model, self.job_id, self.token = model, job_id, token
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self._progress: dict[str, int] = {}
        self._lock = threading.Lock()

    def job(self) -> J:
        return self.model.objects.get(pk=self.job_id)

    def progress(self, done: int, total: int | None = None, *, check: bool = True) -> None:
        """Report progress; raises JobCancelled or JobLost at this safe point when due (unless `check` is
        False: a final figure written with the outcome, after the work is done)."""
        with self._lock:
            self._progress["progress_done"] = done
            if total is not None:
                self._progress["progress_total"] = total
        if check:
            self.check()

    def check(self) -> None:
        """A safe point without progress to report: raises JobCancelled or JobLost when due."""
        if self.lost.is_set():
            raise JobLost(f"{self.model.__name__} {self.job_id}: attempt {self.token} is no longer current")
        if self.cancelled.is_set():
            raise JobCancelled()

    def should_stop(self) -> bool:
        """For code that cannot import this module (ml/): has a cancel arrived, or the claim been lost?"""
        return self.cancelled.is_set() or self.lost.is_set()

    def pending_progress(self) -> dict[str, int]:
        with self._lock:
            pending, self._progress = self._progress, {}
        return pending

    def log(self, line: str) -> None:
        job = self.job()
        self.save(log=(job.log + line.rstrip() + "\n")[-20_000:])

    def save(self, **fields: Any) -> None:
        """Write fields on the row, only while this attempt still owns it."""
        if not _guarded(self.model, self.job_id, self.token).update(**fields):
            raise JobLost(f"{self.model.__name__} {self.job_id}: attempt {self.token} is no longer current")


class _Heartbeat(threading.Thread):
    def __init__(self, run: JobRun[Any]):
        super().__init__(daemon=True, name=f"heartbeat-{run.model.__name__}-{run.job_id}")
        self.run_ = run
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        run = self.run_
        try:
            rows = _guarded(run.model, run.job_id, run.token)
            if not rows.update(heartbeat_at=timezone.now(), **run.pending_progress()):
                run.lost.set()
            elif rows.filter(cancel_requested=True).exists():
                run.cancelled.set()
        except DatabaseError:
            # SQLite: the runner's own long write transaction holds the database lock; try again.
            log.warning("heartbeat of %s %s could not be written; retrying", run.model.__name__, run.job_id)


@contextmanager
def job_running(model: type[J], job_id: int) -> Iterator[JobRun[J] | None]:
    """Claim the job and keep its heartbeat going until the block ends. Yields None when the job is
    not ours to run (already claimed, finished or cancelled). The block's outcome finishes the row:
    success, cancel, or failure with the error message."""
    token = job_claim(model, job_id)
    if token is None:
        log.info("%s %s: not claimed (another delivery has it, or it is finished)", model.__name__, job_id)
        yield None
        return
    run = JobRun(model, job_id, token)
    heartbeat = _Heartbeat(run)
    heartbeat.start()
    try:
        yield run
    except JobLost:
        log.warning("%s %s: lost its claim; stopping without writing", model.__name__, job_id)
    except JobCancelled:  # with the last progress reported, which the heartbeat may not have written yet
        _guarded(model, job_id, token).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), **run.pending_progress()
        )
    except Exception as exc:
        log.exception("%s %s failed", model.__name__, job_id)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        _finish(model, job_id, _guarded(model, job_id, token), JobStatus.FAILED, error=message)
    else:
        _finish(model, job_id, _guarded(model, job_id, token), JobStatus.SUCCEEDED, **run.pending_progress())
    finally:
        heartbeat.stopped.set()
        heartbeat.join()


def _finish(model: type[Job], job_id: int, rows: QuerySet[Job], status: str, **fields: Any) -> None:
    """Write a job's outcome through `rows` (the guarded row) and, in the same transaction, tell the
    listeners (`job_finished`): only when this write is the one that finished it."""
    with transaction.atomic():
        if rows.update(**{"status": status, "finished_at": timezone.now(), **fields}):
            job_finished.send_robust(sender=model, job_id=job_id, status=status)


def jobs_sweep() -> dict[str, int]:
    """Recover lost work: running jobs with a stale heartbeat go back to the queue (or fail after
    too many recoveries); queued jobs whose message may have been lost are sent again, with a
    doubling delay so a job waiting behind a long one is not flooded with copies."""
    counts = {"recovered": 0, "failed": 0, "requeued": 0}
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    for model in job_models():
        for job in model.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before):
            counts[_recover(model, job, now)] += 1
        for job in model.objects.filter(status=JobStatus.QUEUED, enqueued_at__isnull=False):
            assert job.enqueued_at is not None  # filtered on enqueued_at__isnull=False
            if job.enqueued_at < now - timedelta(seconds=requeue_wait(job.enqueue_count)):
                with transaction.atomic():
                    job_enqueue(job)
                counts["requeued"] += 1
    return counts


def _recover(model: type[Job], job: Job, now: datetime) -> str:
    # Bumping the attempt makes any still-alive old worker's writes fail (JobLost).
    stale = model.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempt=job.attempt)
    if job.recoveries >= settings.JOB_MAX_RECOVERIES:
        _finish(
            model,
            job.pk,
            stale,
            JobStatus.FAILED,
            attempt=job.attempt + 1,
            finished_at=now,
            error=f"The worker stopped answering {job.recoveries + 1} times; giving up.",
        )
        return "failed"
    with transaction.atomic():
        if stale.update(status=JobStatus.QUEUED, attempt=job.attempt + 1, recoveries=job.recoveries + 1):
            log.warning("%s %s: heartbeat stale since %s; re-queued", model.__name__, job.pk, job.heartbeat_at)
            job_enqueue(job)
    return "recovered"


# --- idempotent launches --------------------------------------------------------------------------
class IdempotencyKeyReused(ApplicationError):
    status_code = 422


def idempotent_launch(
    *,
    user: User,
    endpoint: str,
    key: str,
    request_hash: str,
    launch: Callable[[], tuple[Job, bool]],
) -> tuple[Job, bool]:
    """Run `launch` (which returns the job and whether it was queued now) once per user, endpoint and
    key: a retry of the same request gets the first job back, with the first answer's `created`.

    The key row is written before the launch, in the same transaction: a concurrent retry waits on
    its unique index (PostgreSQL) or on the write lock (SQLite), then finds it and launches nothing.
    A launch that fails rolls the key back with everything else, so the client may retry with it."""
    with transaction.atomic():
        record = _live_key(user, endpoint, key)
        if record is None:
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=user, endpoint=endpoint, key=key, request_hash=request_hash, job_model="", job_id=0
                    )
            except IntegrityError:  # a concurrent request with this key committed first
                record = IdempotencyKey.objects.get(user=user, endpoint=endpoint, key=key)
            else:
                job, created = launch()
                IdempotencyKey.objects.filter(pk=record.pk).update(
                    job_model=job._meta.label, job_id=job.pk, created=created
                )
                return job, created
        return _replayed(record, request_hash), record.created


def _live_key(user: User, endpoint: str, key: str) -> IdempotencyKey | None:
    """The key's record if it is still valid; an expired one (or one whose job was deleted) is dropped."""
    record = IdempotencyKey.objects.filter(user=user, endpoint=endpoint, key=key).first()
    if record is None:
        return None
    expired = record.created_at < timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_SECONDS)
    if expired or not apps.get_model(record.job_model).objects.filter(pk=record.job_id).exists():
        record.delete()
        return None
    return record


def _replayed(record: IdempotencyKey, request_hash: str) -> Job:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used with a different request body; send a new key for a new request."),
            extra={"field": "Idempotency-Key"},
        )
    job: Job = apps.get_model(record.job_model).objects.get(pk=record.job_id)
    return job


def idempotency_keys_purge() -> int:
    """Delete the keys older than IDEMPOTENCY_KEY_SECONDS (run by the sweep)."""
    expired = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_SECONDS)
    deleted, _kinds = IdempotencyKey.objects.filter(created_at__lt=expired).delete()
    return deleted
