"""What the home page shows: where the loop stands. Tasks open and done, annotations, agreement and
preference records by source per language (read from the review summary, webapp/feedback/quality/summary.py,
so their cost does not grow with the store; the page shows their as-of time), the latest training jobs, the
variants with their arena ratings. Computed at most every CACHE_SECONDS per process."""

from collections import defaultdict

from django.core.cache import cache

from webapp.feedback.models import Language
from webapp.feedback.quality.summary import summary_overview

CACHE_SECONDS = 30
CACHE_KEY = "dashboard:loop-status"


def loop_status() -> dict:
    status = cache.get(CACHE_KEY)
    if status is None:
        status = _compute()
        cache.set(CACHE_KEY, status, CACHE_SECONDS)
    return status


def _compute() -> dict:
    from webapp.arena.selectors import leaderboard
    from webapp.modelstore.models import ModelVariant, VariantStatus
    from webapp.training.models import TrainingJob

    overview = summary_overview()
    by_language: dict[str, dict] = defaultdict(dict)
    for code, figures in overview.languages.items():
        by_language[code].update(figures)
    for code, counts in overview.records.items():
        by_language[code]["records"] = counts
    overall = overview.agreement
    names = dict(Language.objects.filter(code__in=by_language).values_list("code", "name"))
    languages = [
        {"code": code, "name": names.get(code, code), **{"tasks": 0, "open": 0, "done": 0, "annotations": 0}, **values}
        for code, values in sorted(by_language.items())
    ]
    ratings = {row["variant_id"]: row for row in leaderboard()}
    variants = [
        {
            "id": v.pk,
            "name": v.name,
            "kind": v.kind,
            "parent": v.parent.name if v.parent else "",
            "enrolled": v.enrolled_in_arena,
            "rating": ratings.get(v.pk),
        }
        for v in ModelVariant.objects.filter(status=VariantStatus.READY).select_related("parent").order_by("created_at")
    ]
    jobs = [
        {"id": j.pk, "kind": j.kind, "status": j.status, "variant": j.variant.name if j.variant else ""}
        for j in TrainingJob.objects.select_related("variant").order_by("-id")[:5]
    ]
    return {
        "languages": languages,
        "agreement": {"alpha": overall.alpha, "pairwise": overall.pairwise, "tasks": overall.tasks},
        "annotations": overall.annotations,
        "tasks": sum(row["tasks"] for row in languages),
        "records": sum(n for counts in overview.records.values() for n in counts.values()),
        "variants": variants,
        "jobs": jobs,
        "before_after": before_after(),
        "as_of": overview.as_of,
        "pending": overview.pending,
    }


def before_after() -> dict | None:
    """The latest variant with an evaluation by generation: fidelity over its trained (measurable)
    languages, parent then new variant, and the paired difference; None when no variant has one."""
    from webapp.modelstore.models import ModelVariant, VariantStatus

    variant = (
        ModelVariant.objects.filter(status=VariantStatus.READY, metrics__evaluation__has_key="generation")
        .order_by("-created_at", "-id")
        .first()
    )
    if variant is None:
        return None
    generation = variant.metrics["evaluation"]["generation"]
    rows = [r for r in generation.get("languages", []) if not r["unseen"] and r["parent"]["fidelity"] is not None]
    n = sum(r["n"] for r in rows)
    if not n or not generation.get("pooled_trained"):
        return None
    return {
        "id": variant.pk,
        "name": variant.name,
        "parent": generation["parent"],
        "n": n,
        "parent_fidelity": sum(r["parent"]["fidelity"] * r["n"] for r in rows) / n,
        "child_fidelity": sum(r["child"]["fidelity"] * r["n"] for r in rows) / n,
        "languages": [r["language"] for r in rows],
        "pooled": generation["pooled_trained"],
    }
