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

Ranks are per language, by points (ties share a rank); a row with no points has no rank. The figures are
counted in SQL, grouped by contributor and language (one query for contributions, one for votes); Python then
combines the two results row by row (one row per contributor and language, never one per contribution)."""

import math
from collections import Counter
from dataclasses import asdict, dataclass
from itertools import groupby

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Least

from webapp.feedback import selectors
from webapp.feedback.models import CampaignKind, Contribution, DemonstrationStatus, Verdict

WEIGHTS = {CampaignKind.WRITE: 3.0, CampaignKind.TRANSLATE: 3.0, CampaignKind.REPLY: 2.0}
EDIT_BASE = 1.0  # an accepted edit earns this, plus EDIT_PER_CHAR per character changed up to EDIT_CAP
EDIT_PER_CHAR = 0.01
EDIT_CAP = 200
VERIFY_CREDIT = 0.25
Z = 1.96  # the Wilson bound's normal quantile: 95 %
LEADERBOARD_LIMIT = 50
QUEUE_PAGE = 25

ACCEPTED, REJECTED, PENDING = DemonstrationStatus.ACCEPTED, DemonstrationStatus.REJECTED, DemonstrationStatus.PENDING


def wilson_lower_bound(successes: int, trials: int, z: float = Z) -> float:
    """The lower end of the Wilson score interval of successes / trials (0 without trials)."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - spread) / (1 + z * z / trials))


def _live_contributions(language: str | None) -> QuerySet[Contribution]:
    rows = Contribution.objects.filter(task__deleted_at__isnull=True)
    return rows.filter(language_id=language) if language else rows


def _accepted_weight() -> Sum:
    """Σ weight over accepted contributions, in SQL (module docstring)."""
    accepted = Q(status=ACCEPTED)
    edit_weight = Value(EDIT_BASE) + Least(Coalesce(F("edit_distance"), Value(0)), Value(EDIT_CAP)) * Value(
        EDIT_PER_CHAR
    )
    whens = [When(accepted & Q(kind=kind), then=Value(weight)) for kind, weight in WEIGHTS.items()]
    whens.append(When(accepted & Q(kind=CampaignKind.EDIT), then=edit_weight))
    return Sum(Case(*whens, default=Value(0.0), output_field=FloatField()))


def _counted(rows: QuerySet[Contribution]) -> QuerySet:
    """Per contributor and language: accepted, rejected, pending and decided counts (GROUP BY)."""
    return (
        rows.order_by()
        .values("contributor_id", "contributor__username", "language_id")
        .annotate(
            accepted=Count("id", filter=Q(status=ACCEPTED)),
            rejected=Count("id", filter=Q(status=REJECTED)),
            pending=Count("id", filter=Q(status=PENDING)),
            decided=Count("id", filter=Q(status__in=(ACCEPTED, REJECTED))),
        )
    )


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


def _votes(language: str | None) -> dict[tuple[int, str], dict]:
    """Per voter and language, the votes on decided contributions and how many agreed with the decision."""
    votes = Verdict.objects.filter(
        contribution__task__deleted_at__isnull=True, contribution__status__in=(ACCEPTED, REJECTED)
    )
    if language:
        votes = votes.filter(contribution__language_id=language)
    agreed = Q(up=True, contribution__status=ACCEPTED) | Q(up=False, contribution__status=REJECTED)
    rows = (
        votes.order_by()
        .values("voter_id", "voter__username", "contribution__language_id")
        .annotate(votes=Count("id"), agreed=Count("id", filter=agreed))
    )
    return {(row["voter_id"], row["contribution__language_id"]): row for row in rows}


def standings(*, language: str | None = None) -> list[Standing]:
    """Every contributor's standing per language (or in one), best first within each language; two queries."""
    counted = _counted(_live_contributions(language)).annotate(weight=Coalesce(_accepted_weight(), Value(0.0)))
    votes = _votes(language)
    rows: list[Standing] = []
    for row in counted:
        key = (row["contributor_id"], row["language_id"])
        rows.append(_standing(row["contributor__username"], row["language_id"], row, votes.pop(key, None)))
    for (_voter, code), vote in votes.items():  # voters with no contribution of their own in that language
        rows.append(_standing(vote["voter__username"], code, None, vote))
    rows.sort(key=lambda s: (s.language, -s.points, s.contributor))
    _rank(rows)
    return rows


def _standing(name: str, language: str, counts: dict | None, votes: dict | None) -> Standing:
    counts = counts or {"accepted": 0, "rejected": 0, "pending": 0, "weight": 0.0}
    quality = wilson_lower_bound(counts["accepted"], counts["accepted"] + counts["rejected"])
    agreed, cast = (votes["agreed"], votes["votes"]) if votes else (0, 0)
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
    CONTRIBUTOR_MODERATION_REJECTED_SHARE rejected; the worst share first. One query (GROUP BY ... HAVING)."""
    share = settings.CONTRIBUTOR_MODERATION_REJECTED_SHARE
    return (
        _counted(_live_contributions(language))
        .filter(decided__gte=settings.CONTRIBUTOR_MODERATION_MIN_DECIDED, rejected__gt=F("decided") * share)
        .annotate(rejected_share=Cast("rejected", FloatField()) / Cast("decided", FloatField()))
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
