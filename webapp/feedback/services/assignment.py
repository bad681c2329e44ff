"""Handing out tasks and taking annotations back.

A task has `campaign.overlap` slots. A slot is taken by an annotation or by a live lease. Every
change to a task's slots happens while holding that task's row lock (SELECT ... FOR UPDATE), so two
annotators racing for the last slot cannot both get it; `tasks_next` uses SKIP LOCKED so racers move
on to other tasks instead of queueing. (On SQLite the lock is the database's single writer lock,
taken at BEGIN by the IMMEDIATE transaction mode.)"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError, Conflict, NotFound
from webapp.feedback import selectors
from webapp.feedback.extensions import task_kinds
from webapp.feedback.formats.parsing import FLAGS, LineError
from webapp.feedback.models import Annotation, Campaign, Lease, Skip, Task, has_free_slot
from webapp.feedback.services.suggestions import suggestion_for
from webapp.feedback.signals import campaign_completed

PAGE = 50
MAX_PAGES = 20  # past 1,000 leased-out tasks in one language, the annotator waits for a lease to end


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


def _open_task_ids(user: User, campaign: Campaign, language: str) -> Iterator[int]:
    """Tasks of one campaign and language with a free slot for this user, closest to complete first.
    Each page is one scan of the `task_next` index; live leases are counted for that page only."""
    tasks = (
        Task.objects.alive()
        .open(campaign.overlap)
        .filter(campaign=campaign, language_id=language)
        .exclude(annotations__annotator=user)
        .exclude(skips__annotator=user)
        .order_by("-annotation_count", "id")
        .values_list("id", "annotation_count")
    )
    for page in range(MAX_PAGES):
        rows = list(tasks[page * PAGE : (page + 1) * PAGE])
        leased = dict(
            Lease.objects.filter(task_id__in=[pk for pk, _ in rows], expires_at__gt=timezone.now())
            .exclude(annotator=user)
            .values("task_id")
            .annotate(n=Count("id"))
            .values_list("task_id", "n")
        )
        yield from (pk for pk, done in rows if has_free_slot(done, leased.get(pk, 0), campaign.overlap))
        if len(rows) < PAGE:
            return


def tasks_next(*, user: User, campaign_id: int | None = None) -> Assignment | None:
    """The next task for this annotator, leased to them; their own live lease comes back first, so a
    reload of the page resumes the same task. Tasks closest to complete go first, so finished
    overlap (and so agreement) accumulates early."""
    held = (
        Lease.objects.filter(annotator=user, expires_at__gt=timezone.now(), task__deleted_at__isnull=True)
        .exclude(task__annotations__annotator=user)
        .select_related("task")
        .order_by("expires_at")
    )
    if campaign_id is not None:
        held = held.filter(task__campaign_id=campaign_id)
    lease = held.first()
    if lease:
        return Assignment(task=lease.task, lease_expires_at=lease.expires_at)
    campaigns = selectors.open_campaigns_for(user).order_by("id")
    if campaign_id is not None:
        campaigns = campaigns.filter(pk=campaign_id)
    languages = selectors.user_language_codes(user)
    for campaign in campaigns:
        for language in languages:
            for task_id in _open_task_ids(user, campaign, language):
                assignment = _try_lease(user, task_id)
                if assignment:
                    return assignment
    return None


def _try_lease(user: User, task_id: int) -> Assignment | None:
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("campaign")
            .filter(pk=task_id, deleted_at__isnull=True)
            .first()
        )
        if task is None or not _has_free_slot(task, user):
            return None
        expires = _lease_deadline()
        Lease.objects.update_or_create(task=task, annotator=user, defaults={"expires_at": expires})
        return Assignment(task=task, lease_expires_at=expires)


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
        if Annotation.objects.filter(task=task, annotator=user).exists():
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
    harmless; a different ranking for a task already annotated is refused."""
    task = _visible_task(user, task_id)
    n = task.items.count()
    ranking, display_order, flags = _validated(task.kind, ranking, display_order or [], flags or [], n)
    if "\x00" in rationale:
        raise ApplicationError(_("rationale contains a NUL character (\\u0000), which cannot be stored"))
    with transaction.atomic():
        task = _locked(task_id)
        existing = Annotation.objects.filter(task=task, annotator=user).first()
        if existing:
            if existing.ranking == ranking:
                return existing, False
            raise Conflict(_("You have already submitted a different ranking for this task."))
        if Skip.objects.filter(task=task, annotator=user).exists():
            raise Conflict(_("You skipped this task; skipped tasks cannot be annotated."))
        holds_lease = Lease.objects.filter(task=task, annotator=user, expires_at__gt=timezone.now()).exists()
        if not holds_lease and not _has_free_slot(task, user):
            raise Conflict(
                _("Your lease expired and other annotators have filled this task; your ranking was not stored.")
            )
        suggestion = suggestion_for(task)  # what the task offered as its starting order (anchoring)
        try:
            with transaction.atomic():
                annotation = Annotation.objects.create(
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
        except IntegrityError:  # the same annotator's other tab won the race
            return Annotation.objects.get(task=task, annotator=user), False
        Task.objects.filter(pk=task.pk).update(annotation_count=F("annotation_count") + 1)
        Lease.objects.filter(task=task, annotator=user).delete()
        if task.annotation_count + 1 == task.campaign.overlap:
            _announce_if_complete(task.campaign)
    return annotation, True


def _announce_if_complete(campaign: Campaign) -> None:
    """Send `campaign_completed` when no alive task of the campaign is left below its overlap. The campaign
    row is locked first: two annotations filling a campaign's last two tasks at once would otherwise each
    see the other's task still open (PostgreSQL reads committed rows) and neither would announce; with the
    lock the second waits for the first to commit, then sees its count."""
    Campaign.objects.select_for_update().only("pk").get(pk=campaign.pk)
    if not Task.objects.alive().filter(campaign=campaign).open(campaign.overlap).exists():
        campaign_completed.send_robust(sender=Campaign, campaign_id=campaign.pk)


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


def task_skip(*, user: User, task_id: int) -> Skip:
    task = _visible_task(user, task_id)
    with transaction.atomic():
        if Annotation.objects.filter(task=task, annotator=user).exists():
            raise Conflict(_("You have already annotated this task; it cannot be skipped."))
        skip, _created = Skip.objects.get_or_create(task=task, annotator=user)
        Lease.objects.filter(task=task, annotator=user).delete()
    return skip
