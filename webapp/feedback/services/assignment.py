"""Handing out tasks and taking annotations back.

A task has `campaign.overlap` slots. A slot is taken by an annotation or by a live lease. Every
change to a task's slots happens while holding that task's row lock (SELECT ... FOR UPDATE), so two
annotators racing for the last slot cannot both get it; `tasks_next` uses SKIP LOCKED so racers move
on to other tasks instead of queueing. (On SQLite the lock is the database's single writer lock,
taken at BEGIN by the IMMEDIATE transaction mode.)"""

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError, Conflict, NotFound
from webapp.feedback import selectors
from webapp.feedback.extensions import task_kinds
from webapp.feedback.formats.parsing import FLAGS, LineError
from webapp.feedback.models import (
    CONTRIBUTION_KINDS,
    Annotation,
    Campaign,
    CampaignKind,
    Contribution,
    Lease,
    Skip,
    Task,
    TaskResponse,
    Verdict,
)
from webapp.feedback.services.suggestions import JUDGE_RANKING, judge_ranking, suggestion_for
from webapp.feedback.signals import campaign_completed
from webapp.permissions import REVIEWER_FLAG, is_reviewer
from webapp.prepared import PreparedQuery

MAX_ATTEMPTS = 20  # claims lost to a racer in one campaign and language before the next is tried
# A submission goes the short way (no row lock of its own) only while its lease has this long left, so a claimer
# that sees the lease expired cannot be taking the same slot at the same time.
LEASE_GRACE = timedelta(seconds=30)
SHOWS_NO_RESPONSE = (CampaignKind.WRITE, CampaignKind.REPLY, CampaignKind.TRANSLATE, CampaignKind.VERIFY)


@dataclass(frozen=True)
class Assignment:
    task: Task
    lease_expires_at: object


def _lease_deadline() -> datetime:
    return timezone.now() + timedelta(seconds=settings.TASK_LEASE_SECONDS)


def _others_live_leases(task: Task, user: User) -> int:
    return Lease.objects.filter(task=task, expires_at__gt=timezone.now()).exclude(annotator=user).count()


def _has_free_slot(task: Task, user: User) -> bool:
    return task.has_free_slot(leased=_others_live_leases(task, user))


def _others_leased(user: User, now: datetime, task_ref: str = "pk") -> Coalesce:
    """How many live leases other annotators hold on the task `task_ref` names, as an expression."""
    leases = (
        Lease.objects.filter(task_id=OuterRef(task_ref), expires_at__gt=now)
        .exclude(annotator=user)
        .values("task_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(leases), 0)


def _plan(user: User, campaign_id: int | None, now: datetime) -> list[tuple[int, int, str, str, int | None, Any]]:
    """One query: the (campaign, overlap, kind, language) rows to look in, in order (campaigns open to this user, by id;
    each campaign's languages that the user speaks, by code), each row also carrying the task the user holds a live
    lease on (task id and expiry, or None): a visible task they have not annotated yet, the earliest expiring."""
    shape = (is_reviewer(user), campaign_id is not None)
    one_campaign = {"campaign_id": campaign_id} if campaign_id is not None else {}
    return _PLAN.rows(shape, user=user, now=now, **one_campaign)


def _plan_query(shape: tuple[bool, bool], *, user: User, now: datetime, campaign_id: int = 0) -> QuerySet:
    reviewer, one_campaign = shape
    user = _in_role(user, reviewer)
    held = (
        Lease.objects.filter(annotator=user, expires_at__gt=now)
        .filter(task__in=selectors.tasks_for_user(user).prefetch_related(None).select_related(None))
        .exclude(task__annotations__annotator=user)
        .order_by("expires_at")
    )
    pairs = Campaign.languages.through.objects.filter(
        campaign__in=selectors.open_campaigns_for(user), language_id__in=selectors.user_languages(user)
    )
    if one_campaign:
        held = held.filter(task__campaign_id=campaign_id)
        pairs = pairs.filter(campaign_id=campaign_id)
    return pairs.order_by("campaign_id", "language_id").values_list(
        "campaign_id",
        "campaign__overlap",
        "campaign__kind",
        "language_id",
        Subquery(held.values("task_id")[:1]),
        Subquery(held.values("expires_at")[:1]),
    )


def _in_role(user: User, reviewer: bool) -> User:
    """The user with the role a query's shape was chosen for, read from the user object (a prepared query is built
    with a stand-in for the user, which must not ask the database for its role)."""
    if getattr(user, REVIEWER_FLAG, None) == reviewer:
        return user
    stand_in = copy.copy(user)
    setattr(stand_in, REVIEWER_FLAG, reviewer)
    return stand_in


_PLAN = PreparedQuery(_plan_query)


def _candidate(
    user: User, campaign_id: int, overlap: int, kind: str, language: str, now: datetime, *, skip_locked: bool = True
) -> int | None:
    """Lock and return the open task of one campaign and language that is closest to complete and has a free slot
    for this user, passing over tasks another claimer holds locked (SKIP LOCKED). One scan of the `task_next` index.
    The lease count here was read before the lock was taken: the caller checks it again. With `skip_locked`
    False the lock is waited for instead: the caller's fallback when every candidate was locked. Besides their
    annotations, the tasks a user contributed to, and for verify the contributions they wrote or voted on, are
    passed over."""
    values = {"user": user, "campaign_id": campaign_id, "overlap": overlap, "language": language, "now": now}
    return _CANDIDATE.first((kind, skip_locked), **values)


def _candidate_query(
    shape: tuple[str, bool], *, user: User, campaign_id: int, overlap: int, language: str, now: datetime
) -> QuerySet:
    kind, skip_locked = shape
    tasks = Task.objects.alive().open(overlap).filter(campaign_id=campaign_id, language_id=language)
    if kind in CONTRIBUTION_KINDS:
        tasks = tasks.exclude(contributions__contributor=user)
    elif kind == CampaignKind.VERIFY:
        tasks = tasks.exclude(contribution__contributor=user).exclude(contribution__verdicts__voter=user)
    else:
        tasks = tasks.exclude(annotations__annotator=user)
    tasks = (
        tasks.exclude(skips__annotator=user)
        .alias(leased=_others_leased(user, now))
        .filter(annotation_count__lt=overlap - F("leased"))
        .order_by("-annotation_count", "id")
        .select_for_update(skip_locked=skip_locked, of=("self",))
    )
    return tasks.values_list("pk", flat=True)


_CANDIDATE = PreparedQuery(_candidate_query)


def task_payload(user: User, task_id: int, now: datetime | None = None, kind: str | None = None) -> Task | None:
    """The task with what showing it reads (prompt, campaign, language, its responses in stored order, the judge's
    ranking for a suggestion) in one query; with `now`, also `others_leased`: the live leases other annotators hold
    on it, read afresh (after the caller's row lock). A task that shows no response (write, reply, translate,
    verify) takes a second query (`_payload_without_responses`), or only that one when the caller knows the task's
    `kind`. None if there is no such task."""
    if kind in SHOWS_NO_RESPONSE:
        return _payload_without_responses(user, task_id, now)
    leases = {"user": user, "now": now} if now is not None else {}
    rows: list[TaskResponse] = _PAYLOAD.rows(now is not None, task_id=task_id, **leases)
    if not rows:
        return _payload_without_responses(user, task_id, now)
    task = rows[0].task
    setattr(task, JUDGE_RANKING, rows[0].judge_ranking)  # type: ignore[attr-defined]
    task.others_leased = getattr(rows[0], "others_leased", 0)  # type: ignore[attr-defined]
    for row in rows:
        row.task = task
    # What prefetch_related("items") would leave: the related manager answers from this list, with no query.
    cached: Any = task.items.all()
    cached._result_cache, cached._prefetch_done = rows, True
    task._prefetched_objects_cache = {"items": cached}  # type: ignore[attr-defined]
    return task


def _payload_query(with_leases: bool, *, task_id: int, user: Any = None, now: Any = None) -> QuerySet:
    items = (
        TaskResponse.objects.filter(task_id=task_id)
        .select_related("task__prompt", "task__campaign", "task__language", "response")
        .annotate(judge_ranking=judge_ranking("task_id", "task__campaign"))
        .order_by("position")
    )
    if with_leases:
        items = items.annotate(others_leased=_others_leased(user, now, "task_id"))
    return items


_PAYLOAD = PreparedQuery(_payload_query)


def _payload_without_responses(user: User, task_id: int, now: datetime | None) -> Task | None:
    tasks = Task.objects.filter(pk=task_id).select_related(
        "prompt", "campaign", "language", "contribution__language", "contribution__original_response"
    )
    if now is not None:
        tasks = tasks.annotate(others_leased=_others_leased(user, now))
    task = tasks.first()
    if task is None or task.kind == CampaignKind.RANKING:
        return None
    setattr(task, JUDGE_RANKING, None)
    if now is None:
        task.others_leased = 0  # type: ignore[attr-defined]
    cached: Any = task.items.all()
    cached._result_cache, cached._prefetch_done = [], True
    task._prefetched_objects_cache = {"items": cached}  # type: ignore[attr-defined]
    return task


def tasks_next(*, user: User, campaign_id: int | None = None) -> Assignment | None:
    """The next task for this annotator, leased to them; their own live lease comes back first, so a
    reload of the page resumes the same task. Tasks closest to complete go first, so finished
    overlap (and so agreement) accumulates early. At most four queries: the plan (with the held lease), the
    candidate's row lock, the task with its fresh lease count, the lease."""
    now = timezone.now()
    plan = _plan(user, campaign_id, now)
    if plan and plan[0][4] is not None:
        task = task_payload(user, plan[0][4], kind=plan[0][2])
        if task is not None:
            return Assignment(task=task, lease_expires_at=plan[0][5])
    for campaign, overlap, kind, language, _held, _expires in plan:
        for _attempt in range(MAX_ATTEMPTS):
            with transaction.atomic():
                task_id = _candidate(user, campaign, overlap, kind, language, now)
                if task_id is None:
                    # Nothing unlocked: either nothing is open for this user here, or every open task is locked
                    # for a moment by another transaction (a submit counting its annotation, a bulk job's batch).
                    # Wait for that lock rather than answer "no task" while one is free (seen on PostgreSQL as
                    # an annotator stopping one task short).
                    task_id = _candidate(user, campaign, overlap, kind, language, now, skip_locked=False)
                if task_id is None:
                    break
                assignment = _lease_locked(user, task_id, now, kind)
                if assignment:
                    return assignment
    return None


def _lease_locked(user: User, task_id: int, now: datetime, kind: str | None = None) -> Assignment | None:
    """Lease the task, whose row lock the caller holds, if it still has a free slot: its live leases are counted
    afresh here, after the lock (the query that took the lock may have read them before a racer's commit)."""
    task = task_payload(user, task_id, now, kind)
    if task is None or not task.has_free_slot(leased=task.others_leased):  # type: ignore[attr-defined]
        return None
    expires = _lease_deadline()
    # What bulk_create(update_conflicts=True) runs, without building and compiling an insert query each time.
    upsert = "ON CONFLICT (task_id, annotator_id) DO UPDATE SET expires_at = EXCLUDED.expires_at"
    with connection.cursor() as cursor:
        cursor.execute(*_insert_sql(Lease(task=task, annotator=user, expires_at=expires), upsert))
    return Assignment(task=task, lease_expires_at=expires)


def _try_lease(user: User, task_id: int) -> Assignment | None:
    """Lease this one task if it has a free slot and no one else holds its row lock."""
    with transaction.atomic():
        locked = Task.objects.alive().select_for_update(skip_locked=True).filter(pk=task_id).values_list("pk").first()
        return _lease_locked(user, task_id, timezone.now()) if locked else None


def _visible_task(user: User, task_id: int) -> Task:
    task = selectors.tasks_for_user(user).filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("No such task, or it is not in your languages."))
    return task


def _locked(task_id: int) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=task_id)


def lease_renew(*, user: User, task_id: int) -> Assignment:
    _visible_task(user, task_id)
    with transaction.atomic():
        task = _locked(task_id)
        done = (
            Annotation.objects.filter(task=task, annotator=user).exists()
            or Contribution.objects.filter(task=task, contributor=user).exists()
            or (
                task.contribution_id is not None
                and Verdict.objects.filter(contribution_id=task.contribution_id, voter=user).exists()
            )
        )
        if done:
            raise Conflict(_("You have already annotated this task."))
        if not Lease.objects.filter(task=task, annotator=user, expires_at__gt=timezone.now()).exists():
            if not _has_free_slot(task, user):
                raise Conflict(_("Your lease expired and other annotators have filled this task. Take the next one."))
        expires = _lease_deadline()
        Lease.objects.update_or_create(task=task, annotator=user, defaults={"expires_at": expires})
    return Assignment(task=task, lease_expires_at=expires)


def annotation_submit(
    *,
    user: User,
    task_id: int,
    ranking: list,
    display_order: list | None = None,
    flags: list | None = None,
    rationale: str = "",
    seconds: float | None = None,
) -> tuple[Annotation, bool]:
    """Store one complete ranking. Returns (annotation, created). Repeating the same submission is
    harmless; a different ranking for a task already annotated is refused. With a live lease (the usual
    case) two queries: the task with what the checks read, then one write (`_store_with_lease`)."""
    now = timezone.now()
    task = _submission_task(user, task_id, now)
    n = task.n_items  # type: ignore[attr-defined]
    ranking, display_order, flags = _validated(task.kind, ranking, display_order or [], flags or [], n)
    if "\x00" in rationale:
        raise ApplicationError(_("rationale contains a NUL character (\\u0000), which cannot be stored"))
    suggestion = suggestion_for(task)  # what the task offered as its starting order (anchoring)
    annotation = Annotation(
        task=task,
        annotator=user,
        ranking=ranking,
        display_order=display_order,
        flags=flags,
        rationale=rationale,
        seconds=seconds,
        suggestion=suggestion,
        suggested_by=task.campaign.suggestion_judge if suggestion is not None else "",
    )
    checks = task.mine, task.skipped, task.leased  # type: ignore[attr-defined]
    if checks == (None, False, True) and _store_with_lease(annotation, now + LEASE_GRACE, task.campaign):
        return annotation, True
    return _store_locked(annotation)


def _submission_task(user: User, task_id: int, now: datetime) -> Task:
    """The task as the user may see it, with what a submission checks: its number of responses (`n_items`), the
    user's annotation of it (`mine`, an id), whether they skipped it and whether their lease lives `LEASE_GRACE` on."""
    task = _SUBMISSION.first(is_reviewer(user), user=user, task_id=task_id, live_after=now + LEASE_GRACE)
    if task is None:
        raise NotFound(_("No such task, or it is not in your languages."))
    return task


def _submission_query(reviewer: bool, *, user: User, task_id: int, live_after: datetime) -> QuerySet:
    user = _in_role(user, reviewer)
    items = TaskResponse.objects.filter(task_id=OuterRef("pk")).values("task_id").annotate(n=Count("id")).values("n")
    mine = Annotation.objects.filter(task_id=OuterRef("pk"), annotator=user).values("pk")[:1]
    return (
        selectors.tasks_for_user(user)
        .prefetch_related(None)
        .select_related("campaign")
        .filter(pk=task_id)
        .annotate(
            n_items=Subquery(items),
            mine=Subquery(mine),
            skipped=Exists(Skip.objects.filter(task_id=OuterRef("pk"), annotator=user)),
            leased=Exists(Lease.objects.filter(task_id=OuterRef("pk"), annotator=user, expires_at__gt=live_after)),
            judge_ranking=judge_ranking(),
        )
    )


_SUBMISSION = PreparedQuery(_submission_query)


def _store_with_lease(annotation: Annotation, live_after: datetime, campaign: Campaign) -> bool:
    """Store the annotation, count it on its task and end the user's lease, in one statement on PostgreSQL, only if
    that lease is still live after `live_after`: a live lease is a slot held for this user, so no row lock or slot
    count is needed. False (nothing written) if the lease is gone or the same user's other tab stored first.
    The submission that fills its task checks, in the same transaction, whether it completed the campaign."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                count = _store_with_lease_in_one_statement(annotation, live_after)
            else:
                held = Lease.objects.filter(
                    task_id=annotation.task_id, annotator=annotation.annotator, expires_at__gt=live_after
                )
                if not held.delete()[0]:
                    return False
                annotation.save()
                with connection.cursor() as cursor:  # SQLite 3.35+ has RETURNING: the count in the same write
                    cursor.execute(
                        f"UPDATE {connection.ops.quote_name(Task._meta.db_table)} "
                        "SET annotation_count = annotation_count + 1 WHERE id = %s RETURNING annotation_count",
                        [annotation.task_id],
                    )
                    count = cursor.fetchone()[0]
            if count is None:
                return False
            if count == campaign.overlap:
                announce_if_complete(campaign)
            return True
    except IntegrityError:
        return False


def _insert_sql(row: Model, tail: str = "", source: str = "") -> tuple[str, list]:
    """INSERT of one unsaved row, its values taken as Django would save them; with `source` (a CTE name) the row is
    written only if that CTE returned a row."""
    fields = [f for f in row._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    quote = connection.ops.quote_name
    columns, placeholders = ", ".join(quote(str(f.column)) for f in fields), ", ".join(["%s"] * len(fields))
    rows = f"SELECT {placeholders} FROM {source}" if source else f"VALUES ({placeholders})"
    return f"INSERT INTO {quote(row._meta.db_table)} ({columns}) {rows} {tail}", values


def _ending_lease(statement: tuple[str, list], task_id: int, user: User, live_after: datetime | None = None) -> Any:
    """Run `statement` (PostgreSQL) in one with the deletion of the user's lease on the task (only a lease live after
    `live_after`, when given: CTE `gone` returns it) and the first row it returns."""
    sql, params = statement
    live = "AND expires_at > %s" if live_after is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {connection.ops.quote_name(Lease._meta.db_table)} "
            f"WHERE task_id = %s AND annotator_id = %s {live} RETURNING task_id) {sql}",
            [task_id, user.pk, *([live_after] if live_after is not None else []), *params],
        )
        return cursor.fetchone() if cursor.description else None


def lease_end_and_count(task_id: int, user: User, live_after: datetime) -> int | None:
    """End the user's lease on the task and count its slot taken, only if that lease lives on after `live_after` (as
    `_store_with_lease` does for a ranking): the task's new count, or None (nothing written) when the lease is gone.
    One statement on PostgreSQL, two on SQLite. The caller's transaction holds the task's row from then on."""
    quote = connection.ops.quote_name
    count = f"UPDATE {quote(Task._meta.db_table)} SET annotation_count = annotation_count + 1 WHERE id "
    if connection.vendor == "postgresql":
        row = _ending_lease(
            (count + "IN (SELECT task_id FROM gone) RETURNING annotation_count", []), task_id, user, live_after
        )
        return row[0] if row else None
    if not Lease.objects.filter(task_id=task_id, annotator=user, expires_at__gt=live_after).delete()[0]:
        return None
    with connection.cursor() as cursor:
        cursor.execute(count + "= %s RETURNING annotation_count", [task_id])
        return cursor.fetchone()[0]


def _store_with_lease_in_one_statement(annotation: Annotation, live_after: datetime) -> int | None:
    """The task's new annotation count, or None when nothing was written."""
    counted = (
        f"counted AS (UPDATE {connection.ops.quote_name(Task._meta.db_table)} "
        "SET annotation_count = annotation_count + 1 WHERE id IN (SELECT task_id FROM gone) "
        "RETURNING id, annotation_count) "
    )
    sql, values = _insert_sql(annotation, "RETURNING id, (SELECT annotation_count FROM counted)", source="counted")
    row = _ending_lease((", " + counted + sql, values), annotation.task_id, annotation.annotator, live_after)
    if row is None:
        return None
    annotation.pk, annotation._state.adding, annotation._state.db = row[0], False, connection.alias
    return row[1]


def _store_locked(annotation: Annotation) -> tuple[Annotation, bool]:
    """The long way, under the task's row lock: a repeated or conflicting submission, a skipped task, or a lease
    that expired (then the slot is counted afresh)."""
    user = annotation.annotator
    with transaction.atomic():
        task = _locked(annotation.task_id)
        existing = Annotation.objects.filter(task=task, annotator=user).first()
        if existing:
            if existing.ranking == annotation.ranking:
                return existing, False
            raise Conflict(_("You have already submitted a different ranking for this task."))
        if Skip.objects.filter(task=task, annotator=user).exists():
            raise Conflict(_("You skipped this task; skipped tasks cannot be annotated."))
        holds_lease = Lease.objects.filter(task=task, annotator=user, expires_at__gt=timezone.now()).exists()
        if not holds_lease and not _has_free_slot(task, user):
            raise Conflict(
                _("Your lease expired and other annotators have filled this task; your ranking was not stored.")
            )
        try:
            with transaction.atomic():
                annotation.save()
        except IntegrityError:  # the same annotator's other tab won the race
            return Annotation.objects.get(task=task, annotator=user), False
        Task.objects.filter(pk=task.pk).update(annotation_count=F("annotation_count") + 1)
        Lease.objects.filter(task=task, annotator=user).delete()
        if task.annotation_count + 1 == task.campaign.overlap:
            announce_if_complete(task.campaign)
    return annotation, True


def announce_if_complete(campaign: Campaign) -> None:
    """Send `campaign_completed` when no alive task of the campaign is left below its overlap. The campaign
    row is locked first: two annotations filling a campaign's last two tasks at once would otherwise each
    see the other's task still open (PostgreSQL reads committed rows) and neither would announce; with the
    lock the second waits for the first to commit, then sees its count."""
    if not _CAMPAIGN_LOCK.rows(campaign_id=campaign.pk):
        raise Campaign.DoesNotExist(f"campaign {campaign.pk} is gone")
    if not _CAMPAIGN_OPEN.exists(campaign_id=campaign.pk, overlap=campaign.overlap):
        campaign_completed.send_robust(sender=Campaign, campaign_id=campaign.pk)


def _campaign_lock_query(shape: tuple, *, campaign_id: int) -> QuerySet:
    return Campaign.objects.select_for_update().only("pk").filter(pk=campaign_id).order_by()


def _campaign_open_query(shape: tuple, *, campaign_id: int, overlap: int) -> QuerySet:
    return Task.objects.alive().filter(campaign_id=campaign_id).open(overlap)


_CAMPAIGN_LOCK = PreparedQuery(_campaign_lock_query)
_CAMPAIGN_OPEN = PreparedQuery(_campaign_open_query)


def _validated(
    kind: str, ranking: Any, display_order: Any, flags: Any, n: int
) -> tuple[list[list[int]], list[int], list[str]]:
    try:
        ranking = task_kinds.get(kind).check_submission(ranking, n)
    except LineError as exc:
        raise ApplicationError(exc.message) from None
    if display_order and (not isinstance(display_order, list) or sorted(display_order) != list(range(n))):
        raise ApplicationError(_("display_order must list each response position 0..%(last)s once") % {"last": n - 1})
    if not isinstance(flags, list) or not set(flags) <= FLAGS:
        raise ApplicationError(_("flags must be a list drawn from %(choices)s") % {"choices": sorted(FLAGS)})
    return ranking, display_order, sorted(set(flags))


def task_skip(*, user: User, task_id: int) -> None:
    """Skip the task: the user's lease on it ends and it is not offered to them again. Two queries: the task (with
    whether the user annotated it), then one write (two on SQLite)."""
    annotated = Annotation.objects.filter(task_id=OuterRef("pk"), annotator=user)
    task = (
        selectors.tasks_for_user(user)
        .prefetch_related(None)
        .select_related(None)
        .filter(pk=task_id)
        .annotate(annotated=Exists(annotated))
        .first()
    )
    if task is None:
        raise NotFound(_("No such task, or it is not in your languages."))
    if task.annotated:
        raise Conflict(_("You have already annotated this task; it cannot be skipped."))
    skip = Skip(task=task, annotator=user)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _ending_lease(_insert_sql(skip, "ON CONFLICT (task_id, annotator_id) DO NOTHING"), task_id, user)
            return
        Skip.objects.bulk_create([skip], ignore_conflicts=True)
        Lease.objects.filter(task=task, annotator=user).delete()
