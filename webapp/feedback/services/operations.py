"""Bulk operations on a campaign, as jobs with progress (a `CampaignJob` row, run by a worker): the request
validates and records what was asked, and flips what must change at once; the worker does the rows in
batches of `BATCH`, each batch its own short transaction, so a submit never waits behind a long bulk write.

* `archive` takes the campaign out of annotators' queues at launch (is_active off: no new leases); the job
  releases the leases still held on its tasks and counts what stays. `unarchive` puts it back.
* `delete` marks the campaign deleted at launch (it disappears from every list and queue) and the job
  soft-deletes its tasks and drops their leases, with the campaign's own deletion time. It cannot be
  cancelled: a deleted campaign with live tasks would be a half-written state. A worker that dies mid-way
  leaves a running row the sweep re-queues; the next run picks up the tasks still alive.
* `reassign` moves the campaign's open tasks (alive, fewer annotations than its overlap) to another
  campaign, only in the languages that campaign routes; their annotations go with them and their leases
  are released. Cancellable between batches: what moved stays moved and the result says how many.
* `gold` marks (or, with position null, unmarks) gold items in bulk: every item is checked before anything
  is written, and one bad item fails the job with the first `MAX_ERRORS` problems named by item number;
  once checked, the items are written in batches to the end (not cancellable; the sweep finishes a lost run).
* `backfill` (a verify campaign only) makes one verify task for each contribution of the campaign it verifies
  that is still pending (not overridden), whose task is alive and that has no task in this campaign yet (a
  deleted one included: a deleted verify task is never made again). New verify campaigns start it themselves
  (`verify_backfill`): at most `BATCH` contributions at once, in the creating request, more as this job.
  Idempotent and cancellable between batches; a relaunch makes only what is still missing.

One operation runs at a time per campaign: a launch while another is queued or running is refused."""

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from webapp.audit import services as audit
from webapp.errors import ApplicationError, Conflict
from webapp.feedback.models import (
    Campaign,
    CampaignJob,
    CampaignKind,
    Contribution,
    DemonstrationStatus,
    Language,
    Lease,
    OperationKind,
    Task,
)
from webapp.feedback.quality.marks import review_mark, review_mark_campaign
from webapp.feedback.services.bulk import refresh_statistics
from webapp.feedback.tallies import tally_mark_tasks
from webapp.jobs.models import JobStatus
from webapp.jobs.services import JobRun, job_enqueue, job_request_cancel, job_running

BATCH = 2000
MAX_GOLD_ITEMS = 100_000  # about 3.5 MB of JSON, under DATA_UPLOAD_MAX_MEMORY_SIZE (10 MB)
MAX_ERRORS = 20


# --- launch (in the request) -----------------------------------------------------------------------


@transaction.atomic
def operation_launch(*, campaign: Campaign, kind: str, params: dict[str, Any], user: User | None) -> CampaignJob:
    """Validate, record and queue one operation; `params` as the API validated them (reassign:
    `to_campaign`, optional `languages`; gold: `items`)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)  # one launch at a time per campaign
    if campaign.deleted_at is not None:
        raise Conflict(_("This campaign is deleted."))
    busy = campaign.jobs.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).first()
    if busy is not None:
        raise Conflict(
            _("Another operation (%(kind)s, job %(id)s) is still %(status)s on this campaign; wait for it to finish.")
            % {"kind": busy.kind, "id": busy.pk, "status": busy.get_status_display()},
            extra={"job": busy.pk},
        )
    params = {**_LAUNCH_CHECKS[kind](campaign, params), "ui_language": translation.get_language() or "en"}
    now = timezone.now()
    if kind == OperationKind.ARCHIVE:
        Campaign.objects.filter(pk=campaign.pk).update(is_active=False)
    elif kind == OperationKind.UNARCHIVE:
        Campaign.objects.filter(pk=campaign.pk).update(is_active=True)
    elif kind == OperationKind.DELETE:
        Campaign.objects.filter(pk=campaign.pk).update(is_active=False, deleted_at=now)
        review_mark_campaign(campaign.pk)
    job = CampaignJob.objects.create(kind=kind, campaign=campaign, params=params, created_by=user)
    details = {"job": job.pk, **{k: v for k, v in params.items() if k not in ("items", "ui_language")}}
    if kind == OperationKind.GOLD:
        details["items"] = len(params["items"])
    audit.record(action=f"campaign.{kind}", target=campaign, details=details, actor=user)
    job_enqueue(job)
    return job


def _no_params(campaign: Campaign, params: dict[str, Any]) -> dict[str, Any]:
    return {}


def _reassign_params(campaign: Campaign, params: dict[str, Any]) -> dict[str, Any]:
    target = Campaign.objects.alive().filter(pk=params.get("to_campaign")).first()
    if target is None:
        raise ApplicationError(
            _("to_campaign: no campaign with id %(id)s.") % {"id": params.get("to_campaign")},
            extra={"field": "to_campaign"},
        )
    if target.pk == campaign.pk:
        raise ApplicationError(_("to_campaign: choose another campaign than this one."), extra={"field": "to_campaign"})
    shared = set(target.languages.values_list("code", flat=True)) & set(
        campaign.languages.values_list("code", flat=True)
    )
    asked = params.get("languages") or []
    if asked:
        unknown = sorted(set(asked) - shared)
        if unknown:
            raise ApplicationError(
                _("languages: %(codes)s not routed by both campaigns (shared: %(shared)s).")
                % {"codes": ", ".join(unknown), "shared": ", ".join(sorted(shared)) or "-"},
                extra={"field": "languages"},
            )
        shared = set(asked)
    if not shared:
        raise ApplicationError(
            _("The two campaigns share no language, so no task can move."), extra={"field": "to_campaign"}
        )
    return {"to_campaign": target.pk, "languages": sorted(shared)}


def _gold_params(campaign: Campaign, params: dict[str, Any]) -> dict[str, Any]:
    items = params.get("items") or []
    if not items:
        raise ApplicationError(_("items: give at least one {task, position} item."), extra={"field": "items"})
    if len(items) > MAX_GOLD_ITEMS:
        raise ApplicationError(
            _("items: at most %(max)s items per operation (%(count)s given); split the list.")
            % {"max": MAX_GOLD_ITEMS, "count": len(items)},
            extra={"field": "items"},
        )
    return {"items": items}


def _backfill_params(campaign: Campaign, params: dict[str, Any]) -> dict[str, Any]:
    if campaign.kind != CampaignKind.VERIFY:
        raise ApplicationError(_("backfill: only a verify campaign makes tasks for the contributions it verifies."))
    return {}


_LAUNCH_CHECKS: dict[str, Callable[[Campaign, dict[str, Any]], dict[str, Any]]] = {
    OperationKind.ARCHIVE: _no_params,
    OperationKind.UNARCHIVE: _no_params,
    OperationKind.DELETE: _no_params,
    OperationKind.REASSIGN: _reassign_params,
    OperationKind.GOLD: _gold_params,
    OperationKind.BACKFILL: _backfill_params,
}


def verify_backfill(*, campaign: Campaign, user: User | None = None) -> CampaignJob | None:
    """A new verify campaign's tasks for the pending contributions its campaign already holds (module docstring,
    `backfill`): made now when there are at most BATCH, else launched as a job (returned). Contributions stored
    from now on get theirs when they are stored (services/contributing.py). A contribution whose transaction
    commits while this one creates the campaign is seen by neither: relaunching `backfill` makes its task."""
    if len(_unverified(campaign).values_list("pk", flat=True)[: BATCH + 1]) <= BATCH:
        _verify_tasks_create(campaign, None)
        return None
    return operation_launch(campaign=campaign, kind=OperationKind.BACKFILL, params={}, user=user)


def operation_cancel(job: CampaignJob) -> None:
    if job.kind == OperationKind.DELETE and not job.is_finished:
        raise Conflict(_("A delete cannot be cancelled: the campaign is already gone from every list."))
    job_request_cancel(job)


# --- run (in the worker) ---------------------------------------------------------------------------


def operation_run(job_id: int) -> None:
    with job_running(CampaignJob, job_id) as run:
        if run is None:
            return
        job = run.job()
        with translation.override(job.params.get("ui_language") or settings.LANGUAGE_CODE):
            _RUNNERS[job.kind](run, job)


def _batches(queryset: QuerySet) -> Iterator[list[int]]:
    """Ids of `queryset` in ascending batches of BATCH, walking on from the last id seen (rows the batch
    changed may leave the queryset; the walk never revisits them)."""
    last = 0
    while ids := list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]):
        yield ids
        last = ids[-1]


def _release_leases(campaign: Campaign) -> int:
    released = 0
    leases = Lease.objects.filter(task__campaign=campaign)
    while ids := list(leases.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        released += Lease.objects.filter(pk__in=ids).delete()[0]
    return released


def _run_archive(run: JobRun, job: CampaignJob) -> None:
    campaign = job.campaign
    released = _release_leases(campaign)
    run.save(result={"leases_released": released, **_task_counts(campaign)})


def _run_unarchive(run: JobRun, job: CampaignJob) -> None:
    run.save(result=_task_counts(job.campaign))


def _task_counts(campaign: Campaign) -> dict[str, int]:
    counts = (
        Task.objects.alive()
        .filter(campaign=campaign)
        .aggregate(tasks=Count("pk"), open_tasks=Count("pk", filter=Q(annotation_count__lt=campaign.overlap)))
    )
    return {"tasks": counts["tasks"], "open_tasks": counts["open_tasks"]}


def _run_delete(run: JobRun, job: CampaignJob) -> None:
    campaign = job.campaign
    stamp = campaign.deleted_at or timezone.now()
    alive = Task.objects.alive().filter(campaign=campaign)
    # A recovered run goes on from what its predecessor did.
    done, released = job.result.get("tasks_deleted", 0), job.result.get("leases_released", 0)
    total = done + alive.count()
    run.progress(done, total, check=False)
    for ids in _batches(alive):
        with transaction.atomic():
            released += Lease.objects.filter(task_id__in=ids).delete()[0]
            done += Task.objects.filter(pk__in=ids, deleted_at__isnull=True).update(deleted_at=stamp)
            review_mark(ids)
            tally_mark_tasks(ids)
        run.save(result={"tasks_deleted": done, "leases_released": released})
        run.progress(done, max(total, done), check=False)  # not cancellable (see the module docstring)
    _refresh_statistics()


def _run_reassign(run: JobRun, job: CampaignJob) -> None:
    source = job.campaign
    target = Campaign.objects.get(pk=job.params["to_campaign"])
    languages = job.params["languages"]
    movable = Task.objects.alive().open(source.overlap).filter(campaign=source, language__code__in=languages)
    moved: Counter[str] = Counter(job.result.get("moved") or {})  # a recovered run goes on
    total = sum(moved.values()) + movable.count()
    run.progress(sum(moved.values()), total)
    for ids in _batches(movable):
        with transaction.atomic():
            # Re-checked under the row locks: a task a submit filled since the batch was read stays.
            rows = list(movable.select_for_update(of=("self",)).filter(pk__in=ids).values_list("pk", "language__code"))
            picked = [pk for pk, _code in rows]
            Lease.objects.filter(task_id__in=picked).delete()
            Task.objects.filter(pk__in=picked).update(campaign=target)
            review_mark(picked)
            moved.update(code for _pk, code in rows)
        result = _reassign_result(source, target, moved)
        run.save(result=result)
        run.progress(sum(moved.values()), max(total, sum(moved.values())))  # cancellable between batches
    _refresh_statistics()
    run.save(result=_reassign_result(source, target, moved))


def _refresh_statistics() -> None:
    """After moving or deleting many tasks, the task table's statistics (bulk.refresh_statistics): with the old
    ones the planner may keep reading the next-task index for the campaign as it was (measured with
    bench/campaign_ops.py: `tasks_next` in the campaign 20,000 tasks moved into took 0.61 s before and
    0.024 s after an ANALYZE). Autovacuum would get there, minutes later."""
    refresh_statistics(Task)


def _reassign_result(source: Campaign, target: Campaign, moved: Counter[str]) -> dict[str, Any]:
    staying = Task.objects.alive().open(source.overlap).filter(campaign=source)
    return {
        "to_campaign": target.pk,
        "moved": dict(sorted(moved.items())),
        "tasks_moved": sum(moved.values()),
        "open_tasks_left": dict(
            sorted(staying.values("language__code").annotate(n=Count("pk")).values_list("language__code", "n"))
        ),
    }


def _unverified(verifier: Campaign) -> QuerySet[Contribution]:
    """The contributions of the verified campaign that still need a task in `verifier` (module docstring)."""
    tasked = Task.objects.filter(campaign=verifier, contribution=OuterRef("pk"))
    return Contribution.objects.filter(
        task__campaign_id=verifier.verifies_id or 0,
        task__deleted_at__isnull=True,
        status=DemonstrationStatus.PENDING,
        override_status="",
    ).filter(~Exists(tasked))


def _verify_tasks_create(verifier: Campaign, ids: list[int] | None) -> int:
    """One verify task for each of these contributions (None: all) still unverified, read again in this
    transaction, so a recovered run never makes a second one; the campaign routes their languages."""
    with transaction.atomic():
        rows = _unverified(verifier)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        found = list(rows.values_list("pk", "task__prompt_id", "language_id"))
        Task.objects.bulk_create(
            [
                Task(
                    campaign=verifier,
                    prompt_id=prompt,
                    language_id=language,
                    kind=CampaignKind.VERIFY,
                    contribution_id=pk,
                )
                for pk, prompt, language in found
            ],
            batch_size=BATCH,
        )
        verifier.languages.add(*Language.objects.filter(code__in={language for _pk, _prompt, language in found}))
    return len(found)


def _run_backfill(run: JobRun, job: CampaignJob) -> None:
    verifier = job.campaign
    unverified = _unverified(verifier)
    done = job.result.get("tasks_created", 0)  # a recovered run goes on
    total = done + unverified.count()
    run.progress(done, total)
    for ids in _batches(unverified):
        done += _verify_tasks_create(verifier, ids)
        run.save(result={"tasks_created": done})
        run.progress(done, max(total, done))  # cancellable between batches: what was made stays
    run.save(result={"tasks_created": done})


def _run_gold(run: JobRun, job: CampaignJob) -> None:
    items = job.params["items"]
    total = len(items)
    run.progress(0, 2 * total)  # checking, then writing
    resolved, errors = _gold_resolve(run, job.campaign, items)
    if errors:
        shown = "\n".join(errors[:MAX_ERRORS])
        more = len(errors) - MAX_ERRORS
        tail = "\n" + _("... and %(count)s more") % {"count": more} if more > 0 else ""
        run.save(result={"errors": errors[:MAX_ERRORS], "error_count": len(errors), "marked": 0, "unmarked": 0})
        raise ApplicationError(
            _("%(count)s bad item(s); no gold item was changed:") % {"count": len(errors)} + "\n" + shown + tail
        )
    by_position: dict[int | None, list[int]] = {}
    for task_id, position in resolved.items():
        by_position.setdefault(position, []).append(task_id)
    # Every item is valid, so the writes go in short batches (a submit on one of these tasks waits for one
    # batch, not for the whole list) and are not cancellable: a run that dies here is re-queued by the
    # sweep and writes the same positions again.
    written = 0
    for position, task_ids in by_position.items():
        for start in range(0, len(task_ids), BATCH):
            chunk = task_ids[start : start + BATCH]
            with transaction.atomic():
                Task.objects.filter(pk__in=chunk).update(gold_position=position)
                review_mark(chunk)
            written += len(chunk)
            run.progress(total + written, 2 * total, check=False)
    marked = sum(len(ids) for position, ids in by_position.items() if position is not None)
    run.save(result={"marked": marked, "unmarked": len(by_position.get(None, [])), "errors": [], "error_count": 0})


def _gold_resolve(run: JobRun, campaign: Campaign, items: list[dict]) -> tuple[dict[int, int | None], list[str]]:
    """task id -> position for every item, or the problems, each naming its item number (1-based)."""
    errors: list[str] = []
    resolved: dict[int, int | None] = {}
    first_item: dict[int, int] = {}
    tasks = Task.objects.alive().filter(campaign=campaign).annotate(n=Count("items"))
    for start in range(0, len(items), BATCH):
        chunk = list(enumerate(items[start : start + BATCH], start=start + 1))
        ids = [item["task"] for _n, item in chunk if "task" in item]
        external = [item["external_id"] for _n, item in chunk if "external_id" in item]
        found = {pk: (pk, n) for pk, n in tasks.filter(pk__in=ids).values_list("pk", "n")}
        by_external = {
            ext: (pk, n) for pk, ext, n in tasks.filter(external_id__in=external).values_list("pk", "external_id", "n")
        }
        for number, item in chunk:
            named = ("task", item["task"]) if "task" in item else ("external_id", item["external_id"])
            hit = found.get(item["task"]) if "task" in item else by_external.get(item["external_id"])
            if hit is None:
                errors.append(
                    _("item %(n)s: no task with %(key)s %(value)s in this campaign")
                    % {"n": number, "key": named[0], "value": repr(named[1])}
                )
                continue
            task_id, responses = hit
            position = item.get("position")
            if position is not None and not 0 <= position < responses:
                errors.append(
                    _("item %(n)s: position %(position)s is out of range for task %(task)s (0..%(last)s)")
                    % {"n": number, "position": position, "task": task_id, "last": responses - 1}
                )
                continue
            if task_id in first_item:
                errors.append(
                    _("item %(n)s: task %(task)s is already named by item %(first)s")
                    % {"n": number, "task": task_id, "first": first_item[task_id]}
                )
                continue
            first_item[task_id] = number
            resolved[task_id] = position
        run.progress(min(start + BATCH, len(items)), 2 * len(items))
    return resolved, errors


_RUNNERS: dict[str, Callable[[JobRun, CampaignJob], None]] = {
    OperationKind.ARCHIVE: _run_archive,
    OperationKind.UNARCHIVE: _run_unarchive,
    OperationKind.DELETE: _run_delete,
    OperationKind.REASSIGN: _run_reassign,
    OperationKind.GOLD: _run_gold,
    OperationKind.BACKFILL: _run_backfill,
}
