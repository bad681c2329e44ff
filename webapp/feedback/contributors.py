"""Reads about contributors (README, "Contribution tasks"): the leaderboard per language with quality-weighted
points, the moderation list of contributors whose decided work is mostly rejected, and the reviewer queue a
page at a time.

Points, per contributor and language (only decided work counts; pending work earns nothing until its votes or a
reviewer decide it):

    points = quality × Σ weight(accepted contribution) + VERIFY_CREDIT × agreed × wilson(agreed, decided votes)

- weight by kind (`WEIGHTS`): write 3, translate 3, reply 2; an edit 1 + min(characters changed, 200) / 100,
  so from about 1 (a typo fixed) up to 3 (a rewrite), capped so that padding an edit earns nothing more;
- quality = the Wilson score lower bound (95 %) of the contributor's accepted share of their decided
  contributions in that language: accepted / (accepted + rejected), shrunk towards 0 while there are few of
  them. Every rejected contribution lowers the factor that all the accepted ones are multiplied by, so a
  volume of junk costs points instead of earning them, and a short lucky streak counts for less than a long
  careful record;
- verify credit: VERIFY_CREDIT (0.25) per verify vote that agreed with its contribution's final decision (up on
  accepted, down on rejected), times the Wilson lower bound of the voter's agreeing share, so voting one way on
  everything earns little. Votes on pending contributions earn nothing yet.

Ranks are per language, by points (ties share a rank); a row with no points has no rank. The figures are read
from the per contributor and language tallies (webapp/feedback/tallies.py: counts, Σ weight, votes and agreed
votes, folded from markers; a read folds what is pending first), one row per contributor and language, never
one per contribution: the same figures as counting every contribution and vote in SQL (tallies.recompute)."""

import math
from collections import Counter
from dataclasses import asdict, dataclass
from itertools import groupby

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F, FloatField, Prefetch, QuerySet
from django.db.models.functions import Cast

from webapp.feedback import selectors
from webapp.feedback.models import Contribution, ContributorTally, Verdict
from webapp.feedback.tallies import EDIT_BASE, EDIT_CAP, EDIT_PER_CHAR, WEIGHTS, tally_catch_up

__all__ = ["EDIT_BASE", "EDIT_CAP", "EDIT_PER_CHAR", "WEIGHTS"]  # the weights are the tallies' (tallies.py)

VERIFY_CREDIT = 0.25
Z = 1.96  # the Wilson bound's normal quantile: 95 %
LEADERBOARD_LIMIT = 50
QUEUE_PAGE = 25


def wilson_lower_bound(successes: int, trials: int, z: float = Z) -> float:
    """The lower end of the Wilson score interval of successes / trials (0 without trials)."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - spread) / (1 + z * z / trials))


def _tallies(language: str | None) -> QuerySet[ContributorTally]:
    """The tallies (one language's, or every one), after folding what is pending (tallies.tally_catch_up)."""
    tally_catch_up()
    rows = ContributorTally.objects.order_by()
    return rows.filter(language_id=language) if language else rows


@dataclass
class Standing:
    """One contributor's place on one language's board."""

    contributor: str
    language: str
    rank: int | None
    points: float
    accepted: int
    rejected: int
    pending: int
    quality: float
    contribution_points: float
    verify_agreed: int
    verify_votes: int
    verify_credit: float


def standings(*, language: str | None = None) -> list[Standing]:
    """Every contributor's standing per language (or in one), best first within each language; one query over the
    tallies (module docstring)."""
    rows = [
        _standing(row["contributor__username"], row["language_id"], row)
        for row in _tallies(language).values(
            "contributor__username", "language_id", "accepted", "rejected", "pending", "weight", "votes", "agreed"
        )
    ]
    rows.sort(key=lambda s: (s.language, -s.points, s.contributor))
    _rank(rows)
    return rows


def _standing(name: str, language: str, counts: dict) -> Standing:
    quality = wilson_lower_bound(counts["accepted"], counts["accepted"] + counts["rejected"])
    agreed, cast = counts["agreed"], counts["votes"]
    contribution_points = quality * counts["weight"]
    verify_credit = VERIFY_CREDIT * agreed * wilson_lower_bound(agreed, cast)
    return Standing(
        contributor=name,
        language=language,
        rank=None,
        points=round(contribution_points + verify_credit, 2),
        accepted=counts["accepted"],
        rejected=counts["rejected"],
        pending=counts["pending"],
        quality=round(quality, 3),
        contribution_points=round(contribution_points, 2),
        verify_agreed=agreed,
        verify_votes=cast,
        verify_credit=round(verify_credit, 2),
    )


def _rank(rows: list[Standing]) -> None:
    """Competition ranks (1, 2, 2, 4) per language, over rows sorted by language and points; no points, no rank."""
    for _language, group in groupby(rows, key=lambda row: row.language):
        rank, previous = 0, None
        for position, row in enumerate(group, start=1):
            if row.points <= 0:
                break
            if row.points != previous:
                rank = position
            row.rank, previous = rank, row.points


def leaderboard(user: User, *, language: str | None = None, limit: int = LEADERBOARD_LIMIT) -> dict:
    """The board everyone may read (usernames and figures only): the first `limit` ranked rows of each language
    (or of one), the reading user's own rows wherever they stand (`me`) and how many are ranked per language."""
    rows = standings(language=language)
    shown: dict[str, int] = {}
    results = []
    for row in rows:
        if row.rank is not None and shown.get(row.language, 0) < limit:
            shown[row.language] = shown.get(row.language, 0) + 1
            results.append(asdict(row))
    me = [asdict(row) for row in rows if row.contributor == user.get_username()]
    ranked = Counter(row.language for row in rows if row.rank is not None)
    return {"language": language, "results": results, "me": me, "ranked": dict(sorted(ranked.items()))}


def stats_with_points(user: User, *, language: str | None = None) -> list[dict]:
    """selectors.contributor_stats' rows with each one's points and rank on its language's board."""
    board = {(row.contributor, row.language): row for row in standings(language=language)}
    rows = selectors.contributor_stats(user, language=language)
    for row in rows:
        standing = board.get((row["contributor"], row["language"]))
        row["points"], row["rank"] = (standing.points, standing.rank) if standing else (0.0, None)
    return rows


def moderation_list(*, language: str | None = None) -> QuerySet:
    """Contributors whose decided work in a language is mostly rejected: at least
    CONTRIBUTOR_MODERATION_MIN_DECIDED decided contributions, of which a share above
    CONTRIBUTOR_MODERATION_REJECTED_SHARE rejected; the worst share first. One query over the tallies."""
    share = settings.CONTRIBUTOR_MODERATION_REJECTED_SHARE
    return (
        _tallies(language)
        .annotate(decided=F("accepted") + F("rejected"))
        .filter(decided__gte=settings.CONTRIBUTOR_MODERATION_MIN_DECIDED, rejected__gt=F("decided") * share)
        .annotate(rejected_share=Cast("rejected", FloatField()) / Cast("decided", FloatField()))
        .values(
            "contributor_id",
            "contributor__username",
            "language_id",
            "accepted",
            "rejected",
            "pending",
            "decided",
            "rejected_share",
        )
        .order_by("-rejected_share", "-rejected", "contributor__username", "language_id")
    )


def queue_page(
    user: User, *, after: int | None = None, size: int | None = None
) -> tuple[list[Contribution], int | None]:
    """One page of the reviewer queue (flagged translations, disputed votes; selectors.review_queue), oldest first
    from the id `after`, with what the page shows (source prompt, original, votes and reasons), and the id to
    continue after (None on the last page)."""
    rows = (
        selectors.review_queue(user)
        .select_related("task__prompt__language", "language", "original_response")
        .prefetch_related(Prefetch("verdicts", queryset=Verdict.objects.select_related("voter").order_by("id")))
        .order_by("id")
    )
    if after is not None:
        rows = rows.filter(pk__gt=after)
    size = size or QUEUE_PAGE
    page = list(rows[: size + 1])
    more = len(page) > size
    return page[:size], page[size - 1].pk if more else None
