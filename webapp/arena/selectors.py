"""Arena reads: enrolled variants, the votes that count for ratings, leaderboards (cached per
process until a vote changes) and the staff statistics."""

import threading
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from webapp.arena import ratings
from webapp.arena.models import Battle, ExcludedClient, Vote
from webapp.feedback.models import Language
from webapp.modelstore.models import ModelVariant, VariantKind, VariantStatus

OUTCOME_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}  # both bad counts as a tie
# A weak Gaussian prior (sd 10 natural units, ~4300 points) keeps a variant that won or lost every
# game at a finite rating; with a hundred votes it moves a rating by well under a point.
RATING_L2 = 0.01


def enrolled_variants() -> QuerySet[ModelVariant]:
    return ModelVariant.objects.filter(enrolled_in_arena=True, status=VariantStatus.READY).select_related("parent")


def arena_languages() -> list[Language]:
    return list(Language.objects.all())


def rating_votes(language: str | None = None) -> QuerySet[Vote]:
    """Votes that count: not excluded, cast without knowing who answered, record not deleted."""
    votes = Vote.objects.filter(excluded=False, identity_revealed=False, preference__deleted_at__isnull=True)
    if language:
        votes = votes.filter(language_id=language)
    return votes


@dataclass(frozen=True)
class Fit:
    """A language's ratings: the leaderboard rows, and the covariance of the fitted ratings (natural
    units) over `variant_ids`, which is what battle sampling needs."""

    rows: list[dict]
    variant_ids: list[int]
    covariance: np.ndarray


_cache: dict[str, tuple[tuple, Fit]] = {}
_cache_lock = threading.Lock()


def rating_fit(language: str | None = None) -> Fit:
    """The fit for one language (all when None), recomputed only when the counting votes changed
    (their count, largest id and id sum); cached per process."""
    votes = rating_votes(language)
    state = tuple(votes.aggregate(n=Count("id"), last=Max("id"), ids=Sum("id")).values())
    key = language or ""
    with _cache_lock:
        cached = _cache.get(key)
    if cached and cached[0] == state:
        return cached[1]
    fit = _compute(votes)
    with _cache_lock:
        _cache[key] = (state, fit)
    return fit


def leaderboard(language: str | None = None) -> list[dict]:
    """Rows best first: variant, variant_id, rating, ci_low, ci_high, votes."""
    return rating_fit(language).rows


def _compute(votes: QuerySet[Vote]) -> Fit:
    data = list(votes.values_list("variant_a_id", "variant_b_id", "outcome"))
    if not data:
        return Fit([], [], np.zeros((0, 0)))
    ids = sorted({v for a, b, _ in data for v in (a, b)})
    index = {variant: i for i, variant in enumerate(ids)}
    a = np.array([index[row[0]] for row in data])
    b = np.array([index[row[1]] for row in data])
    outcome = np.array([OUTCOME_SCORE[row[2]] for row in data])
    wins, ties = ratings.tally(a, b, outcome, len(ids))
    variants = ModelVariant.objects.in_bulk(ids)
    anchor = _anchor([variants[i] for i in ids])
    anchor_index = None if anchor is None else index[anchor.pk]
    point = ratings.fit(wins, ties, anchor=anchor_index, l2=RATING_L2)
    table = ratings.leaderboard(
        wins, ties, anchor=anchor_index, rounds=settings.ARENA_BOOTSTRAP_ROUNDS, l2=RATING_L2, point=point
    )
    rows = [
        {
            "variant": variants[ids[row.index]].name,
            "variant_id": ids[row.index],
            "rating": round(row.rating, 1),
            "ci_low": round(row.ci_low, 1),
            "ci_high": round(row.ci_high, 1),
            "votes": row.votes,
        }
        for row in table
    ]
    return Fit(rows, ids, ratings.covariance(wins, ties, point, anchor=anchor_index, l2=RATING_L2))


def _anchor(rated: list[ModelVariant]) -> ModelVariant | None:
    """ARENA_ANCHOR when it is rated, else the oldest rated base model, else none (mean at 1000)."""
    named = [v for v in rated if v.name == settings.ARENA_ANCHOR]
    bases = sorted((v for v in rated if v.kind == VariantKind.BASE), key=lambda v: (v.created_at, v.pk))
    found = named or bases
    return found[0] if found else None


def lineage(variant: ModelVariant) -> str:
    """One line for the leaderboard: what the variant was made from, by which job, on what data."""
    if variant.parent is None:
        return f"{variant.kind} model" + (f" ({variant.source})" if variant.source else "")
    facts = [f"{variant.kind} on {variant.parent.name}"]
    info = variant.lineage or {}
    if info.get("job"):
        facts.append(f"job {info['job']}")
    data = info.get("data") or {}
    if data.get("train_rows"):
        facts.append(f"{data['train_rows']} training rows")
    if data.get("by_language"):
        facts.append("languages " + ", ".join(sorted(data["by_language"])))
    return ", ".join(facts)


def leaderboard_with_lineage(language: str | None = None) -> list[dict]:
    rows = leaderboard(language)
    variants = ModelVariant.objects.select_related("parent").in_bulk([row["variant_id"] for row in rows])
    return [{**row, "lineage": lineage(variants[row["variant_id"]])} for row in rows]


def arena_statistics(*, days: int = 14, top_clients: int = 20) -> dict:
    since = timezone.now() - timedelta(days=days)
    votes = Vote.objects.all()
    return {
        "battles": Battle.objects.count(),
        "votes": votes.count(),
        "counted": rating_votes().count(),
        "revealed": votes.filter(identity_revealed=True).count(),
        "excluded_votes": votes.filter(excluded=True).count(),
        "by_language": list(votes.values("language_id").annotate(n=Count("id")).order_by("-n")),
        "by_outcome": list(votes.values("outcome").annotate(n=Count("id")).order_by("-n")),
        "by_day": list(
            votes.filter(created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("id"))
            .order_by("day")
        ),
        "clients": list(
            votes.values("client_hash")
            .annotate(n=Count("id"), excluded=Count("id", filter=Q(excluded=True)), last=Max("created_at"))
            .order_by("-n")[:top_clients]
        ),
        "exclusions": list(ExcludedClient.objects.select_related("excluded_by").order_by("-created_at")),
    }
