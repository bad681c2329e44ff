"""One task's part of the review figures, per view (quality/summary.py folds them): computed from the
task's rows alone, with the definitions of review.py, trust.py and judges.py (additive.py says how each
statistic is a sum of such parts). A view is "" (every human source, sources.HUMAN) or one of them."""

from collections import defaultdict
from dataclasses import dataclass, field, replace

from webapp.feedback import sources
from webapp.feedback.formats.pairs import Vote, aggregate
from webapp.feedback.models import Annotation, Skip, Task, TaskResponse
from webapp.feedback.quality.additive import add, coincidences, comparison_counts, seconds_bin
from webapp.feedback.quality.agreement import judge_pair_agreement, rank_positions
from webapp.feedback.quality.judges import JUDGE_RATER, same_ranking
from webapp.feedback.services.suggestions import held_out

VIEWS: tuple[str, ...] = ("", *sources.HUMAN)


def view_sources(view: str) -> tuple[str, ...]:
    return (view,) if view else sources.HUMAN


@dataclass
class TaskPart:
    """What one task contributes to one view (see models.TaskStats)."""

    campaign_id: int
    language: str
    annotations: int = 0
    flag_count: int = 0
    miss_count: int = 0
    part: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    row: dict = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.part or self.groups or self.annotations)


@dataclass(frozen=True)
class _Task:
    pk: int
    campaign_id: int
    language: str
    group: str
    gold: int | None
    suggestion_judge: str
    holdout: float
    slots: int  # Task.annotation_count: the home page's open and done tasks (view "" only)
    models: list[str]


def task_parts(task_ids: list[int], annotation_max: int, skip_max: int) -> dict[tuple[int, str], TaskPart]:
    """(task id, view) -> part, for the alive tasks among `task_ids` (a deleted task has no part), from
    their annotations and skips up to those ids (the fold's watermark: what the summary is as of)."""
    alive = Task.objects.filter(pk__in=task_ids, deleted_at__isnull=True)
    tasks = {
        row[0]: _Task(*row, [])
        for row in alive.values_list(
            "pk",
            "campaign_id",
            "language_id",
            "prompt__group",
            "gold_position",
            "campaign__suggestion_judge",
            "campaign__suggestion_holdout",
            "annotation_count",
        )
    }
    items = TaskResponse.objects.filter(task_id__in=tasks).order_by("task_id", "position")
    for task_id, model_name in items.values_list("task_id", "response__model_name"):
        tasks[task_id].models.append(model_name or "")
    annotations: dict[int, list[dict]] = defaultdict(list)
    rows = Annotation.objects.filter(task_id__in=tasks, pk__lte=annotation_max).order_by("id")
    for row in rows.values(
        "task_id",
        "annotator_id",
        "source",
        "origin",
        "ranking",
        "flags",
        "display_order",
        "seconds",
        "rationale",
        "suggested_by",
        "suggestion",
    ):
        annotations[row["task_id"]].append(row)
    skips: dict[int, list[int]] = defaultdict(list)
    for task_id, annotator_id in Skip.objects.filter(task_id__in=tasks, pk__lte=skip_max).values_list(
        "task_id", "annotator_id"
    ):
        skips[task_id].append(annotator_id)
    parts = {}
    for task in tasks.values():
        for view, part in _views(task, annotations[task.pk], skips[task.pk]).items():
            if not part.empty():
                parts[(task.pk, view)] = part
    return parts


def _views(task: _Task, annotations: list[dict], skipped: list[int]) -> dict[str, TaskPart]:
    """The task's part in each view. Views that read the same rankings (a task with imported rankings
    alone reads the same in "" and `import`) share the work; skips and anchoring count where live
    annotators' rankings do."""
    judges = [a for a in annotations if a["source"] == sources.Source.JUDGE]
    anchored = _anchoring(task, annotations)
    computed: dict[tuple[int, ...], TaskPart] = {}
    views = {}
    for view in VIEWS:
        human = view_sources(view)
        chosen = tuple(i for i, a in enumerate(annotations) if a["source"] in human)
        if chosen not in computed:
            computed[chosen] = _facts_part(task, [annotations[i] for i in chosen], judges)
        shared = computed[chosen]
        part = dict(shared.part)
        if sources.ASSIGNED in human:
            if skipped:
                part["skips"] = {str(a): 1 for a in skipped}
            if anchored:
                part["anchoring"] = anchored
        if not view:
            # Every alive task's slots taken, as a histogram: done is read against the campaign's overlap
            # (editable) when the summary is read.
            part["slots"] = {str(task.slots): 1}
        views[view] = replace(shared, part=part)
    return views


def _facts_part(task: _Task, facts: list[dict], judges: list[dict]) -> TaskPart:
    """What the task's rankings in one view give: its human figures, its judges against them, its
    translation group's scores and its rows in the lists."""
    result = TaskPart(campaign_id=task.campaign_id, language=task.language, annotations=len(facts))
    part: dict = {}
    people = {str(f["annotator_id"]): f["ranking"] for f in facts}
    if judges:
        part["judges"] = {}
        for label in judges:
            _add_judge(part["judges"].setdefault(label["origin"], {}), label["ranking"], people)
    if facts:
        counts = comparison_counts(people) if len(people) > 1 else None
        part.update(_human_part(task, facts, people, counts))
        result.groups = _group_scores(task, facts)
        result.row = _task_row(task, facts, counts)
        flagged = _flagged(facts)
        if flagged:
            result.row["flagged"] = flagged
            result.flag_count = sum(flagged["flags"].values())
        misses = _misses(task, facts)
        if misses:
            result.row["misses"] = misses
            result.miss_count = len(misses)
    result.part = part
    return result


def _inc(target: dict, key: str, value: float) -> None:
    if value:
        target[key] = target.get(key, 0) + value


def _add_judge(entry: dict, ranking: list, people: dict[str, list]) -> None:
    """judges.py's _row, for one of the judge's labels."""
    _inc(entry, "labelled", 1)
    if not people:
        return
    agreed, compared, abstained = judge_pair_agreement(judge=ranking, humans=list(people.values()))
    for key, value in (
        ("tasks", 1),
        ("n_tasks", compared > 0),
        ("agreed", agreed),
        ("compared", compared),
        ("abstained", abstained),
    ):
        _inc(entry, key, int(value))
    matrix = coincidences({**people, JUDGE_RATER: ranking})
    if matrix:
        entry["o"] = add(entry.get("o", {}), matrix)


def _anchoring(task: _Task, annotations: list[dict]) -> dict:
    """judges.anchoring's counts for this task, per judge: live rankings submitted with a suggestion
    (kept unchanged, agreement with it), and, when the campaign's judge ranked the task and holds it out,
    the live rankings given without one (equal to the judge's, agreement with it)."""
    live = [a for a in annotations if a["source"] == sources.ASSIGNED]
    result: dict[str, dict] = {}
    for item in live:
        if item["suggested_by"]:
            _add_pair(result.setdefault(item["suggested_by"], {}), "suggested", item["ranking"], item["suggestion"])
    judge = task.suggestion_judge
    if judge and any(a["suggestion"] is None for a in live) and held_out(task.pk, judge, task.holdout):
        judged = next(
            (a["ranking"] for a in annotations if a["source"] == sources.Source.JUDGE and a["origin"] == judge), None
        )
        if judged is not None:
            for item in live:
                if item["suggestion"] is None:
                    _add_pair(result.setdefault(judge, {}), "held_out", item["ranking"], judged)
    return result


def _add_pair(entry: dict, kind: str, ranking: list, model: list) -> None:
    same, compared, _people = comparison_counts({"person": ranking, JUDGE_RATER: model})
    _inc(entry, kind, 1)
    _inc(entry, f"{kind}_equal", int(same_ranking(ranking, model)))
    _inc(entry, f"{kind}_same", same)
    _inc(entry, f"{kind}_pairs", compared)


def _human_part(task: _Task, facts: list[dict], people: dict[str, list], counts: tuple | None) -> dict:
    part: dict = {"annotations": len(facts)}
    per: dict[str, dict] = {str(f["annotator_id"]): {"n": 0} for f in facts}
    for fact in facts:
        who = per[str(fact["annotator_id"])]
        who["n"] += 1
        if fact["seconds"] is not None:
            who.setdefault("sec", {})
            _inc(who["sec"], seconds_bin(fact["seconds"]), 1)
        if task.gold is not None:
            top = fact["ranking"][0]
            who["gold_n"] = who.get("gold_n", 0) + 1
            _inc(who, "gold", 1 / len(top) if task.gold in top else 0.0)
    if counts is not None:
        part["tasks"] = 1
        part["o"] = coincidences(people)
        same, total, by_annotator = counts
        _inc(part, "same", same)
        _inc(part, "pairs", total)
        for who, (agreed, compared) in by_annotator.items():
            _inc(per[who], "same", agreed)
            _inc(per[who], "pairs", compared)
    part["people"] = per
    bias: dict = {}
    for fact in facts:
        if fact["suggested_by"] or not fact["display_order"]:
            continue
        top = fact["ranking"][0]
        _inc(bias, "n", 1)
        _inc(bias, "credit", 1 / len(top) if fact["display_order"][0] in top else 0.0)
        _inc(bias, "chance", 1 / sum(len(group) for group in fact["ranking"]))
    if bias:
        part["bias"] = bias
    return part


def _group_scores(task: _Task, facts: list[dict]) -> dict:
    """review.consistency_rows' scores: {"score": {model: sum}, "count": {model: n}}."""
    models = task.models
    if not task.group or not models or not all(models):
        return {}
    score: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for fact in facts:
        ranks = rank_positions(ranking=fact["ranking"], n=len(models))
        for position, model in enumerate(models):
            score[model] += len(models) + 1 - ranks[position]
            count[model] += 1
    return {"group": task.group, "score": dict(score), "count": dict(count)}


def _task_row(task: _Task, facts: list[dict], counts: tuple | None) -> dict:
    """review.task_results' row, less what is read with the page (prompt, gold)."""
    n = len(task.models) or sum(len(rank) for rank in facts[0]["ranking"])
    agg = aggregate(n, [Vote(f["ranking"], tuple(f["flags"])) for f in facts])
    best = agg.best() if agg.n else None
    return {
        "best": best,
        "best_model": task.models[best] if best is not None and best < len(task.models) else "",
        "agreement": counts[0] / counts[1] if counts and counts[1] else None,
        "excluded": agg.excluded,
        "gold": task.gold,
    }


def _flagged(facts: list[dict]) -> dict | None:
    if not any(f["flags"] for f in facts):
        return None
    flags: dict[str, int] = {}
    for fact in facts:
        for flag in fact["flags"]:
            flags[flag] = flags.get(flag, 0) + 1
    notes = [{"annotator": f["annotator_id"], "flags": f["flags"], "rationale": f["rationale"]} for f in facts]
    return {"flags": flags, "notes": notes}


def _misses(task: _Task, facts: list[dict]) -> list[dict]:
    if task.gold is None:
        return []
    return [{"annotator": f["annotator_id"], "top": f["ranking"][0]} for f in facts if f["ranking"][0] != [task.gold]]
