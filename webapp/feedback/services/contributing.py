"""Contribution tasks (README, "Contribution tasks"): adding their tasks to a campaign, storing a written
contribution, a verify vote and its decision, and a reviewer's override.

The kinds (`CampaignKind`): `write` (an answer to a prompt), `reply` (the next user turn of a conversation whose
last turn is the assistant's), `edit` (an improved version of one shown response, at least
`Campaign.min_edit_distance` characters away from it), `translate` (the prompt in the task's language, the
target: one task per campaign language other than the prompt's) and `verify` (a vote on one contribution of the
campaign named by `Campaign.verifies`; its tasks are made when the contribution is stored, and for the pending
contributions stored before the verify campaign, when it is created: services/operations.py, `backfill`).

Slots, leases, skips and language routing are ranking's (services/assignment.py): a contribution or a verdict
takes a task's slot as an annotation does, under the task's row lock, and needs the contributor's live lease.

A contribution is decided by its votes after each one: at `verify_votes` votes or more, a share of ups at least
`verify_share` accepts it, a share at most 1 - `verify_share` rejects it, anything between leaves it pending and
disputed (the reviewer queue). The verify campaign's settings decide. A reviewer's override is final. The
demonstration and the pair a contribution yielded take its status; pending and rejected ones are kept and left
out of exports and training unless asked (`include_pending`). A rejected translation's prompt leaves its source's
translation group, and joins it again if a later override accepts it (`_translation_membership`)."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, FilteredRelation, Model, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from webapp.audit import services as audit
from webapp.errors import ApplicationError, Conflict, Forbidden, NotFound
from webapp.feedback import selectors
from webapp.feedback.content import content_hash, validate_content
from webapp.feedback.editdistance import levenshtein
from webapp.feedback.extensions import TaskKind, task_kinds
from webapp.feedback.formats.parsing import LineError
from webapp.feedback.models import (
    CONTRIBUTION_KINDS,
    Campaign,
    CampaignKind,
    Contribution,
    ContributorDirty,
    Demonstration,
    DemonstrationStatus,
    Lease,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TaskResponse,
    Verdict,
)
from webapp.feedback.services.assignment import (
    LEASE_GRACE,
    _ending_lease,
    announce_if_complete,
    lease_end_and_count,
)
from webapp.feedback.services.catalog import prompt_new
from webapp.feedback.sources import Source
from webapp.queue import send_task

MAX_TASKS_PER_CALL = 1000
CHECK_TASK = "workers.tasks.indexing.check_translation"  # on queue `index`: webapp/retrieval/translation.py
ORIGIN = "campaign:%s"  # a contribution's demonstration and pair name their campaign as origin
SHARE_EPSILON = 1e-9  # 2 of 5 is exactly 1 - 0.6
SHOWN = ("id", "prompt_id", "text", "content", "model_name")  # what an edit reads of the response it improves


# --- Tasks ----------------------------------------------------------------------------------------------------


def contribution_tasks_add(
    *, campaign: Campaign, prompts: Iterable[int] = (), responses: Iterable[int] = ()
) -> tuple[list[Task], list[Task]]:
    """Tasks for these prompts (write, reply, translate) or responses (edit) in a contribution campaign, as
    (created, existing): asking again for what exists adds nothing. All or nothing."""
    prompts, responses = list(dict.fromkeys(prompts)), list(dict.fromkeys(responses))
    kind = campaign.kind
    if kind == CampaignKind.RANKING:
        raise ApplicationError(_("This is a ranking campaign: create its tasks with POST /api/v1/tasks/."))
    if kind == CampaignKind.VERIFY:
        raise ApplicationError(_("A verify campaign's tasks are made when the contributions it verifies are stored."))
    edit = kind == CampaignKind.EDIT
    ids, others = (responses, prompts) if edit else (prompts, responses)
    wanted, unwanted = ("responses", "prompts") if edit else ("prompts", "responses")
    if others:
        raise ApplicationError(
            _("A %(kind)s campaign takes %(wanted)s, not %(unwanted)s.")
            % {"kind": kind, "wanted": wanted, "unwanted": unwanted},
            extra={"field": unwanted},
        )
    if not ids:
        raise ApplicationError(_("Give at least one id in '%(field)s'.") % {"field": wanted}, extra={"field": wanted})
    if len(ids) > MAX_TASKS_PER_CALL:
        raise ApplicationError(_("At most %(n)s ids per call.") % {"n": MAX_TASKS_PER_CALL})
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)  # one adder at a time: no duplicates
        if campaign.deleted_at:
            raise ApplicationError(_("A deleted prompt, response or campaign cannot be used in a new task."))
        if edit:
            return _edit_tasks(
                campaign, _existing_rows(Response.objects.alive().select_related("prompt__language"), ids)
            )
        rows = _existing_rows(Prompt.objects.alive().select_related("language"), ids)
        if kind == CampaignKind.TRANSLATE:
            return _translate_tasks(campaign, rows)
        if kind == CampaignKind.REPLY:
            for prompt in rows:
                if not (isinstance(prompt.content, list) and prompt.content[-1].get("role") == "assistant"):
                    raise ApplicationError(
                        _("Prompt %(id)s does not end with an assistant's turn, which a reply task needs.")
                        % {"id": prompt.pk}
                    )
        return _prompt_tasks(campaign, rows)


def _existing_rows(queryset: QuerySet, ids: list[int]) -> list:
    by_id = queryset.in_bulk(ids)
    missing = [pk for pk in ids if pk not in by_id]
    if missing:
        raise ApplicationError(_("No such id(s), or deleted: %(ids)s") % {"ids": missing[:20]})
    return [by_id[pk] for pk in ids]


def _new_task(campaign: Campaign, prompt: Prompt, language_id: str, **extra: Any) -> Task:
    return Task.objects.create(campaign=campaign, prompt=prompt, language_id=language_id, kind=campaign.kind, **extra)


def _prompt_tasks(campaign: Campaign, prompts: list[Prompt]) -> tuple[list[Task], list[Task]]:
    existing = {t.prompt_id: t for t in Task.objects.alive().filter(campaign=campaign, prompt__in=prompts)}
    created = [_new_task(campaign, p, p.language_id) for p in prompts if p.pk not in existing]
    campaign.languages.add(*{p.language for p in prompts})
    return created, [existing[p.pk] for p in prompts if p.pk in existing]


def _edit_tasks(campaign: Campaign, responses: list[Response]) -> tuple[list[Task], list[Task]]:
    shown = TaskResponse.objects.filter(task__campaign=campaign, task__deleted_at__isnull=True, response__in=responses)
    existing = {item.response_id: item.task for item in shown.select_related("task")}
    created = []
    for response in responses:
        if response.pk not in existing:
            task = _new_task(campaign, response.prompt, response.prompt.language_id)
            TaskResponse.objects.create(task=task, response=response, position=0)
            created.append(task)
    campaign.languages.add(*{r.prompt.language for r in responses})
    return created, [existing[r.pk] for r in responses if r.pk in existing]


def _translate_tasks(campaign: Campaign, prompts: list[Prompt]) -> tuple[list[Task], list[Task]]:
    """One task per campaign language other than the prompt's: `Task.language` is the target."""
    targets = list(campaign.languages.values_list("code", flat=True))
    existing = {
        (t.prompt_id, t.language_id): t for t in Task.objects.alive().filter(campaign=campaign, prompt__in=prompts)
    }
    created, found = [], []
    for prompt in prompts:
        languages = [code for code in targets if code.lower() != prompt.language_id.lower()]
        if not languages:
            raise ApplicationError(
                _("Prompt %(id)s is in %(language)s, the campaign's only language: nothing to translate it into.")
                % {"id": prompt.pk, "language": prompt.language_id}
            )
        for code in languages:
            if (prompt.pk, code) in existing:
                found.append(existing[(prompt.pk, code)])
            else:
                created.append(_new_task(campaign, prompt, code))
    return created, found


# --- Contributions ----------------------------------------------------------------------------------------------


def _submission_task(user: User, task_id: int, live_after: datetime, mine: QuerySet) -> Task:
    """The task as the user may see it, in one query, with what a submission checks: whether the user's work on it is
    stored already (`mine`: rows of that work, OuterRef("pk") being the task) and whether their lease lives on after
    `live_after` (`leased`), and the response an edit task shows (its fields `SHOWN`, as `shown_<field>`: None for
    other kinds)."""
    lease = Lease.objects.filter(task_id=OuterRef("pk"), annotator=user, expires_at__gt=live_after)
    shown = {f"shown_{name}": F(f"shown__response__{name}") for name in SHOWN}
    task = (
        selectors.tasks_for_user(user)
        .prefetch_related(None)
        .filter(pk=task_id)
        .alias(shown=FilteredRelation("items", condition=Q(items__position=0)))
        .annotate(mine=Exists(mine), leased=Exists(lease), **shown)
        .first()
    )
    if task is None:
        raise NotFound(_("No such task, or it is not in your languages."))
    return task


def _locked(task_id: int) -> Task:
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("campaign", "prompt", "language", "contribution")
        .get(pk=task_id)
    )


def _not_contributed(user: User) -> Callable[[Task], None]:
    def check(task: Task) -> None:
        if Contribution.objects.filter(task=task, contributor=user).exists():
            raise Conflict(_("You have already contributed to this task."))

    return check


def _slot_taken(task: Task, user: User, live_after: datetime, check: Callable[[Task], None]) -> Task:
    """The user's lease on the task becomes the stored work: the slot is counted and the lease ends. The short way
    (`lease_end_and_count`, no row lock of its own) when the read found the lease living on after `live_after` and no
    work of the user's stored; else under the task's row lock (`_take_slot`), after `check` (given the locked task)
    has raised if the user may not store this work. The campaign is announced complete when this filled its last
    open task. Returns the task (locked, on the long way)."""
    short = task.leased and not task.mine  # type: ignore[attr-defined]
    count = lease_end_and_count(task.pk, user, live_after) if short else None
    if count is None:
        task = _locked(task.pk)
        check(task)
        count = _take_slot(task, user)
    if count == task.campaign.overlap:
        announce_if_complete(task.campaign)
    return task


def _take_slot(task: Task, user: User) -> int:
    """Under the task's row lock: the user's live lease becomes the stored work (the slot is counted, the lease
    ends). Returns the task's new count."""
    if not Lease.objects.filter(task=task, annotator=user, expires_at__gt=timezone.now()).exists():
        raise ApplicationError(
            _("You hold no lease on this task (expired, or never taken): take one with POST /api/v1/tasks/next/.")
        )
    Task.objects.filter(pk=task.pk).update(annotation_count=F("annotation_count") + 1)
    Lease.objects.filter(task=task, annotator=user).delete()
    return task.annotation_count + 1


def contribution_submit(*, user: User, task_id: int, text: Any, seconds: float | None = None) -> Contribution:
    """Store the user's contribution to a write, reply, edit or translate task they hold a lease on, with what it
    yields (module docstring), and the verify tasks of the campaigns that verify this one. A translation's
    similarity check runs after commit on the `index` queue (a lost send is sent again by
    `translation_checks_resend`). With a live lease (the usual case) the task is read once and the slot taken in one
    write (`_slot_taken`)."""
    now = timezone.now()
    mine = Contribution.objects.filter(task_id=OuterRef("pk"), contributor=user)
    task = _submission_task(user, task_id, now + LEASE_GRACE, mine)
    if task.kind not in CONTRIBUTION_KINDS:
        raise ApplicationError(
            _("This is a %(kind)s task; it takes no written contribution.") % {"kind": task.kind},
            extra={"field": "kind"},
        )
    if not isinstance(text, str):
        raise ApplicationError(_("'text' must be a string"), extra={"field": "text"})
    validate_content(text, "text")
    # An edit's distance is measured before the row lock is taken (the original never changes): it is quadratic
    # in what differs, and no other submission should wait for it.
    original, distance = _checked_edit(task, text) if task.kind == CampaignKind.EDIT else (None, None)

    def contribution_of(task: Task) -> Contribution:
        return Contribution(
            task=task,
            contributor=user,
            kind=task.kind,
            language_id=task.language_id,
            content=text,
            seconds=seconds,
            original_response=original,
            edit_distance=distance,
        )

    with transaction.atomic():
        if not _stored_in_one_statement(contribution := contribution_of(task), task, now + LEASE_GRACE):
            task = _slot_taken(task, user, now + LEASE_GRACE, _not_contributed(user))
            contribution = contribution_of(task)
            _yield(contribution, task)
            contribution.save()
            _verify_tasks_add(contribution, task)
        if task.kind == CampaignKind.TRANSLATE:
            pk = contribution.pk
            transaction.on_commit(lambda: send_task(CHECK_TASK, args=[pk], queue="index"))
    return contribution


def _insert_from(row: Model, source: str, computed: dict[str, str] | None = None) -> tuple[str, list]:
    """INSERT ... SELECT of one unsaved row from `source` (what follows FROM), its values taken as Django would save
    them, but for the columns `computed` gives SQL expressions for."""
    computed = computed or {}
    quote = connection.ops.quote_name
    fields = [f for f in row._meta.concrete_fields if not f.primary_key]
    picks, values = [], []
    for f in fields:
        if f.attname in computed:
            picks.append(computed[f.attname])
        else:
            picks.append("%s")
            values.append(f.get_db_prep_save(f.pre_save(row, add=True), connection))
    columns = ", ".join(quote(str(f.column)) for f in fields)
    return f"INSERT INTO {quote(row._meta.db_table)} ({columns}) SELECT {', '.join(picks)} FROM {source}", values


def _stored_in_one_statement(contribution: Contribution, task: Task, live_after: datetime) -> bool:
    """The usual write or edit on PostgreSQL, with a live lease and nothing of the user's stored on the task:
    `_store_in_one_statement`, and the announcement if it filled the campaign's last open task. False (nothing
    written) otherwise, or if the lease is gone or the same user's other tab stored first: the long way then."""
    if not (
        connection.vendor == "postgresql"
        and task.kind in CONTRIBUTION_KINDS
        and task.leased  # type: ignore[attr-defined]
        and not task.mine  # type: ignore[attr-defined]
    ):
        return False
    try:
        with transaction.atomic():
            count = _store_in_one_statement(contribution, task, live_after)
            if count is None:
                return False
            if count == task.campaign.overlap:
                announce_if_complete(task.campaign)
            return True
    except IntegrityError:
        return False


def _store_in_one_statement(contribution: Contribution, task: Task, live_after: datetime) -> int | None:
    """PostgreSQL, a write or an edit: in one statement (data-modifying CTEs, as a ranking's `_store_with_lease`), end
    the user's lease if it lives on after `live_after`, count the slot, insert what the contribution yields, the
    contribution, its contributor's tally mark (the post_save signal's work: services/tallies.py) and its verify
    tasks. The task's new count, or None (nothing written) if the lease is gone."""
    quote = connection.ops.quote_name
    demonstration, pair = _yielded(contribution, task)
    parts = [
        f"counted AS (UPDATE {quote(Task._meta.db_table)} SET annotation_count = annotation_count + 1 "
        "WHERE id IN (SELECT task_id FROM gone) RETURNING annotation_count)"
    ]
    params: list = []
    computed = {}
    created = _created_prompt(contribution, task)
    source = task.prompt
    if created is not None and task.kind == CampaignKind.TRANSLATE and not source.group:
        parts.append(
            f"grouped AS (UPDATE {quote(Prompt._meta.db_table)} SET {quote('group')} = %s "
            f"WHERE id = %s AND id IN (SELECT %s::bigint FROM counted))"
        )
        params += [created.group, source.pk, source.pk]
    for name, row in (("demonstration", demonstration), ("pair", pair), ("created_prompt", created)):
        if row is not None:
            sql, values = _insert_from(row, "counted")
            parts.append(f"{name} AS ({sql} RETURNING id)")
            params += values
            computed[f"{name}_id"] = f"(SELECT id FROM {name})"
    sql, values = _insert_from(contribution, "counted", computed)
    parts.append(f"stored AS ({sql} RETURNING id)")
    params += values
    parts.append(
        f"marked AS (INSERT INTO {quote(ContributorDirty._meta.db_table)} (contributor_id, language_id) "
        "SELECT %s, %s FROM stored)"
    )
    params += [contribution.contributor_id, contribution.language_id]
    for i, (sql, values) in enumerate(_verifier_inserts(contribution, task, stored="stored")):
        parts.append(f"verifier{i} AS ({sql})")
        params += values
    rows = {"stored": contribution, "demonstration": demonstration, "pair": pair, "created_prompt": created}
    made = {name: row for name, row in rows.items() if row is not None}
    ids = ", ".join(f"(SELECT id FROM {name})" for name in made)
    statement = ", " + ", ".join(parts) + f" SELECT (SELECT annotation_count FROM counted), {ids}"
    row = _ending_lease((statement, params), task.pk, contribution.contributor, live_after)
    if row is None or row[0] is None:
        return None
    for saved, pk in zip(made.values(), row[1:], strict=True):
        saved.pk, saved._state.adding, saved._state.db = pk, False, connection.alias
    contribution.demonstration, contribution.pair, contribution.created_prompt = demonstration, pair, created
    if created is not None:
        if task.kind == CampaignKind.TRANSLATE:
            source.group = created.group
        # What saving it would have told its listeners (retrieval indexes a new prompt after commit).
        post_save.send(
            sender=Prompt, instance=created, created=True, update_fields=None, raw=False, using=connection.alias
        )
    return row[0]


def _verify_tasks_add(contribution: Contribution, task: Task) -> None:
    """A verify task on the stored contribution in each alive verify campaign that verifies the task's campaign, and
    the contribution's language among those campaigns' languages: two INSERT ... SELECT statements, whatever their
    number."""
    with connection.cursor() as cursor:
        for sql, params in _verifier_inserts(contribution, task):
            cursor.execute(sql, params)


def _verifier_inserts(contribution: Contribution, task: Task, stored: str = "") -> list[tuple[str, list]]:
    """The statements of `_verify_tasks_add`; with `stored` (the name of a CTE returning the contribution's id) for
    a contribution that CTE inserts, only if it did."""
    quote = connection.ops.quote_name
    source = f"{quote(Campaign._meta.db_table)} verifier{', ' + stored if stored else ''}"
    where = "WHERE verifier.verifies_id = %s AND verifier.kind = %s AND verifier.deleted_at IS NULL"
    chosen = [task.campaign_id, CampaignKind.VERIFY.value]
    row = Task(prompt=task.prompt, language_id=contribution.language_id, kind=CampaignKind.VERIFY)
    computed = {"campaign_id": "verifier.id"}
    if stored:
        computed["contribution_id"] = f"{stored}.id"
    else:
        row.contribution = contribution
    sql, values = _insert_from(row, f"{source} {where}", computed)
    languages = quote(Campaign.languages.through._meta.db_table)
    return [
        (sql, [*values, *chosen]),
        (
            f"INSERT INTO {languages} (campaign_id, language_id) SELECT verifier.id, %s FROM {source} {where} "
            "ON CONFLICT (campaign_id, language_id) DO NOTHING",
            [contribution.language_id, *chosen],
        ),
    ]


def _checked_edit(task: Task, text: str) -> tuple[Response, int]:
    """The response an edit task shows (read with the task: `_submission_task`, `SHOWN`) and the edit's distance
    from it, or a 400 when that is too small."""
    if getattr(task, "shown_id", None) is None:
        raise TaskResponse.DoesNotExist("An edit task shows no response.")
    names = [f.attname for f in Response._meta.concrete_fields if f.attname in SHOWN]  # from_db takes them in order
    original = Response.from_db(connection.alias, names, [getattr(task, f"shown_{name}") for name in names])
    distance = levenshtein(original.text, text)
    needed = task.campaign.min_edit_distance
    if distance < needed:
        raise ApplicationError(
            ngettext(
                "The edit changes %(n)s character; at least %(m)s are needed.",
                "The edit changes %(n)s characters; at least %(m)s are needed.",
                distance,
            )
            % {"n": distance, "m": needed},
            extra={"field": "text", "edit_distance": distance, "min_edit_distance": needed},
        )
    return original, distance


def _yielded(contribution: Contribution, task: Task) -> tuple[Demonstration | None, PreferenceRecord | None]:
    """The demonstration and the pair the contribution yields, unsaved, pending like it (module docstring)."""
    demonstration = pair = None
    prompt, text, origin = task.prompt, contribution.content, ORIGIN % task.campaign_id
    key = f"{task.kind}:task-{task.pk}:user-{contribution.contributor_id}"
    if task.kind in (CampaignKind.WRITE, CampaignKind.EDIT):
        demonstration = Demonstration(
            external_id=key,
            content_hash=content_hash(prompt.content, text, task.language_id),
            prompt=prompt.content,
            completion=text,
            prompt_text=prompt.text,
            language_id=task.language_id,
            group=prompt.group,
            source=task.kind,
            origin=origin,
            status=DemonstrationStatus.PENDING,
        )
    original = contribution.original_response
    if task.kind == CampaignKind.EDIT and original is not None:
        pair = PreferenceRecord(
            external_id=key,
            content_hash=content_hash(prompt.content, text, original.content, task.language_id),
            prompt=prompt.content,
            response_a=text,
            response_b=original.content,
            prompt_text=prompt.text,
            outcome="a",  # the edited answer over the original
            source=Source.EDIT,
            origin=origin,
            language_id=task.language_id,
            group=prompt.group,
            model_b=original.model_name,
            annotator=contribution.contributor,
            status=DemonstrationStatus.PENDING,
        )
    return demonstration, pair


def _yield(contribution: Contribution, task: Task) -> None:
    """Create what the contribution yields, pending like it (module docstring)."""
    prompt = task.prompt
    demonstration, pair = _yielded(contribution, task)
    if demonstration is not None:
        demonstration.save()
        contribution.demonstration = demonstration
    if pair is not None:
        pair.save()
        contribution.pair = pair
    created = _created_prompt(contribution, task)
    if created is not None:
        if task.kind == CampaignKind.TRANSLATE and not prompt.group:  # the group starts from the source prompt
            Prompt.objects.filter(pk=prompt.pk).update(group=created.group)
            prompt.group = created.group
        created.save(force_insert=True)
        contribution.created_prompt = created


def _created_prompt(contribution: Contribution, task: Task) -> Prompt | None:
    """The prompt a reply (the conversation grown by the user's turn) or a translation (in the source's translation
    group, one started from the source's id when it has none) creates, unsaved; None for the other kinds."""
    prompt, text = task.prompt, contribution.content
    if task.kind == CampaignKind.REPLY:
        return prompt_new(
            content=[*prompt.content, {"role": "user", "content": text}],
            language_id=task.language_id,
            source=CampaignKind.REPLY,
            metadata={"reply_to": prompt.pk},
        )
    if task.kind == CampaignKind.TRANSLATE:
        return prompt_new(
            content=text,
            language_id=task.language_id,
            group=prompt.group or f"prompt-{prompt.pk}",
            source=CampaignKind.TRANSLATE,
            metadata={"translated_from": prompt.pk},
        )
    return None


# --- Verdicts and decisions ------------------------------------------------------------------------------------


def verdict_submit(*, user: User, task_id: int, up: bool, reason: str = "") -> Verdict:
    """Store the user's vote on the contribution of a verify task they hold a lease on, and decide the
    contribution again (module docstring). Nobody votes on their own work. With a live lease (the usual case) the
    task is read once with its contribution and the slot taken in one write (`_slot_taken`); the vote is counted in
    one UPDATE, whose row lock orders the votes on the contribution."""
    now = timezone.now()
    mine = Verdict.objects.filter(contribution_id=OuterRef("contribution_id"), voter=user)
    task = _submission_task(user, task_id, now + LEASE_GRACE, mine)
    if task.kind != CampaignKind.VERIFY:
        raise ApplicationError(
            _("This is a %(kind)s task; only verify tasks take a verdict.") % {"kind": task.kind},
            extra={"field": "kind"},
        )
    if "\x00" in reason:
        raise ApplicationError(_("reason contains a NUL character (\\u0000), which cannot be stored"))
    contribution = task.contribution
    if contribution is None:
        raise NotFound(_("This verify task has no contribution to vote on."))
    if contribution.contributor_id == user.pk:  # who wrote it never changes: no lock needed to tell
        raise Forbidden(_("You cannot verify your own contribution."))
    verdict = Verdict(contribution=contribution, voter=user, up=up, reason=reason)
    if _voted_in_one_statement(verdict, task, now + LEASE_GRACE):
        return verdict
    with transaction.atomic():
        task = _slot_taken(task, user, now + LEASE_GRACE, _not_voted(user))
        verdict._tally_marked = True  # type: ignore[attr-defined]  # _mark_tallies marks every voter, this one too
        verdict.save()
        _count_vote(contribution, up)
        _decide(contribution, task.campaign)
        _mark_tallies(contribution)
    return verdict


def _voted_in_one_statement(verdict: Verdict, task: Task, live_after: datetime) -> bool:
    """The usual vote on PostgreSQL, with a live lease and no vote of the user's stored: in one statement
    (data-modifying CTEs) end the lease if it lives on after `live_after`, count the slot, insert the verdict, count
    the vote (reading back the contribution's counts and override, its row locked until commit) and mark the
    tallies; then the decision (`_decide`) and the announcement if this filled the campaign's last open task. False
    (nothing written) otherwise, or if the lease is gone or the same user's other tab voted first."""
    if not (connection.vendor == "postgresql" and task.leased and not task.mine):  # type: ignore[attr-defined]
        return False
    quote = connection.ops.quote_name
    contribution = verdict.contribution
    sql, params = _insert_from(verdict, "counted")
    marks, marked = _marks(contribution, voter=("voted", verdict.voter_id))
    statement = (
        f", counted AS (UPDATE {quote(Task._meta.db_table)} SET annotation_count = annotation_count + 1 "
        "WHERE id IN (SELECT task_id FROM gone) RETURNING annotation_count), "
        f"voted AS ({sql} RETURNING id), "
        f"tallied AS (UPDATE {quote(Contribution._meta.db_table)} SET up_votes = up_votes + %s, "
        "down_votes = down_votes + %s WHERE id = %s AND EXISTS (SELECT 1 FROM voted) "
        "RETURNING up_votes, down_votes, override_status, status, disputed), "
        f"marked AS ({marks}) "
        "SELECT (SELECT annotation_count FROM counted), (SELECT id FROM voted), tallied.* "
        "FROM (SELECT 1) one LEFT JOIN tallied ON true"
    )
    params += [int(verdict.up), int(not verdict.up), contribution.pk, *marked]
    try:
        with transaction.atomic():
            row = _ending_lease((statement, params), task.pk, verdict.voter, live_after)
            if row is None or row[0] is None:
                return False
            verdict.pk, verdict._state.adding, verdict._state.db = row[1], False, connection.alias
            (
                contribution.up_votes,
                contribution.down_votes,
                contribution.override_status,
                contribution.status,
                contribution.disputed,
            ) = row[2:]
            if row[0] == task.campaign.overlap:
                announce_if_complete(task.campaign)
            _decide(contribution, task.campaign)
            return True
    except IntegrityError:
        return False


def _not_voted(user: User) -> Callable[[Task], None]:
    def check(task: Task) -> None:
        if Verdict.objects.filter(contribution_id=task.contribution_id or 0, voter=user).exists():
            raise Conflict(_("You have already voted on this contribution."))

    return check


def _count_vote(contribution: Contribution, up: bool) -> None:
    """Count the vote in one UPDATE, reading back the contribution's counts and override: the row stays locked
    until commit, so a concurrent vote or override waits and then sees this one."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Contribution._meta.db_table)} SET up_votes = up_votes + %s, "  # noqa: S608
            "down_votes = down_votes + %s WHERE id = %s RETURNING up_votes, down_votes, override_status, status, "
            "disputed",
            [int(up), int(not up), contribution.pk],
        )
        (
            contribution.up_votes,
            contribution.down_votes,
            contribution.override_status,
            contribution.status,
            contribution.disputed,
        ) = cursor.fetchone()
    contribution.disputed = bool(contribution.disputed)


def decision(up_votes: int, down_votes: int, votes_needed: int, share: float) -> tuple[str, bool]:
    """(status, disputed) after these votes."""
    votes = up_votes + down_votes
    if votes < votes_needed or votes == 0:
        return DemonstrationStatus.PENDING, False
    ups = up_votes / votes
    if ups >= share - SHARE_EPSILON:
        return DemonstrationStatus.ACCEPTED, False
    if ups <= 1 - share + SHARE_EPSILON:
        return DemonstrationStatus.REJECTED, False
    return DemonstrationStatus.PENDING, True


def _decide(contribution: Contribution, verifier: Campaign) -> None:
    """Decide the contribution after its counted vote (`decision`, unless overridden), write the status only where
    it changed (what it yielded follows: `_propagate`)."""
    before = contribution.status, contribution.disputed
    if not contribution.override_status:
        contribution.status, contribution.disputed = decision(
            contribution.up_votes, contribution.down_votes, verifier.verify_votes, verifier.verify_share
        )
    if (contribution.status, contribution.disputed) != before:
        Contribution.objects.filter(pk=contribution.pk).update(
            status=contribution.status, disputed=contribution.disputed
        )
    if contribution.status != before[0]:  # what it yielded has its status already
        _propagate(contribution)


def _mark_tallies(contribution: Contribution) -> None:
    """The contributor's and every voter's tally marked (the work of tallies.py's signals for a decision), in one
    INSERT ... SELECT."""
    sql, params = _marks(contribution)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _marks(contribution: Contribution, voter: tuple[str, int] | None = None) -> tuple[str, list]:
    """The statement of `_mark_tallies`; with `voter` (a CTE name and a user id), also that voter's mark, and only
    if that CTE returned a row (the vote the same statement stores is not among the verdicts it reads)."""
    contributor = Contribution.objects.filter(pk=contribution.pk).values_list("contributor_id", "language_id")
    voters = Verdict.objects.filter(contribution_id=contribution.pk).values_list(
        "voter_id", "contribution__language_id"
    )
    sql, params = contributor.union(voters, all=True).query.sql_with_params()
    table = connection.ops.quote_name(ContributorDirty._meta.db_table)
    if voter is None:
        return f"INSERT INTO {table} (contributor_id, language_id) {sql}", list(params)  # noqa: S608
    return (
        f"INSERT INTO {table} (contributor_id, language_id) SELECT person, code FROM "  # noqa: S608
        f"(SELECT %s AS person, %s AS code UNION ALL {sql}) marks WHERE EXISTS (SELECT 1 FROM {voter[0]})",
        [voter[1], contribution.language_id, *params],
    )


def _propagate(contribution: Contribution) -> None:
    """The demonstration and the pair take the contribution's status; a translation's prompt is in its source's
    translation group unless the translation is rejected."""
    if contribution.demonstration_id:
        Demonstration.objects.filter(pk=contribution.demonstration_id).update(status=contribution.status)
    if contribution.pair_id:
        PreferenceRecord.objects.filter(pk=contribution.pair_id).update(status=contribution.status)
    if contribution.kind == CampaignKind.TRANSLATE and contribution.created_prompt_id:
        _translation_membership(contribution, contribution.created_prompt_id)


def _translation_membership(contribution: Contribution, prompt_id: int) -> None:
    """A rejected translation's prompt leaves the translation group (kept in its metadata as
    `translation_group`), so search, link suggestions, group-based held-out splits and exports no longer take it
    for a translation; it joins the source's group again when a later decision (an override) takes it back.
    The demonstrations and pairs of contribution tasks on that prompt carry a copy of its group: they follow."""
    prompt = Prompt.objects.get(pk=prompt_id)
    kept = prompt.metadata.get("translation_group", "")
    if contribution.status == DemonstrationStatus.REJECTED:
        if not prompt.group:
            return
        group = ""
        prompt.metadata = {**prompt.metadata, "translation_group": prompt.group}
    else:
        if prompt.group or not kept:
            return  # in a group already (its own, or one a translation link gave it since)
        source = Task.objects.filter(pk=contribution.task_id).values_list("prompt__group", flat=True).first()
        group = source or kept
    Prompt.objects.filter(pk=prompt.pk).update(group=group, metadata=prompt.metadata)
    derived = {"contribution__task__prompt_id": prompt.pk}
    Demonstration.objects.filter(**derived).update(group=group)
    PreferenceRecord.objects.filter(**derived).update(group=group)


@transaction.atomic
def contribution_override(*, contribution: Contribution, status: str, reason: str, user: User) -> Contribution:
    """A reviewer's final decision, with their reason: later votes no longer change the status."""
    if status not in (DemonstrationStatus.ACCEPTED, DemonstrationStatus.REJECTED):
        raise ApplicationError(_("status must be accepted or rejected"), extra={"field": "status"})
    if not reason or not reason.strip():
        raise ApplicationError(_("Give the reason for the override."), extra={"field": "reason"})
    if "\x00" in reason:
        raise ApplicationError(_("reason contains a NUL character (\\u0000), which cannot be stored"))
    contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
    contribution.status = contribution.override_status = status
    contribution.override_reason, contribution.override_by, contribution.override_at = reason, user, timezone.now()
    contribution.disputed = False
    contribution.save()
    _propagate(contribution)
    audit.record(action="contribution.override", target=contribution, details={"status": status}, actor=user)
    return contribution


def translation_checked(*, contribution_id: int, similarity: float | None, flagged: bool, note: str = "") -> None:
    """Record the similarity check of a translation (webapp/retrieval/translation.py runs it)."""
    Contribution.objects.filter(pk=contribution_id).update(
        similarity=similarity, flagged=flagged, check_note=note[:200], checked_at=timezone.now()
    )


def translation_checks_resend() -> int:
    """Send again the similarity checks not recorded TRANSLATION_CHECK_RESEND_SECONDS after they were sent: the
    send after commit failed (the broker was down) or its message was lost (a worker died holding it). Each one's
    send time moves to now first, so a sweep sends one copy per period however long the workers are away; the
    longest waiting first, at most TRANSLATION_CHECK_RESEND_BATCH per run, and none more once the broker refuses
    one. Returns how many were sent. A second copy of a check is harmless: it writes the same result."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.TRANSLATION_CHECK_RESEND_SECONDS)
    due = Contribution.objects.filter(kind=CampaignKind.TRANSLATE, checked_at__isnull=True).filter(
        Q(check_sent_at__lt=cutoff) | Q(check_sent_at__isnull=True, created_at__lt=cutoff)
    )
    waited = Coalesce("check_sent_at", "created_at")
    ids = list(due.order_by(waited, "pk").values_list("pk", flat=True)[: settings.TRANSLATION_CHECK_RESEND_BATCH])
    Contribution.objects.filter(pk__in=ids).update(check_sent_at=now)
    sent = 0
    for pk in ids:
        if not send_task(CHECK_TASK, args=[pk], queue="index"):
            break  # the broker is down: the next sweep tries again
        sent += 1
    return sent


def _takes_no_ranking(kind: str) -> Callable[[Any, int], list[list[int]]]:
    """The check_submission of a contribution kind: a ranking submitted to its task is refused, saying what to do."""

    def check(ranking: Any, n: int) -> list[list[int]]:
        if kind == CampaignKind.VERIFY:
            raise LineError(_("This is a verify task: vote with POST /api/v1/tasks/{id}/verdicts/, not a ranking."))
        raise LineError(
            _("This is a %(kind)s task: send your text with POST /api/v1/tasks/{id}/contributions/, not a ranking.")
            % {"kind": kind}
        )

    return check


_DESCRIPTIONS = {
    CampaignKind.WRITE: "Write the answer to the prompt",
    CampaignKind.REPLY: "Continue the conversation as the user",
    CampaignKind.EDIT: "Improve the shown answer",
    CampaignKind.TRANSLATE: "Translate the prompt into the task's language",
    CampaignKind.VERIFY: "Vote up or down on someone else's contribution",
}
for _kind, _description in _DESCRIPTIONS.items():
    task_kinds.register(
        _kind.value, TaskKind(name=_kind.value, description=_description, check_submission=_takes_no_ranking(_kind))
    )
