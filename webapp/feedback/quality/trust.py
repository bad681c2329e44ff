"""Per annotator and language: agreement with the others, gold accuracy, speed, skip rate, and the
trust score built from them (webapp/feedback/quality/agreement.py holds the maths; this module reads the
database once and hands the maths plain data). Pair derivation and training weigh annotations by
`trust_weights()` (read from the review summary); the review page shows `annotator_quality()`."""

import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback import sources
from webapp.feedback.models import Annotation, Skip
from webapp.feedback.quality.agreement import annotator_agreement, gold_accuracy, trust_scores


@dataclass(frozen=True)
class Fact:
    """One annotation with what the statistics need of its task."""

    task_id: int
    campaign: str
    language: str
    group: str
    annotator_id: int
    annotator: str
    ranking: list
    flags: list
    display_order: list
    seconds: float | None
    gold: int | None
    rationale: str
    suggested_by: str = ""  # the judge whose ranking was its starting order (services/suggestions.py)


@dataclass(frozen=True)
class AnnotatorQuality:
    annotator_id: int
    annotator: str
    language: str
    annotations: int
    agreement: float | None
    gold_items: int
    gold_accuracy: float | None
    median_seconds: float | None
    skips: int
    skip_rate: float
    trust: float


def human_source(source: str | None) -> tuple[str, ...]:
    """The sources a quality report reads: the human ones (sources.HUMAN), or the one of them named."""
    if source in (None, ""):
        return sources.HUMAN
    if source not in sources.HUMAN:
        raise ApplicationError(
            _("source must be one of %(choices)s (judges never count as human)") % {"choices": ", ".join(sources.HUMAN)}
        )
    return (source,)


def load_facts(*, campaign_id: int | None = None, language: str | None = None, source: str | None = None) -> list[Fact]:
    """Rankings that count as human (annotation and import; `source` narrows to one), never a judge's."""
    rows = Annotation.objects.filter(
        task__deleted_at__isnull=True, task__campaign__deleted_at__isnull=True, source__in=human_source(source)
    )
    if campaign_id is not None:
        rows = rows.filter(task__campaign_id=campaign_id)
    if language:
        rows = rows.filter(task__language_id=language)
    values = rows.order_by("id").values_list(
        "task_id",
        "task__campaign__name",
        "task__language_id",
        "task__prompt__group",
        "annotator_id",
        "annotator__username",
        "ranking",
        "flags",
        "display_order",
        "seconds",
        "task__gold_position",
        "rationale",
        "suggested_by",
    )
    return [Fact(*row) for row in values.iterator(chunk_size=5000)]


def load_skips(
    *, campaign_id: int | None = None, language: str | None = None, source: str | None = None
) -> dict[tuple[str, int], int]:
    """(language, annotator id) -> number of tasks skipped (skips are live annotators' only)."""
    if sources.ASSIGNED not in human_source(source):
        return {}
    rows = Skip.objects.filter(task__deleted_at__isnull=True)
    if campaign_id is not None:
        rows = rows.filter(task__campaign_id=campaign_id)
    if language:
        rows = rows.filter(task__language_id=language)
    counted = rows.values_list("task__language_id", "annotator_id").annotate(n=Count("id")).order_by()
    return {(lang, annotator): n for lang, annotator, n in counted}


def rankings_by_task(facts: list[Fact]) -> dict[int, dict[str, list]]:
    """task id -> {annotator id as str: ranking}, the form agreement.py takes."""
    tasks: dict[int, dict[str, list]] = defaultdict(dict)
    for fact in facts:
        tasks[fact.task_id][str(fact.annotator_id)] = fact.ranking
    return tasks


def annotator_quality(facts: list[Fact], skips: dict[tuple[str, int], int]) -> list[AnnotatorQuality]:
    """One row per (annotator, language) that annotated or skipped, best trust first."""
    by_language: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_language[fact.language].append(fact)
    for language, _count in skips:
        by_language.setdefault(language, [])
    rows = []
    for language, language_facts in by_language.items():
        rows.extend(_language_quality(language, language_facts, skips))
    return sorted(rows, key=lambda r: (r.language, -r.trust, r.annotator))


def _language_quality(language: str, facts: list[Fact], skips: dict) -> list[AnnotatorQuality]:
    multi = [t for t in rankings_by_task(facts).values() if len(t) > 1]
    agreement = annotator_agreement(tasks=multi) if multi else {}
    gold_items = [(str(f.annotator_id), f.ranking, f.gold) for f in facts if f.gold is not None]
    gold = gold_accuracy(annotations=gold_items)
    names = {str(f.annotator_id): f.annotator for f in facts}
    done: dict[str, int] = defaultdict(int)
    seconds: dict[str, list[float]] = defaultdict(list)
    for fact in facts:
        done[str(fact.annotator_id)] += 1
        if fact.seconds is not None:
            seconds[str(fact.annotator_id)].append(fact.seconds)
    skipped = {str(a): n for (lang, a), n in skips.items() if lang == language}
    people = set(done) | set(skipped)
    skip_rate = {a: skipped.get(a, 0) / (skipped.get(a, 0) + done[a]) for a in people}
    medians = {a: statistics.median(s) for a, s in seconds.items() if s}
    trust = trust_scores(agreement=agreement, gold=gold, skip_rate=skip_rate, median_seconds=medians)
    if any(a not in names for a in people):
        from django.contrib.auth.models import User

        names.update({str(pk): name for pk, name in User.objects.filter(pk__in=people).values_list("pk", "username")})
    return [
        AnnotatorQuality(
            annotator_id=int(a),
            annotator=names[a],
            language=language,
            annotations=done[a],
            agreement=agreement.get(a),
            gold_items=sum(1 for who, _, _ in gold_items if who == a),
            gold_accuracy=gold.get(a),
            median_seconds=medians.get(a),
            skips=skipped.get(a, 0),
            skip_rate=skip_rate[a],
            trust=trust[a],
        )
        for a in people
    ]


def trust_weights() -> dict[tuple[int, str], float]:
    """(annotator id, language) -> trust weight, the form PairPolicy takes: read from the review summary
    (quality/summary.py; equal to `annotator_quality(load_facts(), load_skips())` as of its fold), so its cost
    is the number of annotators, not of annotations."""
    from webapp.feedback.quality.summary import summary_trust_weights  # summary.py imports this module

    return summary_trust_weights()
