"""How well a judge agrees with people: per judge (origin `NAME@VERSION`) and language, its rankings
against the human consensus on the tasks both ranked. The review page shows it, and the training
gate (webapp/training/data.py) admits a judge's labels by it. The maths is in agreement.py.

Definitions, per (judge, language):
* The tasks: alive tasks (in alive campaigns) that the judge ranked and that have at least one human
  ranking; human is every source that counts as human (sources.HUMAN: `annotation`, `import`), or
  the one of them the report names. A judge's own rankings never count as human.
* The human consensus of a pair of responses (`agreement.consensus_relations`): the side more human
  rankings prefer; pairs that humans tie or split evenly are left out.
* Each consensus pair the judge ranks strictly is compared; it agrees when the judge prefers the
  consensus side. A pair the judge ties is an abstention, counted apart and never as a miss.
* `agreement` = agreed / n_pairs, with its 95 % Wilson interval; `n_tasks` = the tasks with at least
  one compared pair (the evidence the gate counts); `alpha` = Krippendorff's ordinal alpha over the
  same tasks, the humans plus the judge as one more rater.

`anchoring` (campaigns that show a judge's ranking as the starting order, services/suggestions.py),
per (judge, language), over live annotators' rankings (source `annotation`):
* suggested: rankings submitted after being shown the judge's ranking; `keep_rate` = the share
  submitted exactly as suggested (ties compared as sets); `suggested_agreement` = the share of response
  pairs on which the ranking and the suggestion give the same relation (above, below or tied).
* held out: rankings of the tasks the campaign shows without it (`held_out`, by hash) that the judge
  ranked; `match_rate` = the share equal to the judge's ranking, `held_out_agreement` as above.
A keep rate well above the held-out match rate (or agreement with the suggestion above agreement
without it) means annotators anchor on the suggestion.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from webapp.feedback import sources
from webapp.feedback.models import Annotation, Campaign
from webapp.feedback.quality.agreement import (
    Ranking,
    TaskRankings,
    judge_pair_agreement,
    krippendorff_alpha_ordinal,
    pairwise_agreement_rate,
    wilson_interval,
)
from webapp.feedback.services.suggestions import held_out

JUDGE_RATER = "judge"  # the judge's key among the raters of a task (humans are keyed by user id)


@dataclass(frozen=True)
class JudgeAgreement:
    judge: str  # origin NAME@VERSION
    language: str
    labelled: int  # tasks the judge ranked in this language
    tasks: int  # of those, tasks with at least one human ranking
    n_tasks: int  # of those, tasks with at least one compared pair
    n_pairs: int  # compared pairs: strict human consensus and a strict judge preference
    agreed: int
    agreement: float | None
    ci_low: float | None
    ci_high: float | None
    abstentions: int  # consensus pairs the judge tied
    alpha: float | None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def ci(self) -> list[float] | None:
        return None if self.ci_low is None or self.ci_high is None else [self.ci_low, self.ci_high]


def judge_agreement(
    *,
    judges: Iterable[str] = (),
    campaign_id: int | None = None,
    language: str | None = None,
    human_sources: tuple[str, ...] = sources.HUMAN,
) -> list[JudgeAgreement]:
    """One row per (judge, language) in which the judge ranked a task (`judges` narrows to these
    origins), sorted by judge then language."""
    judged = Annotation.objects.filter(
        source=sources.Source.JUDGE, task__deleted_at__isnull=True, task__campaign__deleted_at__isnull=True
    )
    wanted = list(judges)
    if wanted:
        judged = judged.filter(origin__in=wanted)
    if campaign_id is not None:
        judged = judged.filter(task__campaign_id=campaign_id)
    if language:
        judged = judged.filter(task__language_id=language)
    humans: dict[int, dict[str, Ranking]] = defaultdict(dict)
    people = Annotation.objects.filter(task__in=judged.values("task_id"), source__in=human_sources)
    for task_id, annotator_id, ranking in people.values_list("task_id", "annotator_id", "ranking").iterator(
        chunk_size=5000
    ):
        humans[task_id][str(annotator_id)] = ranking
    labels: dict[tuple[str, str], list[tuple[int, Ranking]]] = defaultdict(list)
    rows = judged.order_by("id").values_list("origin", "task__language_id", "task_id", "ranking")
    for origin, task_language, task_id, ranking in rows.iterator(chunk_size=5000):
        labels[(origin, task_language)].append((task_id, ranking))
    return [
        _row(judge, lang, labelled, humans) for (judge, lang), labelled in sorted(labels.items(), key=lambda kv: kv[0])
    ]


def _row(
    judge: str, language: str, labelled: list[tuple[int, Ranking]], humans: dict[int, dict[str, Ranking]]
) -> JudgeAgreement:
    agreed = compared = abstained = evidence = 0
    raters: list[TaskRankings] = []
    for task_id, ranking in labelled:
        people = humans.get(task_id)
        if not people:
            continue
        a, c, t = judge_pair_agreement(judge=ranking, humans=list(people.values()))
        agreed, compared, abstained = agreed + a, compared + c, abstained + t
        evidence += c > 0
        raters.append({**people, JUDGE_RATER: ranking})
    interval = wilson_interval(successes=agreed, n=compared)
    return JudgeAgreement(
        judge=judge,
        language=language,
        labelled=len(labelled),
        tasks=len(raters),
        n_tasks=evidence,
        n_pairs=compared,
        agreed=agreed,
        agreement=agreed / compared if compared else None,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        abstentions=abstained,
        alpha=krippendorff_alpha_ordinal(tasks=raters) if raters else None,
    )


@dataclass(frozen=True)
class Anchoring:
    judge: str
    language: str
    suggested: int  # rankings submitted after being shown the judge's ranking
    kept: int  # of those, submitted exactly as suggested
    keep_rate: float | None
    suggested_agreement: float | None  # pairwise, the ranking against the suggestion shown
    held_out: int  # rankings of held-out tasks (shown without it) that the judge ranked
    matched: int  # of those, equal to the judge's ranking
    match_rate: float | None
    held_out_agreement: float | None  # pairwise, the ranking against the judge's

    def as_dict(self) -> dict:
        return asdict(self)


def same_ranking(a: Ranking, b: Ranking) -> bool:
    """The same ranking, ties compared as sets."""
    return [sorted(group) for group in a] == [sorted(group) for group in b]


def anchoring(*, campaign_id: int | None = None, language: str | None = None) -> list[Anchoring]:
    """One row per (judge, language) with suggested or held-out rankings, sorted by judge then language."""
    people = Annotation.objects.filter(
        source=sources.ASSIGNED, task__deleted_at__isnull=True, task__campaign__deleted_at__isnull=True
    )
    if campaign_id is not None:
        people = people.filter(task__campaign_id=campaign_id)
    if language:
        people = people.filter(task__language_id=language)
    pairs: dict[tuple[str, str], dict[str, list[tuple[Ranking, Ranking]]]] = defaultdict(
        lambda: {"suggested": [], "held_out": []}
    )
    shown = people.exclude(suggested_by="").values_list("suggested_by", "task__language_id", "ranking", "suggestion")
    for judge, lang, ranking, suggestion in shown.iterator(chunk_size=5000):
        pairs[(judge, lang)]["suggested"].append((ranking, suggestion))
    campaigns = Campaign.objects.alive().exclude(suggestion_judge="")
    if campaign_id is not None:
        campaigns = campaigns.filter(pk=campaign_id)
    for campaign in campaigns:
        judge = campaign.suggestion_judge
        unshown = people.filter(task__campaign=campaign, suggestion__isnull=True)
        judged = dict(
            Annotation.objects.filter(
                source=sources.Source.JUDGE, origin=judge, task__in=unshown.values("task_id")
            ).values_list("task_id", "ranking")
        )
        rows = unshown.filter(task_id__in=list(judged)).values_list("task_id", "task__language_id", "ranking")
        for task_id, lang, ranking in rows.iterator(chunk_size=5000):
            if held_out(task_id, judge, campaign.suggestion_holdout):
                pairs[(judge, lang)]["held_out"].append((ranking, judged[task_id]))
    return [_anchoring(judge, lang, groups) for (judge, lang), groups in sorted(pairs.items(), key=lambda kv: kv[0])]


def _anchoring(judge: str, language: str, groups: dict[str, list[tuple[Ranking, Ranking]]]) -> Anchoring:
    def summary(items: list[tuple[Ranking, Ranking]]) -> tuple[int, int, float | None, float | None]:
        same = sum(same_ranking(person, model) for person, model in items)
        rate = pairwise_agreement_rate(tasks=[{"person": p, "judge": m} for p, m in items]) if items else None
        return len(items), same, same / len(items) if items else None, rate

    suggested, kept, keep_rate, suggested_agreement = summary(groups["suggested"])
    unshown, matched, match_rate, unshown_agreement = summary(groups["held_out"])
    return Anchoring(
        judge=judge,
        language=language,
        suggested=suggested,
        kept=kept,
        keep_rate=keep_rate,
        suggested_agreement=suggested_agreement,
        held_out=unshown,
        matched=matched,
        match_rate=match_rate,
        held_out_agreement=unshown_agreement,
    )
