"""Arena reads: enrolled variants, the votes that count for ratings, leaderboards (cached per
process until a vote changes) and the staff statistics."""

import itertools
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import MD5, Lower, Trim
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from webapp.arena import hygiene, ratings, style_ratings
from webapp.arena.models import ArenaFit, ExcludedClient, ExternalVariant, PromptGroup, Vote
from webapp.arena.tallies import arena_summary, arena_token
from webapp.feedback.models import Language
from webapp.feedback.sources import ORIGIN_LOCAL
from webapp.modelstore.models import ModelVariant, VariantKind, VariantStatus
from webapp.queue import send_task

OUTCOME_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}  # both bad counts as a tie
# A weak Gaussian prior (sd 10 natural units, ~4300 points) keeps a variant that won or lost every
# game at a finite rating; with a hundred votes it moves a rating by well under a point.
RATING_L2 = 0.01


# Which votes a board counts: the arena's own (the default), those imported from battle logs, or both.
LOCAL, IMPORTED, ALL = "local", "imported", "all"
ORIGINS = (LOCAL, IMPORTED, ALL)


def enrolled_variants() -> QuerySet[ModelVariant]:
    """Variants a live battle may draw: enrolled, ready, and never an imported log's external model."""
    ready = ModelVariant.objects.filter(enrolled_in_arena=True, status=VariantStatus.READY, external__isnull=True)
    return ready.select_related("parent")


def arena_languages() -> list[Language]:
    return list(Language.objects.all())


def language_direction(code: str) -> str:
    """`rtl` or `ltr`: how texts in the language `code` are laid out (unknown codes: `ltr`)."""
    direction = Language.objects.filter(code=code).values_list("direction", flat=True).first()
    return direction or "ltr"


def rating_votes(language: str | None = None, *, origin: str = LOCAL) -> QuerySet[Vote]:
    """Votes that may count: not excluded, cast without knowing who answered, record not deleted (an imported
    multi-turn battle has none), of the `origin` asked for (ORIGINS). Of these, vote hygiene
    (`vote_hygiene().left_out`) leaves out anomalous voters' and high-frequency prompts' extra votes."""
    votes = Vote.objects.filter(excluded=False, identity_revealed=False, preference__deleted_at__isnull=True)
    if origin == LOCAL:
        votes = votes.filter(origin=ORIGIN_LOCAL)
    elif origin == IMPORTED:
        votes = votes.exclude(origin=ORIGIN_LOCAL)
    if language:
        votes = votes.filter(language_id=language)
    return votes


@dataclass(frozen=True)
class Hygiene:
    """What vote hygiene leaves out of the ratings (the votes stay stored, in exports and in training data):
    every vote of an anomalous client, and the votes of a high-frequency prompt beyond ARENA_PROMPT_CAP."""

    checks: list[hygiene.ClientCheck]
    capped: frozenset[int]
    capped_prompts: int
    left_out: frozenset[int]

    @property
    def anomalous(self) -> list[hygiene.ClientCheck]:
        return [check for check in self.checks if check.anomalous]


def vote_hygiene(*, fresh: bool = False) -> Hygiene:
    """The anomalous-voter test and the prompt cap over every vote that may count (all languages, local and
    imported), recomputed only when the arena's change token or the settings change (webapp/arena/tallies.py);
    cached per process and in `ArenaFit` for the others. A recent older one may be served while the sweep
    refits (`_cached`), unless `fresh`."""
    key = (*HYGIENE_KEY, settings.ARENA_OUTLIER_MIN_VOTES, settings.ARENA_OUTLIER_ALPHA, settings.ARENA_PROMPT_CAP)
    compute = lambda: _compute_hygiene(rating_votes(origin=ALL))  # noqa: E731
    return _cached(key, arena_token(), Hygiene, compute, fresh=fresh, refit=["hygiene"])


_asked: dict[tuple, float] = {}  # key: when this process last asked the sweep to refit it (time.monotonic)
ASK_AGAIN_SECONDS = 10.0


def _cached(key: tuple, token: int, kind: type, compute: Callable[[], Any], *, fresh: bool, refit: list) -> Any:
    """The value stored under `key` at `token`: this process's, else another process's (`ArenaFit`). Else, when
    one computed less than ARENA_REFIT_SECONDS ago at an earlier token is stored (and not `fresh`), that one,
    and the sweep is asked to refit (`refit`: the task's arguments); else computed now and stored for both."""
    with _cache_lock:
        cached = _cache.get(key)
    if cached and cached[0] == token and isinstance(cached[1], kind):
        return cached[1]
    name = repr(key)
    row = ArenaFit.objects.filter(key=name).values_list("token", "payload", "computed_at").first()
    found = pickle.loads(row[1]) if row is not None else None  # noqa: S301 (written only by _cached below)
    if isinstance(found, kind) and row is not None and row[0] == token:
        with _cache_lock:
            _cache[key] = (token, found)
        return found
    window = settings.ARENA_REFIT_SECONDS
    if (
        isinstance(found, kind)
        and row is not None
        and not fresh
        and window
        and timezone.now() - row[2] < timedelta(seconds=window)
    ):
        if time.monotonic() - _asked.get(key, -ASK_AGAIN_SECONDS) >= ASK_AGAIN_SECONDS:
            _asked[key] = time.monotonic()
            send_task("workers.tasks.arena.refit", args=refit, queue="sweep")
        return found
    found = compute()
    if isinstance(found, Fit):
        found = replace(found, token=token, computed_at=timezone.now())
    ArenaFit.objects.update_or_create(key=name, defaults={"token": token, "payload": pickle.dumps(found)})
    with _cache_lock:
        _cache[key] = (token, found)
    return found


def _compute_hygiene(votes: QuerySet[Vote]) -> Hygiene:
    # the prompt as the voter wrote it, case and surrounding spaces aside
    keyed = votes.annotate(prompt_key=MD5(Lower(Trim("battle__prompt"))))
    data = list(keyed.values_list("variant_a_id", "variant_b_id", "outcome", "id", "client_hash", "prompt_key"))
    if not data:
        return Hygiene([], frozenset(), 0, frozenset())
    x = _indexed(data)
    checks = hygiene.anomalous_voters(
        x.a,
        x.b,
        x.outcome,
        [row[4] for row in data],
        len(x.ids),
        min_votes=settings.ARENA_OUTLIER_MIN_VOTES,
        alpha=settings.ARENA_OUTLIER_ALPHA,
        l2=RATING_L2,
    )
    flagged = {check.client for check in checks if check.anomalous}
    kept = [row for row in data if row[4] not in flagged]
    # A prompt's translations count as that prompt (webapp/arena/duplicates.py groups them).
    grouped = dict(PromptGroup.objects.values_list("prompt_key", "group_key"))
    keys = [grouped.get(row[5], row[5]) or "" for row in kept]
    capped = hygiene.capped_votes([row[3] for row in kept], keys, settings.ARENA_PROMPT_CAP)
    prompts = len({key for row, key in zip(kept, keys, strict=True) if row[3] in capped})
    left_out = capped | {row[3] for row in data if row[4] in flagged}
    return Hygiene(checks, frozenset(capped), prompts, frozenset(left_out))


PLAIN, CONTROL = "plain", "control"
BOOTSTRAP, SANDWICH = "bootstrap", "sandwich"
# The interval each board reports as ci_low/ci_high unless another is asked for: the plain board's bootstrap
# is cheap (counts per pair), the style-controlled one refits every vote, so it is computed only on request.
DEFAULT_CI = {PLAIN: BOOTSTRAP, CONTROL: SANDWICH}
STYLE_FIELDS = ("tokens", "headers", "lists", "bold", "in_language", "degenerate")
# ml.evaluation.style's measures under the names style control reports (length is in tokens)
FEATURE_OF = {"tokens": "length"}


@dataclass(frozen=True)
class Fit:
    """A language's ratings: the leaderboard rows, and the covariance of the fitted ratings (natural
    units) over `variant_ids`, which is what battle sampling needs; for each adjacent pair of rows the
    votes needed to separate them; and, style-controlled, the style coefficients."""

    rows: list[dict]
    variant_ids: list[int]
    covariance: np.ndarray
    votes_needed: list[dict] = field(default_factory=list)
    style: dict | None = None
    token: int = -1  # the arena's change token it was fitted at (webapp/arena/tallies.py)
    computed_at: datetime | None = None


_cache: dict[tuple, tuple[int, Any]] = {}  # key: (change token, Fit or Hygiene)
HYGIENE_KEY = ("hygiene",)
_cache_lock = threading.Lock()


def rating_fit(
    language: str | None = None, *, style: str = PLAIN, ci: str | None = None, origin: str = LOCAL, fresh: bool = False
) -> Fit:
    """The fit for one language (all when None), plain or style-controlled, with `ci` (bootstrap or
    sandwich; the board's default when None) as ci_low/ci_high, over the votes of `origin` (ORIGINS).
    Recomputed only when the arena's change token moves (any vote, exclusion, record deletion, style measure or
    prompt group: webapp/arena/tallies.py); cached per process and in `ArenaFit` for the others. Between
    changes and the sweep's refit, a fit computed less than ARENA_REFIT_SECONDS ago is served (`freshness`
    says how far behind), unless `fresh`."""
    ci = ci or DEFAULT_CI[style]
    votes = rating_votes(language, origin=origin)
    token = arena_token()
    key = (language or "", style, ci, origin, settings.ARENA_MIN_VOTES, settings.ARENA_ANCHOR)

    def compute() -> Fit:
        left_out = vote_hygiene(fresh=True).left_out
        return _compute_style(votes, ci, left_out) if style == CONTROL else _compute(votes, ci, left_out)

    return _cached(key, token, Fit, compute, fresh=fresh, refit=["fit", language or "", style, ci, origin])


def freshness(fit: Fit) -> dict[str, Any]:
    """How far a fit is behind the votes: `changes_since` (0: exact; else the changes since `as_of`, being
    refitted by the sweep) and `as_of` (when it was fitted)."""
    return {"as_of": fit.computed_at, "changes_since": max(arena_token() - fit.token, 0) if fit.token >= 0 else 0}


def leaderboard(
    language: str | None = None, *, style: str = PLAIN, ci: str | None = None, origin: str = LOCAL
) -> list[dict]:
    """Rows best first: variant, variant_id, rating, ci_low, ci_high, ci_method, sandwich, bootstrap,
    provisional, votes."""
    return rating_fit(language, style=style, ci=ci, origin=origin).rows


@dataclass(frozen=True)
class _Indexed:
    ids: list[int]
    variants: dict[int, ModelVariant]
    anchor: int | None
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray


def _indexed(data: list[tuple]) -> _Indexed:
    ids = sorted({v for row in data for v in row[:2]})
    index = {variant: i for i, variant in enumerate(ids)}
    variants = ModelVariant.objects.in_bulk(ids)
    anchor = _anchor([variants[i] for i in ids])
    return _Indexed(
        ids,
        variants,
        None if anchor is None else index[anchor.pk],
        np.array([index[row[0]] for row in data], dtype=np.intp),
        np.array([index[row[1]] for row in data], dtype=np.intp),
        np.array([OUTCOME_SCORE[row[2]] for row in data]),
    )


def _counted(rows: list[tuple], left_out: frozenset[int]) -> list[tuple]:
    """Rows whose first column is a vote id, without the votes hygiene leaves out, and without the id."""
    return [row[1:] for row in rows if row[0] not in left_out]


def _compute(votes: QuerySet[Vote], ci: str, left_out: frozenset[int]) -> Fit:
    data = _counted(list(votes.values_list("id", "variant_a_id", "variant_b_id", "outcome")), left_out)
    if not data:
        return Fit([], [], np.zeros((0, 0)))
    x = _indexed(data)
    wins, ties = ratings.tally(x.a, x.b, x.outcome, len(x.ids))
    point = ratings.fit(wins, ties, anchor=x.anchor, l2=RATING_L2)
    samples = ratings.bootstrap(
        wins, ties, rounds=settings.ARENA_BOOTSTRAP_ROUNDS, anchor=x.anchor, l2=RATING_L2, start=point
    )
    robust = ratings.sandwich(wins, ties, point, anchor=x.anchor, l2=RATING_L2)
    counted = (wins + wins.T).sum(axis=1) + ties.sum(axis=1)
    rows, needed = _board(x, point, counted, ci, robust, samples)
    return Fit(rows, x.ids, ratings.covariance(wins, ties, point, anchor=x.anchor, l2=RATING_L2), needed)


def _compute_style(votes: QuerySet[Vote], ci: str, left_out: frozenset[int]) -> Fit:
    columns = [f"style__{name}_{side}" for side in "ab" for name in STYLE_FIELDS]
    measured = votes.filter(style__isnull=False)
    data = _counted(list(measured.values_list("id", "variant_a_id", "variant_b_id", "outcome", *columns)), left_out)
    counting = len(_counted(list(votes.values_list("id")), left_out))
    style = {
        "coefficients": {},
        "tokenizers": sorted(set(measured.values_list("style__tokenizer", flat=True).distinct())),
        "unmeasured_votes": counting - len(data),
    }
    if not data:
        return Fit([], [], np.zeros((0, 0)), style=style)
    x = _indexed(data)
    raw = np.array([[0 if value is None else float(value) for value in row[3:]] for row in data])
    k = len(STYLE_FIELDS)
    side_a = {FEATURE_OF.get(name, name): raw[:, i] for i, name in enumerate(STYLE_FIELDS)}
    side_b = {FEATURE_OF.get(name, name): raw[:, k + i] for i, name in enumerate(STYLE_FIELDS)}
    matrix, names = style_ratings.features(side_a, side_b)
    sample = style_ratings.Votes(x.a, x.b, x.outcome, matrix, names, len(x.ids))
    theta = style_ratings.fit(sample, anchor=x.anchor, l2=RATING_L2)
    robust = style_ratings.sandwich(sample, theta, anchor=x.anchor, l2=RATING_L2)
    samples = None
    if ci == BOOTSTRAP:
        samples = style_ratings.bootstrap(
            sample, rounds=settings.ARENA_STYLE_BOOTSTRAP_ROUNDS, anchor=x.anchor, l2=RATING_L2, start=theta
        )
    n = len(x.ids)
    counted = np.bincount(x.a, minlength=n) + np.bincount(x.b, minlength=n)
    rows, needed = _board(x, theta[:n], counted, ci, robust[:n, :n], None if samples is None else samples[:, :n])
    style["coefficients"] = {name: round(float(value), 4) for name, value in zip(names, theta[n:], strict=True)}
    return Fit(rows, x.ids, robust[:n, :n], needed, style)


def _board(
    x: _Indexed, point: np.ndarray, counted: np.ndarray, ci: str, robust: np.ndarray, samples: np.ndarray | None
) -> tuple[list[dict], list[dict]]:
    """Leaderboard rows best first, and the votes needed between adjacent rows (from the covariance of
    the reported interval: the sandwich's, or the bootstrap samples')."""
    half = ratings.Z95 * np.sqrt(np.clip(np.diag(robust), 0, None))
    boot = None if samples is None else np.percentile(samples, [2.5, 97.5], axis=0)
    order = sorted(range(len(point)), key=lambda i: -point[i])
    rows = []
    for i in order:
        sandwich = {"low": _elo(point[i] - half[i]), "high": _elo(point[i] + half[i])}
        bootstrap = None if boot is None else {"low": _elo(boot[0][i]), "high": _elo(boot[1][i])}
        chosen = bootstrap if ci == BOOTSTRAP and bootstrap else sandwich
        provisional = int(counted[i]) < settings.ARENA_MIN_VOTES
        rows.append(
            {
                "variant": x.variants[x.ids[i]].name,
                "variant_id": x.ids[i],
                "rating": _elo(point[i]),
                "ci_low": None if provisional else chosen["low"],
                "ci_high": None if provisional else chosen["high"],
                "ci_method": ci,
                "sandwich": sandwich,
                "bootstrap": bootstrap,
                "provisional": provisional,
                "votes": int(counted[i]),
            }
        )
    covariance = robust if ci == SANDWICH or samples is None else np.atleast_2d(np.cov(samples, rowvar=False))
    needed = [
        {
            "higher": rows[k]["variant"],
            "lower": rows[k + 1]["variant"],
            "votes_needed": ratings.votes_needed(
                float(point[i] - point[j]),
                float(covariance[i, i] + covariance[j, j] - 2 * covariance[i, j]),
                int(counted.sum() // 2),
            ),
        }
        for k, (i, j) in enumerate(itertools.pairwise(order))
    ]
    return rows, needed


def _elo(r: float) -> float:
    return round(ratings.to_elo(r), 1)


def _anchor(rated: list[ModelVariant]) -> ModelVariant | None:
    """ARENA_ANCHOR when it is rated, else the oldest rated base model of our own (an imported log's external
    model only when ARENA_ANCHOR names it), else none (mean at 1000)."""
    named = [v for v in rated if v.name == settings.ARENA_ANCHOR]
    external = set(ExternalVariant.objects.filter(variant__in=rated).values_list("variant_id", flat=True))
    bases = sorted(
        (v for v in rated if v.kind == VariantKind.BASE and v.pk not in external), key=lambda v: (v.created_at, v.pk)
    )
    found = named or bases
    return found[0] if found else None


def lineage(variant: ModelVariant) -> str:
    """One line for the public leaderboard: what the variant was made from (its parent's name) and on what
    data (how many pairs or examples, in which languages), in the active language. Never a file path, a job
    or a database id: the lineage JSON keeps those for staff (the variant's page)."""
    if variant.parent is None and (variant.lineage or {}).get("external"):
        return _("external model, rated from an imported battle log")
    if variant.parent is None:
        return _("base model")
    parent = variant.parent.name
    if variant.kind == VariantKind.MERGED:
        return _("%(parent)s with its adapter merged in") % {"parent": parent}
    data = (variant.lineage or {}).get("data") or {}
    rows = data.get("train_rows") if isinstance(data.get("train_rows"), int) else None
    languages = ", ".join(sorted(str(code) for code in data.get("by_language") or {}))
    facts = {"kind": variant.kind.upper(), "parent": parent, "languages": languages}
    if not rows:
        return _("%(kind)s adapter on %(parent)s") % facts
    facts["count"] = number_format(rows, force_grouping=True)
    if variant.kind in (VariantKind.SFT, VariantKind.KTO) and languages:
        text = ngettext(
            "%(kind)s on %(count)s example in %(languages)s from %(parent)s",
            "%(kind)s on %(count)s examples in %(languages)s from %(parent)s",
            rows,
        )
    elif variant.kind in (VariantKind.SFT, VariantKind.KTO):
        text = ngettext(
            "%(kind)s on %(count)s example from %(parent)s", "%(kind)s on %(count)s examples from %(parent)s", rows
        )
    elif languages:
        text = ngettext(
            "%(kind)s on %(count)s pair in %(languages)s from %(parent)s",
            "%(kind)s on %(count)s pairs in %(languages)s from %(parent)s",
            rows,
        )
    else:
        text = ngettext(
            "%(kind)s on %(count)s pair from %(parent)s", "%(kind)s on %(count)s pairs from %(parent)s", rows
        )
    return text % facts


def leaderboard_with_lineage(language: str | None = None, *, style: str = PLAIN) -> list[dict]:
    return with_lineage(leaderboard(language, style=style))


def with_lineage(rows: list[dict]) -> list[dict]:
    """Leaderboard rows with each variant's public lineage line (in the active language)."""
    variants = ModelVariant.objects.select_related("parent").in_bulk([row["variant_id"] for row in rows])
    return [{**row, "lineage": lineage(variants[row["variant_id"]])} for row in rows]


def arena_statistics(*, days: int = 14, top_clients: int = 20) -> dict:
    """The statistics page's figures: the folded tallies (webapp/arena/tallies.py `arena_summary`: battles,
    votes, by language, outcome and day, the most active clients, as of when) with vote hygiene's findings."""
    found = vote_hygiene()
    summary = arena_summary(days=days, top_clients=top_clients)
    return {
        **summary,
        "counted": summary["counting"] - len(found.left_out),
        # left out of the ratings by vote hygiene (kept as data)
        "anomalous": found.anomalous,
        "anomalous_votes": len(found.left_out - found.capped),
        "capped_votes": len(found.capped),
        "capped_prompts": found.capped_prompts,
        "exclusions": list(ExcludedClient.objects.select_related("excluded_by").order_by("-created_at")),
    }
