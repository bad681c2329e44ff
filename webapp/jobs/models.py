"""The job row: the one source of truth about long work, whatever the broker did with its message.

Concrete job models (imports and exports here, training and indexing later) subclass `Job` and name
the Celery task that runs them."""

from typing import TYPE_CHECKING, ClassVar, Self

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    task_name: str = ""  # the Celery task that runs this kind of job
    queue: str = "default"
    if TYPE_CHECKING:  # every concrete job model has the default manager
        objects: ClassVar[models.Manager[Self]]

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # Bumped by every claim and every recovery; a write carrying an older value is from a stale
    # worker and is refused, so two deliveries of one job can never both run or overwrite.
    attempt = models.PositiveIntegerField(default=0)
    recoveries = models.PositiveIntegerField(default=0)
    enqueue_count = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="%(app_label)s_%(class)s_sweep")]

    def target_queue(self) -> str:
        """The queue its task is sent to: the model's `queue`, unless a kind of job decides per row."""
        return type(self).queue

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress(self) -> float:
        return self.progress_done / self.progress_total if self.progress_total else 0.0


class IdempotencyKey(models.Model):
    """The `Idempotency-Key` of a launching POST: for `IDEMPOTENCY_KEY_SECONDS`, the same user sending
    the same key to the same endpoint gets the job the first request launched, not a second one
    (a client retrying after a timeout or an error). The same key with another body is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # sha256 of the request body, files included
    job_model = models.CharField(max_length=100)  # "app_label.ModelName" of the job it launched
    job_id = models.PositiveBigIntegerField()
    created = models.BooleanField(default=True)  # False: the launch found an existing job (200, not 202)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="jobs_idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"
