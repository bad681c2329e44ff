"""Suggestions: a campaign may show annotators a judge's ranking as the starting order of a task.

* The campaign names the judge (`suggestion_judge`, NAME@VERSION) and the share of tasks shown without
  it (`suggestion_holdout`, default 0.2). Which tasks are held out is decided per task and judge by a
  hash (`held_out`), so it never changes between visits and needs no stored state.
* A task is suggested when its campaign names a judge, the task is not held out, and that judge has
  ranked it. The annotation records the ranking it was shown (`Annotation.suggestion`, null when none)
  and whose it was (`suggested_by`), so the review page can measure anchoring
  (webapp/feedback/quality/judges.py: `anchoring`).
* A suggestion changes nothing else: the judge's ranking still never counts as a person's."""

import hashlib

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from webapp.audit import services as audit
from webapp.errors import ApplicationError
from webapp.feedback.extensions import judges
from webapp.feedback.models import Annotation, Campaign, Task
from webapp.feedback.quality.marks import review_mark
from webapp.feedback.sources import MAX_ORIGIN, Source, judge_origin

DEFAULT_HOLDOUT = 0.2


def held_out(task_id: int, judge: str, fraction: float) -> bool:
    """Whether the task is shown without the judge's suggestion: sha256(task id, judge) read as a number
    in [0, 1) falls below `fraction`. About that share of a campaign's tasks, the same ones every time."""
    digest = hashlib.sha256(f"{task_id}\x1f{judge}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32 < fraction


# The attribute a query may annotate tasks with (`judge_ranking`), so `suggestion_for` needs no query of its own.
JUDGE_RANKING = "judge_ranking"


def judge_ranking(task_ref: str = "pk", campaign_ref: str = "campaign") -> Subquery:
    """The ranking of the task's campaign's suggestion judge, as an expression for annotating a query (NULL when the
    campaign names none or the judge has not ranked the task); `task_ref` and `campaign_ref` are the paths to the task
    id and to its campaign from the queried model."""
    return Subquery(
        Annotation.objects.filter(
            task_id=OuterRef(task_ref), source=Source.JUDGE, origin=OuterRef(f"{campaign_ref}__suggestion_judge")
        ).values("ranking")[:1]
    )


def suggestion_for(task: Task) -> list[list[int]] | None:
    """The starting order to show for `task` (its campaign's judge's ranking), or None. Read from the task's
    `judge_ranking` annotation when its query carried one."""
    campaign = task.campaign
    judge = campaign.suggestion_judge
    if not judge or held_out(task.pk, judge, campaign.suggestion_holdout):
        return None
    if hasattr(task, JUDGE_RANKING):
        return getattr(task, JUDGE_RANKING)
    ranking = (
        Annotation.objects.filter(task_id=task.pk, source=Source.JUDGE, origin=judge)
        .values_list("ranking", flat=True)
        .first()
    )
    return ranking


def _known_judges() -> set[str]:
    return {judge_origin(entry.name, entry.version) for _, entry in judges.items()}


def campaign_set_suggestions(*, campaign: Campaign, judge: str, holdout: float = DEFAULT_HOLDOUT) -> Campaign:
    """Show `judge`'s rankings (NAME@VERSION; "" turns suggestions off) as the starting order, except on
    the `holdout` share of tasks."""
    if judge:
        if len(judge) > MAX_ORIGIN or "@" not in judge.strip("@"):
            raise ApplicationError(
                _("judge: %(judge)s is not NAME@VERSION (e.g. llm@1)") % {"judge": repr(judge[:80])},
                extra={"field": "judge"},
            )
        labelled = Annotation.objects.filter(source=Source.JUDGE, origin=judge).exists()
        if not labelled and judge not in _known_judges():
            raise ApplicationError(
                _("judge: no judge %(judge)s: it is neither registered nor has it ranked anything")
                % {"judge": repr(judge[:80])},
                extra={"field": "judge"},
            )
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 <= holdout <= 1:
        raise ApplicationError(_("holdout: must be a share from 0 to 1 (e.g. 0.2)"), extra={"field": "holdout"})
    changed = (judge, float(holdout)) != (campaign.suggestion_judge, campaign.suggestion_holdout)
    Campaign.objects.filter(pk=campaign.pk).update(suggestion_judge=judge, suggestion_holdout=float(holdout))
    if changed:  # which tasks are held out, and for which judge: the review's anchoring figures change
        review_mark(Task.objects.filter(campaign=campaign, deleted_at__isnull=True).values_list("pk", flat=True))
    campaign.refresh_from_db()
    audit.record(action="campaign.suggestions", target=campaign, details={"judge": judge, "holdout": holdout})
    return campaign
