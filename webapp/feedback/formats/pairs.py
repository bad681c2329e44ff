"""The one place where rankings become preference pairs (docs/formats.md, "Pair derivation").

Exports and training snapshots both call `derive_pairs`, so they can never disagree. The maths
(`aggregate`, `select_pairs`) is pure and works on response positions; `derive_pairs` adds ids and
texts for stored tasks.

Rules, per task, over the annotations that count:
* Which rankings are read is the selection's (webapp/feedback/sources.py: by default live annotations
  and imported rankings, never a judge's unless asked for). A pair's `source` is the most human source
  among them (`annotation`, then `import`, then `judge`).
* `agreement(i > j) = (weight of annotations ranking i above j + half the weight of those tying them)
  / total weight`, with weight 1 unless trust weights are given.
* A pair i > j passes when agreement > min_agreement and the number of counting annotations is at
  least min_annotators.
* Flags: any `unsafe` flag, or `all_bad`/`wrong_language` from a strict majority of annotators, and
  the task emits nothing. An annotation that carries `all_bad` or `wrong_language` does not count
  towards a task that still emits pairs: its ranking was given on a comparison its author rejected.
  `include_flagged` turns both rules off.
* Expansion: `all` emits every passing pair; `best_vs_rest` the passing pairs whose winner is the
  best response; `best_vs_worst` only best over worst. Best is the highest Copeland score (pairwise
  majority wins minus losses), ties broken by the better mean rank, then the lower position; worst
  is the mirror image.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.sources import pair_source

if TYPE_CHECKING:
    from webapp.feedback.models import Response

EXPANSIONS = ("best_vs_rest", "all", "best_vs_worst")
DISQUALIFYING = {"all_bad", "wrong_language"}


@dataclass(frozen=True)
class PairPolicy:
    min_agreement: float = 0.5
    min_annotators: int = 1
    expansion: str = "best_vs_rest"
    include_flagged: bool = False
    # (annotator id, language code) -> weight; missing keys weigh 1.
    weights: dict[tuple[int, str], float] | None = None

    def __post_init__(self):
        if not 0.5 <= self.min_agreement < 1:
            raise ApplicationError(_("min_agreement must be at least 0.5 (a majority) and below 1"))
        if self.min_annotators < 1:
            raise ApplicationError(_("min_annotators must be at least 1"))
        if self.expansion not in EXPANSIONS:
            raise ApplicationError(_("pairs policy must be one of %(choices)s") % {"choices": ", ".join(EXPANSIONS)})

    def weight(self, annotator_id: int, language: str) -> float:
        return (self.weights or {}).get((annotator_id, language), 1.0)


@dataclass(frozen=True)
class Vote:
    ranking: list[list[int]]
    flags: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass
class Aggregate:
    n_responses: int
    n: int = 0  # annotations that count
    weight: float = 0.0
    above: dict[tuple[int, int], float] = field(default_factory=dict)  # weight of i ranked above j
    tied: dict[tuple[int, int], float] = field(default_factory=dict)  # weight of i tied with j (i < j)
    rank_sum: list[float] = field(default_factory=list)
    excluded: str = ""  # why the task emits nothing, if it doesn't

    def agreement(self, i: int, j: int) -> float:
        if not self.weight:
            return 0.0
        tie = self.tied.get((min(i, j), max(i, j)), 0.0)
        return (self.above.get((i, j), 0.0) + 0.5 * tie) / self.weight

    def copeland(self, i: int) -> int:
        score = 0
        for j in range(self.n_responses):
            if j != i:
                a = self.agreement(i, j)
                score += (a > 0.5) - (a < 0.5)
        return score

    def mean_rank(self, i: int) -> float:
        return self.rank_sum[i] / self.n if self.n else 0.0

    def best(self) -> int:
        return min(range(self.n_responses), key=lambda i: (-self.copeland(i), self.mean_rank(i), i))

    def worst(self) -> int:
        return max(range(self.n_responses), key=lambda i: (-self.copeland(i), self.mean_rank(i), i))

    def strict_best(self) -> int | None:
        """The best response when its Copeland score is above every other's (no tie-break needed), else None."""
        best = self.best()
        others = [self.copeland(i) for i in range(self.n_responses) if i != best]
        return best if others and self.copeland(best) > max(others) else None

    def strict_worst(self) -> int | None:
        """The worst response when its Copeland score is below every other's, else None."""
        worst = self.worst()
        others = [self.copeland(i) for i in range(self.n_responses) if i != worst]
        return worst if others and self.copeland(worst) < min(others) else None


def exclusion(votes: list[Vote]) -> str:
    """Why the flags leave a task out ("" when they don't): any `unsafe` flag, or `all_bad`/`wrong_language`
    from a strict majority of the votes. The KTO export's `flags` source labels such tasks' responses
    undesirable by the same rule (webapp/feedback/formats/kto.py)."""
    if any("unsafe" in v.flags for v in votes):
        return "flagged unsafe"
    for flag in sorted(DISQUALIFYING):
        if sum(flag in v.flags for v in votes) * 2 > len(votes):
            return f"flagged {flag} by a majority"
    return ""


def aggregate(n_responses: int, votes: Iterable[Vote], *, include_flagged: bool = False) -> Aggregate:
    votes = list(votes)
    agg = Aggregate(n_responses=n_responses, rank_sum=[0.0] * n_responses)
    if not include_flagged:
        agg.excluded = exclusion(votes)
        if agg.excluded:
            return agg
        votes = [v for v in votes if not DISQUALIFYING & set(v.flags)]
    for vote in votes:
        _add_vote(agg, vote)
    return agg


def _add_vote(agg: Aggregate, vote: Vote) -> None:
    agg.n += 1
    agg.weight += vote.weight
    position = 0
    placed: list[int] = []
    for rank in vote.ranking:
        mean_position = position + (len(rank) + 1) / 2  # tied responses share their mean position
        for i in rank:
            agg.rank_sum[i] += mean_position
            for j in placed:
                agg.above[(j, i)] = agg.above.get((j, i), 0.0) + vote.weight
        for i, j in combinations(sorted(rank), 2):
            agg.tied[(i, j)] = agg.tied.get((i, j), 0.0) + vote.weight
        placed.extend(rank)
        position += len(rank)


def select_pairs(agg: Aggregate, policy: PairPolicy) -> list[tuple[int, int, float]]:
    """(chosen position, rejected position, agreement) for each pair the policy emits."""
    if agg.excluded or agg.n < policy.min_annotators or agg.n == 0:
        return []
    passing = [
        (i, j, agg.agreement(i, j))
        for i in range(agg.n_responses)
        for j in range(agg.n_responses)
        if i != j and agg.agreement(i, j) > policy.min_agreement
    ]
    if policy.expansion == "all":
        return passing
    best = agg.best()
    if policy.expansion == "best_vs_rest":
        return [p for p in passing if p[0] == best]
    worst = agg.worst()
    return [p for p in passing if p[0] == best and p[1] == worst]


def pair_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True)
class DerivedPair:
    id: str
    task_id: int
    task_external_id: str
    campaign: str
    prompt: object
    chosen: object
    rejected: object
    chosen_response_id: int
    rejected_response_id: int
    language: str
    group: str
    agreement: float
    n: int
    source: str = "annotation"  # of the rankings it was derived from (sources.pair_source)
    origin: str = ""


@dataclass(frozen=True)
class TaskResult:
    """What one task contributes: its pairs, and its aggregated best response when it has pairs; with the
    aggregate and the responses in position order, for the KTO export's ranking and flags sources."""

    task: object
    pairs: list[DerivedPair]
    best_response: "Response | None"
    aggregate: Aggregate | None = None
    responses: "list[Response]" = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)


def derive_task(task, policy: PairPolicy) -> TaskResult:
    """`task` comes from selectors.tasks_for_pairs (items, responses, annotations prefetched)."""
    responses = [item.response for item in task.items.all()]
    annotations = list(task.annotations.all())
    votes = [Vote(a.ranking, tuple(a.flags), policy.weight(a.annotator_id, task.language_id)) for a in annotations]
    source, origin = pair_source((a.source, a.origin) for a in annotations)
    agg = aggregate(len(responses), votes, include_flagged=policy.include_flagged)
    selected = select_pairs(agg, policy)
    pairs = [
        DerivedPair(
            id=pair_id(task.pk, responses[i].pk, responses[j].pk),
            task_id=task.pk,
            task_external_id=task.external_id,
            campaign=task.campaign.name,
            prompt=task.prompt.content,
            chosen=responses[i].content,
            rejected=responses[j].content,
            chosen_response_id=responses[i].pk,
            rejected_response_id=responses[j].pk,
            language=task.language_id,
            group=task.prompt.group,
            agreement=round(agreement, 6),
            n=agg.n,
            source=source,
            origin=origin,
        )
        for i, j, agreement in selected
    ]
    return TaskResult(
        task=task,
        pairs=pairs,
        best_response=responses[agg.best()] if pairs else None,
        aggregate=agg,
        responses=responses,
        votes=votes,
    )


def derive_pairs(tasks: Iterable, policy: PairPolicy) -> Iterator[TaskResult]:
    for task in tasks:
        yield derive_task(task, policy)
