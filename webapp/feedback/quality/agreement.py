"""Agreement and annotator-quality statistics for the review page. Pure functions: plain data in,
plain data out, nothing here touches the database.

Rankings follow `Annotation.ranking`: a list of ranks, best first, of response positions in stored
order; an inner list of several positions is a tie. A task's rankings are given as
`{annotator: ranking}`. Each function's docstring states the exact definition it computes.

* `rank_positions`: rank per response, ties sharing their mean position (as in `pairs.aggregate`).
* `krippendorff_alpha_ordinal`: alpha (ordinal) over (task, response) units valued by rank position.
* `pairwise_agreement_rate`, `annotator_agreement`: share of response pairs on which two annotators
  give the same relation (above, below or tied), overall and per annotator.
* `gold_accuracy`, `trust_scores`: how often an annotator puts the gold response on top, and a
  bounded trust score that combines agreement, gold accuracy, skipping and speed.
* `kendall_tau`, `cross_lingual_consistency`: do the variants of a translation group rank the same
  way in every language?
* `position_bias`: how often the first-displayed response wins, against the share expected by chance.
* `consensus_relations`, `judge_pair_agreement`, `wilson_interval`: a judge's strict preferences
  against the human consensus per response pair, and the interval of a share.
"""

from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations
from math import sqrt

import krippendorff
import numpy as np

Ranking = list[list[int]]
TaskRankings = dict[str, Ranking]

SKIP_RATE_LIMIT = 0.5
TRUST_FLOOR = 0.2
TRUST_CEILING = 1.0
UNKNOWN_AGREEMENT = 0.5


def rank_positions(*, ranking: Ranking, n: int) -> list[float]:
    """The rank of each of the `n` responses, 1 being best. Tied responses share the mean of the
    positions they span: [[0], [2, 1]] with n=3 gives [1.0, 2.5, 2.5]. Raises ValueError unless the
    ranking places every position 0..n-1 exactly once (stored rankings are checked on submission)."""
    ranks: dict[int, float] = {}
    placed = 0
    for group in ranking:
        shared = placed + (len(group) + 1) / 2
        ranks.update((position, shared) for position in group)
        placed += len(group)
    if placed != n or ranks.keys() != set(range(n)):
        raise ValueError(f"ranking {ranking} is not a ranking of {n} responses")
    return [ranks[position] for position in range(n)]


def _ranks(ranking: Ranking) -> list[float]:
    return rank_positions(ranking=ranking, n=sum(len(group) for group in ranking))


def krippendorff_alpha_ordinal(*, tasks: list[TaskRankings]) -> float | None:
    """Krippendorff's alpha at the ordinal level. Units are (task, response position) pairs; the
    value an annotator gives a unit is the response's `rank_positions` rank in their ranking; an
    annotator who did not rank a task leaves its units missing. Computed by the `krippendorff`
    library (annotators as rows, units as columns, NaN for missing) over the units that at least two
    annotators valued. None when no unit has two values, or when those units hold a single value
    (alpha is undefined without variation)."""
    annotators = list(dict.fromkeys(a for task in tasks for a in task))
    columns = [column for task in tasks for column in _task_columns(task, annotators)]
    if not columns:
        return None
    data = np.array(columns, dtype=float).T
    data = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    if data.shape[1] == 0 or len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))


def _task_columns(task: TaskRankings, annotators: list[str]) -> list[list[float]]:
    """One column per response position of the task, one row per annotator (NaN where missing)."""
    ranks = {annotator: _ranks(ranking) for annotator, ranking in task.items()}
    width = max((len(r) for r in ranks.values()), default=0)
    return [[ranks[a][i] if a in ranks and i < len(ranks[a]) else np.nan for a in annotators] for i in range(width)]


def _relations(ranking: Ranking) -> dict[tuple[int, int], int]:
    """For each pair of positions i < j: 1 if i is ranked above j, -1 if below, 0 if tied."""
    ranks = _ranks(ranking)
    return {(i, j): (ranks[i] < ranks[j]) - (ranks[i] > ranks[j]) for i, j in combinations(range(len(ranks)), 2)}


def _comparisons(tasks: list[TaskRankings]) -> Iterator[tuple[str, str, bool]]:
    """(annotator, other annotator, same relation?) for every task, every pair of its annotators and
    every pair of responses i < j that both ranked."""
    for task in tasks:
        relations = {annotator: _relations(ranking) for annotator, ranking in task.items()}
        for a, b in combinations(relations, 2):
            for pair in relations[a].keys() & relations[b].keys():
                yield a, b, relations[a][pair] == relations[b][pair]


def pairwise_agreement_rate(*, tasks: list[TaskRankings]) -> float | None:
    """Over every task, every pair of its annotators and every pair of responses i < j, the share of
    comparisons in which both annotators give the same relation: i above j, j above i, or a tie.
    None when no task has two annotators."""
    same = [agree for _, _, agree in _comparisons(tasks)]
    return sum(same) / len(same) if same else None


def annotator_agreement(*, tasks: list[TaskRankings]) -> dict[str, float]:
    """Per annotator, the `pairwise_agreement_rate` restricted to the comparisons that involve that
    annotator (with every other annotator of the tasks they share). Annotators who share no task
    with anyone are left out."""
    agreed: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for a, b, same in _comparisons(tasks):
        for annotator in (a, b):
            agreed[annotator] += same
            total[annotator] += 1
    return {annotator: agreed[annotator] / total[annotator] for annotator in total}


def gold_accuracy(*, annotations: list[tuple[str, Ranking, int]]) -> dict[str, float]:
    """Per annotator, over their (annotator, ranking, gold best position) items, the mean credit:
    1 when the gold response is alone in the top rank, 1/k when it shares the top rank with k-1
    others (a two-way tie counts half; 1/k is the chance a random tie-break picks it, so tying
    everything earns chance level, no more), 0 when it is not in the top rank."""
    credit: dict[str, list[float]] = defaultdict(list)
    for annotator, ranking, gold in annotations:
        top = ranking[0]
        credit[annotator].append(1 / len(top) if gold in top else 0.0)
    return {annotator: sum(c) / len(c) for annotator, c in credit.items()}


def trust_scores(
    *,
    agreement: dict[str, float],
    gold: dict[str, float],
    skip_rate: dict[str, float],
    median_seconds: dict[str, float],
    min_seconds: float = 5.0,
) -> dict[str, float]:
    """Per annotator named in any of the inputs:

        quality = agreement (0.5 when unknown); (quality + gold) / 2 when gold accuracy is known
        skip    = 1 - (skip_rate - 0.5)              when skip_rate > 0.5, else 1   (0.5 at 100 % skips)
        speed   = 0.5 + 0.5 * median / min_seconds   when median < min_seconds, else 1   (0.5 at 0 s)
        trust   = clamp(quality * skip * speed, 0.2, 1.0)

    Unknown skip rate or median time means no penalty. The floor keeps every annotator's rankings
    counting a little; trust never decreases as agreement or gold accuracy rises."""
    annotators = dict.fromkeys([*agreement, *gold, *skip_rate, *median_seconds])
    return {
        a: _trust(
            agreement.get(a, UNKNOWN_AGREEMENT), gold.get(a), skip_rate.get(a), median_seconds.get(a), min_seconds
        )
        for a in annotators
    }


def _trust(
    agreement: float, gold: float | None, skip_rate: float | None, median: float | None, min_seconds: float
) -> float:
    quality = agreement if gold is None else (agreement + gold) / 2
    skip = 1 - (skip_rate - SKIP_RATE_LIMIT) if skip_rate is not None and skip_rate > SKIP_RATE_LIMIT else 1.0
    speed = 0.5 + 0.5 * max(median, 0.0) / min_seconds if median is not None and median < min_seconds else 1.0
    return min(TRUST_CEILING, max(TRUST_FLOOR, quality * skip * speed))


def _tau_b(x: list[float], y: list[float]) -> float | None:
    """Kendall's tau-b of paired values: sum over pairs of sign(dx)·sign(dy), divided by
    sqrt(pairs untied in x · pairs untied in y). None when either side is all ties."""
    pairs = list(combinations(range(len(x)), 2))
    dx = [(x[i] > x[j]) - (x[i] < x[j]) for i, j in pairs]
    dy = [(y[i] > y[j]) - (y[i] < y[j]) for i, j in pairs]
    denominator = sqrt(sum(map(bool, dx)) * sum(map(bool, dy)))
    return sum(a * b for a, b in zip(dx, dy, strict=True)) / denominator if denominator else None


def kendall_tau(*, order_a: list[str], order_b: list[str]) -> float | None:
    """Kendall's tau-b between two orderings (best first) of items, over the items both contain
    (others are ignored): (concordant - discordant pairs) / pairs, as orderings have no ties.
    1 for the same order, -1 for the reverse; None with fewer than 2 common items."""
    if len(set(order_a)) != len(order_a) or len(set(order_b)) != len(order_b):
        raise ValueError("an ordering lists an item twice")
    index_b = {item: index for index, item in enumerate(order_b)}
    common = [item for item in order_a if item in index_b]
    if len(common) < 2:
        return None
    return _tau_b(list(range(len(common))), [index_b[item] for item in common])


def cross_lingual_consistency(*, groups: dict[str, dict[str, dict[str, float]]], threshold: float = 0.0) -> list[dict]:
    """For every group (group -> language -> {variant: aggregated score, higher better}) and every
    pair of its languages (language_a < language_b) with at least 2 common variants, a row:

        group, language_a, language_b
        variants      the common variants, sorted
        tau           Kendall's tau-b of the two languages' scores over those variants (ties in a
                      score count as ties; None when one language ties them all)
        flipped       (x, y) pairs that language_a ranks x above y and language_b ranks y above x
        inconsistent  tau < threshold, or any pair flipped

    Rows come most inconsistent first: lowest tau, then most flips; rows whose tau is None last."""
    rows = [row for group, languages in groups.items() for row in _group_rows(group, languages, threshold)]
    return sorted(rows, key=_inconsistency)


def _group_rows(group: str, languages: dict[str, dict[str, float]], threshold: float) -> Iterator[dict]:
    for language_a, language_b in combinations(sorted(languages), 2):
        a, b = languages[language_a], languages[language_b]
        variants = sorted(a.keys() & b.keys())
        if len(variants) < 2:
            continue
        tau = _tau_b([a[v] for v in variants], [b[v] for v in variants])
        flipped = [
            (x, y) if a[x] > a[y] else (y, x) for x, y in combinations(variants, 2) if (a[x] - a[y]) * (b[x] - b[y]) < 0
        ]
        yield {
            "group": group,
            "language_a": language_a,
            "language_b": language_b,
            "tau": tau,
            "variants": variants,
            "flipped": flipped,
            "inconsistent": bool(flipped) or (tau is not None and tau < threshold),
        }


def _inconsistency(row: dict) -> tuple:
    tau = row["tau"]
    return (tau is None, tau or 0.0, -len(row["flipped"]), row["group"], row["language_a"], row["language_b"])


def position_bias(*, items: list[tuple[str, list[int], Ranking]]) -> dict[str, dict]:
    """Per language, over its (language, display_order, ranking) items that have a display order:

        n               the number of such annotations
        first_top_share mean credit of the first-displayed response: 1 alone in the top rank, 1/k
                        in a top rank of k tied responses, else 0
        expected_share  mean of 1/number of responses: the share expected when display order does
                        not matter (also with ties at the top, as credit is split 1/k)

    A first_top_share well above expected_share suggests annotators favour what they see first."""
    credit: dict[str, list[float]] = defaultdict(list)
    chance: dict[str, list[float]] = defaultdict(list)
    for language, display_order, ranking in items:
        if not display_order:
            continue
        top = ranking[0]
        credit[language].append(1 / len(top) if display_order[0] in top else 0.0)
        chance[language].append(1 / sum(len(group) for group in ranking))
    return {
        language: {
            "n": len(c),
            "first_top_share": sum(c) / len(c),
            "expected_share": sum(chance[language]) / len(c),
        }
        for language, c in credit.items()
    }


def consensus_relations(*, rankings: list[Ranking]) -> dict[tuple[int, int], int]:
    """The human consensus of some rankings of one task, per pair of positions i < j: 1 when more
    rankings put i above j than j above i, -1 for the reverse. Pairs with as many rankings on each
    side (all tied, or split evenly) are left out. A ranking that ties i and j counts for neither
    side, which is the rule of pair derivation at its default threshold (pairs.py: agreement(i > j)
    = (above + tied / 2) / n > 0.5 exactly when above > below)."""
    votes: dict[tuple[int, int], int] = defaultdict(int)
    for ranking in rankings:
        for pair, relation in _relations(ranking).items():
            votes[pair] += relation
    return {pair: (total > 0) - (total < 0) for pair, total in votes.items() if total}


def judge_pair_agreement(*, judge: Ranking, humans: list[Ranking]) -> tuple[int, int, int]:
    """(agreed, compared, abstained) of a judge's ranking of one task against `consensus_relations`
    of the human rankings: over the pairs with a strict consensus, a pair the judge ranks strictly is
    compared (agreed when it prefers the same response), and a pair it ties is an abstention."""
    consensus = consensus_relations(rankings=humans)
    relations = _relations(judge)
    agreed = compared = abstained = 0
    for pair, direction in consensus.items():
        relation = relations.get(pair)
        if relation is None:
            continue
        if relation == 0:
            abstained += 1
        else:
            compared += 1
            agreed += relation == direction
    return agreed, compared, abstained


def wilson_interval(*, successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of the share successes / n (95 % with z = 1.96):
    (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). None when n = 0."""
    if n <= 0:
        return None
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - margin) / scale), min(1.0, (centre + margin) / scale)
