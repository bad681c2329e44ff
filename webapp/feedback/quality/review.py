"""The review report: agreement per campaign and language, annotator quality, judges against the
human consensus, gold misses, cross-lingual consistency, position bias, flagged items and each task's
aggregated result. Reads only; the maths is in agreement.py and pairs.py (the same aggregation
exports use)."""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from webapp.feedback.formats.pairs import Vote, aggregate
from webapp.feedback.models import Task, TaskResponse
from webapp.feedback.quality.agreement import (
    cross_lingual_consistency,
    krippendorff_alpha_ordinal,
    pairwise_agreement_rate,
    position_bias,
    rank_positions,
)
from webapp.feedback.quality.judges import Anchoring, JudgeAgreement, anchoring, judge_agreement
from webapp.feedback.quality.trust import (
    Fact,
    annotator_quality,
    human_source,
    load_facts,
    load_skips,
    rankings_by_task,
)

TASK_ROWS = 200


@dataclass(frozen=True)
class AgreementRow:
    campaign: str  # "" for every campaign
    language: str  # "" for every language
    tasks: int  # tasks with two or more annotations (the ones agreement is measured on)
    annotations: int
    alpha: float | None
    pairwise: float | None


@dataclass
class Report:
    agreement: list[AgreementRow] = field(default_factory=list)
    annotators: list = field(default_factory=list)
    gold_misses: list[dict] = field(default_factory=list)
    consistency: list[dict] = field(default_factory=list)
    position_bias: list[dict] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    judges: list[JudgeAgreement] = field(default_factory=list)
    anchoring: list[Anchoring] = field(default_factory=list)
    # Read from the summary (quality/summary.py): the time the figures are from (now when nothing is
    # pending, else the last fold's), the rows inserted since and not yet in them, and each list's cursor
    # to its next page (None: the last page).
    as_of: datetime | None = None
    pending: int = 0
    next: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "agreement": [asdict(row) for row in self.agreement],
            "annotators": [asdict(row) for row in self.annotators],
            "gold_misses": self.gold_misses,
            "consistency": self.consistency,
            "position_bias": self.position_bias,
            "flagged": self.flagged,
            "tasks": self.tasks,
            # One key for everything about judges: agreement with people, and anchoring on suggestions.
            "judges": {
                "agreement": [row.as_dict() for row in self.judges],
                "anchoring": [row.as_dict() for row in self.anchoring],
            },
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "pending": self.pending,
            "next": self.next,
        }


def review_report(*, campaign_id: int | None = None, language: str | None = None, source: str | None = None) -> Report:
    """Over the rankings that count as human (live annotations and imported rankings), or the one
    source named (`annotation` or `import`); judges are compared with the consensus of those."""
    facts = load_facts(campaign_id=campaign_id, language=language, source=source)
    labels = _response_labels({f.task_id for f in facts})
    skips = load_skips(campaign_id=campaign_id, language=language, source=source)
    return Report(
        agreement=agreement_rows(facts),
        annotators=annotator_quality(facts, skips),
        gold_misses=gold_misses(facts),
        consistency=consistency_rows(facts, labels),
        position_bias=[
            {"language": lang, **row}
            for lang, row in sorted(
                # A suggested starting order is not a random display order: those rankings are left out.
                position_bias(
                    items=[(f.language, f.display_order, f.ranking) for f in facts if not f.suggested_by]
                ).items()
            )
        ],
        flagged=flagged_items(facts),
        tasks=task_results(facts, labels),
        judges=judge_agreement(campaign_id=campaign_id, language=language, human_sources=human_source(source)),
        anchoring=[] if source == "import" else anchoring(campaign_id=campaign_id, language=language),
    )


def _agreement(campaign: str, language: str, facts: list[Fact]) -> AgreementRow:
    multi = [t for t in rankings_by_task(facts).values() if len(t) > 1]
    return AgreementRow(
        campaign=campaign,
        language=language,
        tasks=len(multi),
        annotations=len(facts),
        alpha=krippendorff_alpha_ordinal(tasks=multi) if multi else None,
        pairwise=pairwise_agreement_rate(tasks=multi) if multi else None,
    )


def agreement_rows(facts: list[Fact]) -> list[AgreementRow]:
    """Overall first, then per campaign, then per campaign and language."""
    by_campaign: dict[str, list[Fact]] = defaultdict(list)
    by_both: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for fact in facts:
        by_campaign[fact.campaign].append(fact)
        by_both[(fact.campaign, fact.language)].append(fact)
    rows = [_agreement("", "", facts)]
    rows += [_agreement(c, "", group) for c, group in sorted(by_campaign.items())]
    rows += [_agreement(c, lang, group) for (c, lang), group in sorted(by_both.items())]
    return rows


def gold_misses(facts: list[Fact]) -> list[dict]:
    """Annotations of gold items whose top rank does not hold the gold response alone."""
    return [
        {
            "task": f.task_id,
            "language": f.language,
            "annotator": f.annotator,
            "top": f.ranking[0],
            "gold": f.gold,
        }
        for f in facts
        if f.gold is not None and f.ranking[0] != [f.gold]
    ]


@dataclass(frozen=True)
class _Labels:
    """Per task: the prompt text and, per stored position, the name of the model that wrote the
    response (a generated response carries its variant's name; an imported one, the file's)."""

    prompt: dict[int, str]
    models: dict[int, list[str]]


def _response_labels(task_ids: set[int]) -> _Labels:
    models: dict[int, list[str]] = defaultdict(list)
    items = (
        TaskResponse.objects.filter(task_id__in=task_ids)
        .order_by("task_id", "position")
        .values_list("task_id", "response__model_name")
    )
    for task_id, model_name in items.iterator(chunk_size=5000):
        models[task_id].append(model_name or "")
    prompts = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "prompt__text"))
    return _Labels(prompt=prompts, models=models)


def consistency_rows(facts: list[Fact], labels: _Labels) -> list[dict]:
    """For each translation group: per language, each model's mean score over its responses in the
    group's tasks, score = n + 1 - rank position (higher is better, ties share their mean); then
    agreement.cross_lingual_consistency between every two languages of the group."""
    scores: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for fact in facts:
        models = labels.models.get(fact.task_id, [])
        if not fact.group or not models or not all(models):
            continue
        ranks = rank_positions(ranking=fact.ranking, n=len(models))
        for position, model in enumerate(models):
            scores[fact.group][fact.language][model].append(len(models) + 1 - ranks[position])
    groups = {
        group: {
            language: {model: sum(values) / len(values) for model, values in by_model.items()}
            for language, by_model in languages.items()
        }
        for group, languages in scores.items()
        if len(languages) > 1
    }
    return [
        {**row, "flipped": [list(pair) for pair in row["flipped"]]} for row in cross_lingual_consistency(groups=groups)
    ]


def flagged_items(facts: list[Fact]) -> list[dict]:
    tasks: dict[int, dict] = {}
    for fact in facts:
        if fact.flags:
            tasks.setdefault(fact.task_id, {"task": fact.task_id, "language": fact.language, "flags": {}, "notes": []})
    for fact in facts:  # every annotation of a flagged task, with its rationale, flagged or not
        row = tasks.get(fact.task_id)
        if row is None:
            continue
        for flag in fact.flags:
            row["flags"][flag] = row["flags"].get(flag, 0) + 1
        row["notes"].append({"annotator": fact.annotator, "flags": fact.flags, "rationale": fact.rationale})
    return sorted(tasks.values(), key=lambda r: (-sum(r["flags"].values()), r["task"]))


def task_results(facts: list[Fact], labels: _Labels) -> list[dict]:
    """The aggregated result of each annotated task (newest first, at most TASK_ROWS): the best
    response by pairs.aggregate (Copeland, then mean rank) and the task's pairwise agreement."""
    by_task: dict[int, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_task[fact.task_id].append(fact)
    rows = []
    for task_id in sorted(by_task, reverse=True)[:TASK_ROWS]:
        task_facts = by_task[task_id]
        models = labels.models.get(task_id, [])
        n = len(models) or sum(len(rank) for rank in task_facts[0].ranking)
        agg = aggregate(n, [Vote(f.ranking, tuple(f.flags)) for f in task_facts])
        multi = {str(f.annotator_id): f.ranking for f in task_facts}
        best = agg.best() if agg.n else None
        rows.append(
            {
                "task": task_id,
                "language": task_facts[0].language,
                "prompt": labels.prompt.get(task_id, "")[:160],
                "annotations": len(task_facts),
                "best": best,
                "best_model": models[best] if best is not None and best < len(models) else "",
                "gold": task_facts[0].gold,
                "agreement": pairwise_agreement_rate(tasks=[multi]) if len(multi) > 1 else None,
                "excluded": agg.excluded,
            }
        )
    return rows
