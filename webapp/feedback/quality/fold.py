"""The review summary's fold: picks up the annotation, skip and `ReviewDirty` rows inserted since its
watermark (and the task, contribution and verdict rows, which change a task's slots taken), recomputes
those tasks' parts (quality/parts.py) and moves the per-(campaign, language, view) sums by the difference
(old part out, new part in), all in one transaction with the watermark.

Writers never update a row the fold or another writer updates: a submit, a skip and an import only
insert (their ids are the watermark), and a change that inserts nothing (a soft delete, a gold change, a
move to another campaign, a deleted row) inserts a `ReviewDirty` marker (quality/marks.py). Only the fold
writes the summary, one fold at a time (it locks the state row).

Ids are handed out before commit, so a row may commit after rows with higher ids were folded (a long
import beside live submits, on PostgreSQL). The id ranges a fold skipped are kept as holes and re-read
by every fold until their rows appear or `REVIEW_HOLE_SECONDS` pass; a task found there is recomputed
from all its rows up to the watermark, so re-reading is always safe. A row that appears in a hole
counts as pending (the page is not "as of now" until it is folded). Beyond MAX_HOLES the closest holes
are merged; a row appearing in a merged one is folded by the next fold without counting as pending.
Markers below the watermark are deleted: nothing reads them again."""

import time
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webapp.feedback.models import (
    Annotation,
    ConsistencyRow,
    Contribution,
    GroupSummary,
    PreferenceRecord,
    RecordStats,
    ReviewDirty,
    ReviewState,
    ReviewSummary,
    Skip,
    Task,
    TaskStats,
    Verdict,
)
from webapp.feedback.quality.additive import add
from webapp.feedback.quality.agreement import cross_lingual_consistency
from webapp.feedback.quality.parts import task_parts

_STREAMS = (
    ("annotation", Annotation, "annotation_id"),
    ("skip", Skip, "skip_id"),
    ("dirty", ReviewDirty, "dirty_id"),
    # A task's slots taken (models.Task.annotation_count, what the home page's open and done count): a new
    # task, a contribution to it, or a verdict on a verify task (of the contribution voted on) changes them.
    ("task", Task, "task_id"),
    ("contribution", Contribution, "contribution_id"),
    ("verdict", Verdict, "verdict_id"),
    ("record", PreferenceRecord, "record_id"),  # the home page's alive preference records
)
_FIELDS = {
    "annotation": ("task_id",),
    "skip": ("task_id",),
    "dirty": ("task_id", "campaign_id", "record_id"),
    "task": ("id",),
    "contribution": ("task_id",),
    "verdict": ("contribution__verify_tasks",),  # one row per verify task of the contribution
    "record": ("id",),
}
MAX_HOLES = 200  # per stream; beyond it the closest holes are merged (a merged hole re-reads rows, harmlessly)
CHUNK = 500  # tasks recomputed per query batch


def review_state() -> ReviewState:
    return ReviewState.objects.get_or_create(pk=1)[0]


def review_pending(state: ReviewState, cap: int) -> int:
    """Rows not folded yet: above the watermark, or committed since in a hole below it; counted up to
    `cap` per stream (a bounded read)."""
    pending = 0
    for name, model, attr in _STREAMS:
        pending += model.objects.filter(pk__gt=getattr(state, attr))[:cap].count()
        # Exact holes only: a merged one also spans rows folded already (a late row there waits a fold).
        holes = [hole for hole in _live(state.holes.get(name, []), time.time()) if len(hole) == 3]
        if holes:
            pending += model.objects.filter(_ranges(holes))[:cap].count()
    return pending


def _live(holes: list, now: float) -> list:
    return [hole for hole in holes if now - hole[2] < settings.REVIEW_HOLE_SECONDS]


def _ranges(holes: list) -> Q:
    where = Q()
    for lo, hi, *_rest in holes:
        where |= Q(pk__gte=lo, pk__lte=hi)
    return where


def review_fold(limit: int | None = None) -> dict:
    """One fold of at most `limit` rows per stream (REVIEW_FOLD_BATCH); returns what it did."""
    limit = limit or settings.REVIEW_FOLD_BATCH
    with transaction.atomic():
        review_state()  # the one row, made once (get_or_create: a concurrent first fold finds it)
        state = ReviewState.objects.select_for_update().get(pk=1)
        touched: set[int] = set()
        records: set[int] = set()
        deleted_campaigns: set[int] = set()
        now = time.time()
        holes = {}
        for name, model, attr in _STREAMS:
            mark = getattr(state, attr)
            rows = list(model.objects.filter(pk__gt=mark).order_by("pk").values_list("pk", *_FIELDS[name])[:limit])
            old = _live(state.holes.get(name, []), now)
            found = _in_holes(model, old, _FIELDS[name])
            for row in (*rows, *found):
                if name == "record":
                    records.add(row[1])
                elif row[1] is not None:
                    touched.add(row[1])
                elif len(row) > 3 and row[3] is not None:
                    records.add(row[3])
                elif len(row) > 2 and row[2] is not None:
                    deleted_campaigns.add(row[2])
            top = rows[-1][0] if rows else mark
            kept = [gap for lo, hi, seen, *_merged in old for gap in _gaps(lo, hi, [row[0] for row in found], seen)]
            kept += _gaps(mark + 1, top, [row[0] for row in rows], now)
            holes[name] = _merge(kept)
            setattr(state, attr, top)
        tasks = sorted(touched)
        groups: set[tuple[str, str]] = set()
        for start in range(0, len(tasks), CHUNK):
            groups |= _refold(tasks[start : start + CHUNK], state)
        groups |= _groups_of_campaigns(deleted_campaigns)
        ids = sorted(records)
        for start in range(0, len(ids), CHUNK):
            _refold_records(ids[start : start + CHUNK], state)
        consistency_refresh(groups)
        state.holes = holes
        state.as_of = timezone.now()
        state.save()
        # Markers below the watermark (and below every hole) are never read again.
        floor = min((hole[0] for hole in holes["dirty"]), default=state.dirty_id + 1) - 1
        ReviewDirty.objects.filter(pk__lte=floor).delete()
    return {"tasks": len(tasks), "annotation_id": state.annotation_id, "skip_id": state.skip_id}


def review_catch_up(limit: int | None = None, rounds: int | None = None) -> int:
    """Fold, one short transaction of `limit` rows per stream at a time (writers get in between), until
    nothing is pending or after `rounds` folds; returns the tasks recomputed."""
    done = 0
    while rounds is None or rounds > 0:
        done += review_fold(limit)["tasks"]
        if not review_pending(review_state(), 1):
            break
        rounds = None if rounds is None else rounds - 1
    return done


def _in_holes(model, holes: list, fields: tuple[str, ...]) -> list[tuple]:
    if not holes:
        return []
    return list(model.objects.filter(_ranges(holes)).order_by("pk").values_list("pk", *fields))


def _gaps(lo: int, hi: int, present: list[int], seen: float) -> list[list]:
    """The id ranges within lo..hi that hold none of `present` (sorted), each [lo, hi, first seen]."""
    gaps, expected = [], lo
    for pk in present:
        if pk < lo or pk > hi:
            continue
        if pk > expected:
            gaps.append([expected, pk - 1, seen])
        expected = pk + 1
    if expected <= hi:
        gaps.append([expected, hi, seen])
    return gaps


def _merge(holes: list[list]) -> list[list]:
    """At most MAX_HOLES holes: the closest are joined, marked merged ([lo, hi, first seen, 1]), the
    span between them holding rows that may be read again."""
    holes = sorted(holes)
    while len(holes) > MAX_HOLES:
        i = min(range(len(holes) - 1), key=lambda j: holes[j + 1][0] - holes[j][1])
        holes[i : i + 2] = [[holes[i][0], holes[i + 1][1], min(holes[i][2], holes[i + 1][2]), 1]]
    return holes


def _refold(task_ids: list[int], state: ReviewState) -> set[tuple[str, str]]:
    """Replace these tasks' parts, from their rows up to the new watermark, and move the sums by the
    difference; returns the (view, translation group) pairs whose sums moved."""
    sums: dict[tuple[int, str, str], dict] = defaultdict(dict)
    groups: dict[tuple[int, str, str, str], dict] = defaultdict(dict)
    old = list(TaskStats.objects.filter(task_id__in=task_ids))
    for stats in old:
        add(sums[(stats.campaign_id, stats.language, stats.view)], stats.part, -1)
        if stats.groups:
            key = (stats.campaign_id, stats.language, stats.view, stats.groups["group"])
            add(groups[key], _scores(stats.groups), -1)
    new = task_parts(task_ids, state.annotation_id, state.skip_id)
    for (_task_id, view), part in new.items():
        add(sums[(part.campaign_id, part.language, view)], part.part)
        if part.groups:
            add(groups[(part.campaign_id, part.language, view, part.groups["group"])], _scores(part.groups))
    TaskStats.objects.filter(task_id__in=task_ids).delete()
    TaskStats.objects.bulk_create(
        [
            TaskStats(
                task_id=task_id,
                view=view,
                campaign_id=part.campaign_id,
                language=part.language,
                annotations=part.annotations,
                flag_count=part.flag_count,
                miss_count=part.miss_count,
                part=part.part,
                groups=part.groups,
                row=part.row,
            )
            for (task_id, view), part in new.items()
        ]
    )
    _apply(ReviewSummary, ("campaign_id", "language", "view"), sums)
    _apply(GroupSummary, ("campaign_id", "language", "view", "group"), groups)
    return {(view, group) for (_campaign, _language, view, group), delta in groups.items() if delta}


def _refold_records(record_ids: list[int], state: ReviewState) -> None:
    """Replace these records' parts (alive: one in its language and source; deleted: none) and move
    `state.records` by the difference."""
    delta: dict[str, dict] = defaultdict(dict)
    for language, source in RecordStats.objects.filter(record_id__in=record_ids).values_list("language", "source"):
        add(delta, {language: {source: 1}}, -1)
    alive = PreferenceRecord.objects.filter(pk__in=record_ids, deleted_at__isnull=True, pk__lte=state.record_id)
    fresh = [
        RecordStats(record_id=pk, language=lang, source=source)
        for pk, lang, source in alive.values_list("pk", "language_id", "source")
    ]
    for row in fresh:
        add(delta, {row.language: {row.source: 1}})
    RecordStats.objects.filter(record_id__in=record_ids).delete()
    RecordStats.objects.bulk_create(fresh)
    state.records = add(state.records or {}, delta)


def _groups_of_campaigns(campaign_ids: set[int]) -> set[tuple[str, str]]:
    """The (view, group) pairs a deleted campaign had a part in: their consistency is computed again."""
    if not campaign_ids:
        return set()
    return set(GroupSummary.objects.filter(campaign_id__in=campaign_ids).values_list("view", "group").distinct())


def consistency_refresh(groups: set[tuple[str, str]]) -> None:
    """Recompute the `ConsistencyRow`s of these (view, group) pairs from their `GroupSummary` rows in
    alive campaigns: over every campaign (scope 0) and within each."""
    by_view: dict[str, list[str]] = defaultdict(list)
    for view, group in groups:
        by_view[view].append(group)
    for view, names in by_view.items():
        for start in range(0, len(names), CHUNK):
            chunk = names[start : start + CHUNK]
            scores: dict[tuple[int, str], dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
            rows = GroupSummary.objects.filter(view=view, group__in=chunk, campaign__deleted_at__isnull=True)
            for campaign_id, language, group, data in rows.values_list("campaign_id", "language", "group", "data"):
                for scope in (0, campaign_id):
                    add(scores[(scope, group)][language], data)
            fresh = []
            for (scope, group), languages in scores.items():
                means = {
                    language: {model: data["score"].get(model, 0) / n for model, n in data["count"].items()}
                    for language, data in languages.items()
                    if data.get("count")
                }
                if len(means) < 2:
                    continue
                for row in cross_lingual_consistency(groups={group: means}):
                    fresh.append(_consistency_row(scope, view, row))
            ConsistencyRow.objects.filter(view=view, group__in=chunk).delete()
            ConsistencyRow.objects.bulk_create(fresh, batch_size=1000)


def _consistency_row(scope: int, view: str, row: dict) -> ConsistencyRow:
    flipped = [list(pair) for pair in row["flipped"]]
    return ConsistencyRow(
        scope=scope,
        view=view,
        group=row["group"],
        tau_missing=row["tau"] is None,
        tau=row["tau"] or 0.0,
        order_flips=-len(flipped),
        sort_name="\x00".join((row["group"], row["language_a"], row["language_b"])).encode(),
        data={**row, "flipped": flipped},
    )


def _scores(groups: dict) -> dict:
    return {"score": groups["score"], "count": groups["count"]}


def _apply(model, fields: tuple[str, ...], deltas: dict[tuple, dict]) -> None:
    """Add each delta into its summary row: rows created, updated, or deleted when left empty."""
    deltas = {key: delta for key, delta in deltas.items() if delta}
    if not deltas:
        return
    keys = list(deltas)
    rows = {}
    for start in range(0, len(keys), CHUNK):  # each field's values of a chunk: a superset, matched below
        chunk = keys[start : start + CHUNK]
        lookup = {f"{name}__in": {key[i] for key in chunk} for i, name in enumerate(fields)}
        rows.update({tuple(getattr(row, f) for f in fields): row for row in model.objects.filter(**lookup)})
    changed, created, emptied = [], [], []
    for key, delta in deltas.items():
        row = rows.get(key)
        if row is None:
            created.append(model(**dict(zip(fields, key, strict=True)), data=add({}, delta)))
            continue
        row.data = add(row.data, delta)
        (changed if row.data else emptied).append(row)
    model.objects.bulk_create(created)
    model.objects.bulk_update(changed, ["data"], batch_size=500)
    model.objects.filter(pk__in=[row.pk for row in emptied]).delete()
