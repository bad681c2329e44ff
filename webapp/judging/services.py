"""Launching, running and cancelling judge jobs: a registered judge ranks every alive task of a campaign
(optionally of some languages), each ranking stored by `judge_label` (source `judge`, origin
NAME@VERSION, no slot taken). A task the judge ranked already is skipped, so a job that was stopped,
or a second job of the same judge on the same campaign, only ranks what is left."""

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from webapp.errors import ApplicationError, NotFound
from webapp.feedback.extensions import judges
from webapp.feedback.models import Annotation, Campaign, Language, Task
from webapp.feedback.services.judging import InvalidJudgement, judge_label
from webapp.feedback.services.languages import canonical_tag
from webapp.feedback.sources import Source
from webapp.jobs.models import JobStatus
from webapp.jobs.services import JobCancelled, JobRun, job_enqueue, job_request_cancel, job_running
from webapp.judging.models import JudgeJob

MAX_ERRORS = 20  # invalid rankings listed in a job's result


def _field(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", extra={"field": field})


def judge_tasks(campaign_id: int, languages: list[str]) -> QuerySet[Task]:
    tasks = Task.objects.alive().filter(campaign_id=campaign_id).order_by("id")
    return tasks.filter(language_id__in=languages) if languages else tasks


def _languages(values: list[str]) -> list[str]:
    codes = []
    for value in values:
        try:
            code = canonical_tag(value)
        except ApplicationError as exc:
            raise _field("languages", exc.message) from None
        if not Language.objects.filter(code=code).exists():
            raise _field("languages", f"unknown language {value[:40]!r}")
        codes.append(code)
    return sorted(set(codes))


@transaction.atomic
def judge_job_create(
    *, judge: str, campaign: Campaign, languages: list[str], user: User | None, enqueue: bool = True
) -> tuple[JudgeJob, bool]:
    """Queue `judge` (NAME or NAME@VERSION, registered) over the campaign's alive tasks. Returns (job,
    queued_now): while a job of the same judge on the same campaign and languages is queued or
    running, that one is returned and nothing new is queued."""
    entry = judges.resolve(judge)
    if campaign.deleted_at is not None:
        raise _field("campaign", f"campaign {campaign.name!r} is deleted")
    codes = _languages(languages)
    if not judge_tasks(campaign.pk, codes).exists():
        where = f" in {', '.join(codes)}" if codes else ""
        raise _field("campaign", f"campaign {campaign.name!r} has no task{where} to judge")
    pending = JudgeJob.objects.filter(
        judge=entry.origin, campaign=campaign, languages=codes, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
    ).first()
    if pending is not None:
        return pending, False
    job = JudgeJob.objects.create(
        judge=entry.origin, campaign=campaign, languages=codes, judge_queue=entry.queue, created_by=user
    )
    if enqueue:
        job_enqueue(job)
    return job, True


def judge_job_cancel(*, job: JudgeJob) -> JudgeJob:
    job_request_cancel(job)
    job.refresh_from_db()
    return job


def judge_job_run(job_id: int) -> None:
    """The body of the Celery task: claim, rank what is left, report progress, answer a cancel."""
    with job_running(JudgeJob, job_id) as run:
        if run is None:
            return
        _judge(run, run.job())


def _judge(run: JobRun[JudgeJob], job: JudgeJob) -> None:
    entry = judges.resolve(job.judge)  # the version registered now must be the one the job names
    selection = judge_tasks(job.campaign_id, job.languages)
    tasks = list(selection.values_list("id", flat=True))
    ranked = set(
        Annotation.objects.filter(source=Source.JUDGE, origin=job.judge, task__in=selection).values_list(
            "task_id", flat=True
        )
    )
    result: dict = {"tasks": len(tasks), "already": len(ranked), "ranked": 0, "invalid": 0, "errors": []}
    done = len(ranked)
    run.progress(done, len(tasks))
    try:
        for task_id in tasks:
            if task_id in ranked:
                continue
            try:
                _, created = judge_label(task_id=task_id, judge=entry.name)
            except (InvalidJudgement, NotFound) as exc:  # listed, and the job goes on; any other error stops it
                result["invalid"] += 1
                if len(result["errors"]) < MAX_ERRORS:
                    result["errors"].append({"task": task_id, "error": exc.message})
            else:
                result["ranked" if created else "already"] += 1
            done += 1
            run.progress(done, len(tasks))
    except JobCancelled:
        run.save(result=result)
        raise
    run.save(result=result)
