"""The events we send, and the `data` of each (one JSON Schema per event in docs/webhooks/). Payloads are
thin: ids, states, counts and the API path to read the rest, never the texts themselves."""

from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from webapp.feedback.models import Campaign, TransferJob
from webapp.jobs.models import Job
from webapp.judging.models import JudgeJob
from webapp.modelstore.models import ModelJob, ModelVariant
from webapp.training.models import TrainingJob

JOB_SUCCEEDED = "job.succeeded"
JOB_FAILED = "job.failed"
IMPORT_FINISHED = "import.finished"
EXPORT_FINISHED = "export.finished"
VARIANT_REGISTERED = "variant.registered"
CAMPAIGN_COMPLETED = "campaign.completed"
TEST = "webhook.test"

EVENT_TYPES: dict[str, Promise] = {
    JOB_SUCCEEDED: gettext_lazy("A training, model (install or generation) or judge job succeeded"),
    JOB_FAILED: gettext_lazy("A training, model (install or generation) or judge job failed"),
    IMPORT_FINISHED: gettext_lazy("An import job finished (succeeded or failed)"),
    EXPORT_FINISHED: gettext_lazy("An export job finished (succeeded or failed)"),
    VARIANT_REGISTERED: gettext_lazy("A model variant was registered or a base model installed, ready to serve"),
    CAMPAIGN_COMPLETED: gettext_lazy("Every task of a campaign reached its overlap"),
    TEST: gettext_lazy("Sent by the endpoint's test action only"),
}

SUBSCRIBABLE_TYPES = [name for name in EVENT_TYPES if name != TEST]

# The jobs whose end is an event, with the name a receiver sees and the API path of their rows.
JOB_TYPES: dict[type[Job], tuple[str, str]] = {
    TrainingJob: ("training", "/api/v1/training-jobs/{id}/"),
    ModelJob: ("model", "/api/v1/model-jobs/{id}/"),
    JudgeJob: ("judge", "/api/v1/judge-jobs/{id}/"),
}
MAX_ERROR_CHARS = 2000


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def payload(event_type: str, data: dict[str, Any], occurred_at: datetime) -> dict[str, Any]:
    return {"type": event_type, "timestamp": iso(occurred_at), "data": data}


def summary(result: dict[str, Any]) -> dict[str, int | float]:
    """The counts of a job's result (lists of bad lines and the like are left for the API)."""
    return {k: v for k, v in result.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _job_fields(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "error": job.error[:MAX_ERROR_CHARS],
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


def job_event(job: Job) -> tuple[str, dict[str, Any]] | None:
    """The event of a finished job, or None for a kind of job that sends none (index builds)."""
    if isinstance(job, TransferJob):
        kind = job.kind
        path = f"/api/v1/transfers/{job.pk}/"
        data = {**_job_fields(job), "kind": kind, "summary": summary(job.result), "api_path": path}
        return (IMPORT_FINISHED if kind == "import" else EXPORT_FINISHED), data
    if type(job) not in JOB_TYPES:
        return None
    job_type, path = JOB_TYPES[type(job)]
    data = {
        **_job_fields(job),
        "job_type": job_type,
        "kind": _job_kind(job),
        "summary": summary(getattr(job, "result", None) or {}),
        "variant": _made_variant(job),
        "api_path": path.format(id=job.pk),
    }
    return (JOB_SUCCEEDED if job.status == "succeeded" else JOB_FAILED), data


def _job_kind(job: Job) -> str:
    if isinstance(job, JudgeJob):
        return job.judge
    return str(getattr(job, "kind", ""))


def _made_variant(job: Job) -> str | None:
    if isinstance(job, TrainingJob) and job.variant_id:
        return ModelVariant.objects.filter(pk=job.variant_id).values_list("name", flat=True).first()
    if isinstance(job, ModelJob):
        return (job.result or {}).get("variant")
    return None


def variant_event(variant: ModelVariant) -> dict[str, Any]:
    return {
        "id": variant.pk,
        "name": variant.name,
        "kind": variant.kind,
        "parent": variant.parent.name if variant.parent else None,
        "source": variant.source,
        "size_bytes": variant.size_bytes,
        "training_job": TrainingJob.objects.filter(variant=variant).values_list("pk", flat=True).first(),
        "api_path": f"/api/v1/variants/{variant.pk}/",
    }


def campaign_event(campaign: Campaign) -> dict[str, Any]:
    counts = campaign.tasks.alive().aggregate(tasks=Count("id"), annotations=Sum("annotation_count"))
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "overlap": campaign.overlap,
        "tasks": counts["tasks"],
        "annotations": counts["annotations"] or 0,
        "api_path": f"/api/v1/campaigns/{campaign.pk}/",
    }
