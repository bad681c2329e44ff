"""The contributor figures' tallies (README, "Contribution tasks"; docs/architecture.md): one `ContributorTally`
row per contributor and language, so the leaderboard, the moderation list and the contributor stats read one
row per contributor and language, never one per contribution or vote.

- Marks. Whatever can change a contributor's figures inserts a `ContributorDirty` row (contributor, language) in
  its own transaction, and nothing else: a contribution saved (stored, decided, overridden) marks its contributor
  and every voter on it (their votes agree or not with its decision); a vote saved or deleted marks its voter; a
  task soft-deleted marks the contributors and voters of its contributions in one INSERT ... SELECT
  (`tally_mark_tasks`). The saves are caught by signals (`connect`), so a row written by any path is marked;
  writers never update a tally, so a submit never waits on the fold or on another writer.
- Fold. `tally_fold` reads the oldest markers (at most `limit` rows), recomputes exactly those keys with
  `recompute` (the same GROUP BY as a full recomputation, restricted to the keys' contributors and languages:
  the `contribution_by_contributor` index and the verdicts' voter index), upserts them, drops the tallies of
  keys with nothing left, and deletes the markers it read by id, so a marker committed meanwhile is kept for
  the next fold. Folds run one at a time (a lock on PostgreSQL; SQLite serialises writers).
- When. A read folds what is pending first when that is at most CONTRIBUTOR_FOLD_ON_READ markers (so a read is
  exact, with or without a worker); beyond that it folds that many, asks the sweep for the rest
  (workers/tasks/contributions.py `fold_tallies`, also every CONTRIBUTOR_FOLD_SECONDS) and shows the tallies as
  of then."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.db.models.signals import post_delete, post_save

from webapp.feedback.models import (
    CampaignKind,
    Contribution,
    ContributorDirty,
    ContributorTally,
    DemonstrationStatus,
    Verdict,
)
from webapp.feedback.quality.additive import histogram_median as median_of_counts
from webapp.queue import send_task

WEIGHTS = {CampaignKind.WRITE: 3.0, CampaignKind.TRANSLATE: 3.0, CampaignKind.REPLY: 2.0}
EDIT_BASE = 1.0  # an accepted edit earns this, plus EDIT_PER_CHAR per character changed up to EDIT_CAP
EDIT_PER_CHAR = 0.01
EDIT_CAP = 200
CHUNK = 500  # contributors per recomputation query; marker ids per DELETE
LOCK = 0x7A11  # the fold's PostgreSQL advisory lock

ACCEPTED, REJECTED, PENDING = DemonstrationStatus.ACCEPTED, DemonstrationStatus.REJECTED, DemonstrationStatus.PENDING
FIELDS = ("accepted", "rejected", "pending", "weight", "distances", "median_distance", "votes", "agreed")
Key = tuple[int, str]


# --- Marks ---------------------------------------------------------------------------------------------------


def tally_mark(keys: Iterable[Key]) -> None:
    """Insert one marker per (contributor id, language)."""
    rows = [ContributorDirty(contributor_id=c, language_id=code) for c, code in dict.fromkeys(keys)]
    ContributorDirty.objects.bulk_create(rows, batch_size=2000)


def tally_mark_tasks(task_ids: Iterable[int] | QuerySet) -> None:
    """Tasks soft-deleted (or back): the contributors and the voters of their contributions, marked in two
    INSERT ... SELECT statements (no row reaches Python). Call it with the tasks' ids or a query of them."""
    task_ids = task_ids if isinstance(task_ids, QuerySet) else list(task_ids)
    contributors = Contribution.objects.filter(task_id__in=task_ids).values("contributor_id", "language_id")
    voters = Verdict.objects.filter(contribution__task_id__in=task_ids).values("voter_id", "contribution__language_id")
    _insert_select(contributors.order_by().distinct())
    _insert_select(voters.order_by().distinct())


def _insert_select(rows: QuerySet) -> None:
    sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(ContributorDirty._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (contributor_id, language_id) {sql}", params)  # noqa: S608


def _contribution_saved(sender, instance: Contribution, created: bool = False, **kwargs) -> None:
    """Stored, decided or overridden: the contributor, and every voter (agreement follows the decision)."""
    tally_mark([(instance.contributor_id, instance.language_id)])
    if not created:
        _insert_select(
            Verdict.objects.filter(contribution_id=instance.pk).values("voter_id", "contribution__language_id")
        )


def _verdict_changed(sender, instance: Verdict, **kwargs) -> None:
    if getattr(instance, "_tally_marked", False):
        return  # the vote's service marked it with the contribution's other voters (services/contributing.py)
    language = (
        instance.contribution.language_id
        if Verdict.contribution.is_cached(instance)
        else Contribution.objects.filter(pk=instance.contribution_id).values_list("language_id", flat=True).first()
    )
    if language is not None:
        tally_mark([(instance.voter_id, language)])


def connect() -> None:
    post_save.connect(_contribution_saved, sender=Contribution, dispatch_uid="tally_contribution_saved")
    post_delete.connect(_contribution_saved, sender=Contribution, dispatch_uid="tally_contribution_deleted")
    post_save.connect(_verdict_changed, sender=Verdict, dispatch_uid="tally_verdict_saved")
    post_delete.connect(_verdict_changed, sender=Verdict, dispatch_uid="tally_verdict_deleted")


# --- The full recomputation ----------------------------------------------------------------------------------


def accepted_weight() -> Sum:
    """Σ weight over accepted contributions, in SQL (contributors.py's docstring)."""
    accepted = Q(status=ACCEPTED)
    edit_weight = Value(EDIT_BASE) + Least(Coalesce(F("edit_distance"), Value(0)), Value(EDIT_CAP)) * Value(
        EDIT_PER_CHAR
    )
    whens = [When(accepted & Q(kind=kind), then=Value(weight)) for kind, weight in WEIGHTS.items()]
    whens.append(When(accepted & Q(kind=CampaignKind.EDIT), then=edit_weight))
    return Sum(Case(*whens, default=Value(0.0), output_field=FloatField()))


def recompute(
    contributors: Iterable[int] | None = None, languages: Iterable[str] | None = None, *, apps: Any = None
) -> dict[Key, dict]:
    """Every (contributor id, language)'s figures from the contributions and votes themselves, over contributions
    whose task is not deleted: everyone's, or those of these contributors in these languages. Three GROUP BY
    queries (counts and weight; the histogram of edit distances; votes on decided contributions). `apps`: a
    migration's models."""
    contribution = apps.get_model("feedback", "Contribution") if apps else Contribution
    verdict = apps.get_model("feedback", "Verdict") if apps else Verdict
    rows = contribution.objects.filter(task__deleted_at__isnull=True).order_by()
    votes = verdict.objects.filter(
        contribution__task__deleted_at__isnull=True, contribution__status__in=(ACCEPTED, REJECTED)
    )
    if contributors is not None:
        rows, votes = rows.filter(contributor_id__in=list(contributors)), votes.filter(voter_id__in=list(contributors))
    if languages is not None:
        codes = list(languages)
        rows, votes = rows.filter(language_id__in=codes), votes.filter(contribution__language_id__in=codes)
    figures: dict[Key, dict] = {}

    def entry(key: Key) -> dict:
        empty: dict[str, Any] = {"accepted": 0, "rejected": 0, "pending": 0, "weight": 0.0, "distances": {}}
        empty["median_distance"] = None
        return figures.setdefault(key, empty | {"votes": 0, "agreed": 0})

    for row in rows.values("contributor_id", "language_id").annotate(
        accepted=Count("id", filter=Q(status=ACCEPTED)),
        rejected=Count("id", filter=Q(status=REJECTED)),
        pending=Count("id", filter=Q(status=PENDING)),
        weight=Coalesce(accepted_weight(), Value(0.0)),
    ):
        entry((row["contributor_id"], row["language_id"])).update(
            accepted=row["accepted"], rejected=row["rejected"], pending=row["pending"], weight=row["weight"]
        )
    for contributor, code, distance, n in (
        rows.filter(edit_distance__isnull=False)
        .values_list("contributor_id", "language_id", "edit_distance")
        .annotate(n=Count("id"))
        .order_by("contributor_id", "language_id", "edit_distance")
    ):
        entry((contributor, code))["distances"][str(distance)] = n
    for values in figures.values():
        if values["distances"]:
            values["median_distance"] = histogram_median(sorted((int(d), n) for d, n in values["distances"].items()))
    agreed = Q(up=True, contribution__status=ACCEPTED) | Q(up=False, contribution__status=REJECTED)
    for row in (
        votes.order_by()
        .values("voter_id", "contribution__language_id")
        .annotate(votes=Count("id"), agreed=Count("id", filter=agreed))
    ):
        entry((row["voter_id"], row["contribution__language_id"])).update(votes=row["votes"], agreed=row["agreed"])
    return figures


def histogram_median(histogram: list[tuple[int, int]]) -> float | None:
    """The median (statistics.median's) of the values that (value, count) pairs describe: the review summary's
    histogram median (webapp/feedback/quality/additive.py), over integer values."""
    return median_of_counts({str(value): n for value, n in histogram})


def tally_values(tally: ContributorTally) -> dict[str, Any]:
    """A tally's figures as `recompute` gives them (for comparisons)."""
    return {name: getattr(tally, name) for name in FIELDS}


# --- The fold ------------------------------------------------------------------------------------------------


def tally_fold(limit: int | None = None) -> int:
    """Fold the oldest `limit` markers (CONTRIBUTOR_FOLD_BATCH) in one transaction; returns the keys refolded."""
    limit = limit or settings.CONTRIBUTOR_FOLD_BATCH
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        marks = list(ContributorDirty.objects.order_by("pk").values_list("pk", "contributor_id", "language_id")[:limit])
        if not marks:
            return 0
        keys = {(contributor, code) for _pk, contributor, code in marks}
        refold(keys)
        ids = [pk for pk, *_key in marks]
        for start in range(0, len(ids), CHUNK):
            ContributorDirty.objects.filter(pk__in=ids[start : start + CHUNK]).delete()
    return len(keys)


def refold(keys: set[Key]) -> None:
    """Recompute these keys' tallies and store them (the keys' contributors in the keys' languages: a superset,
    every row of it exact); a key with nothing left loses its tally."""
    languages = sorted({code for _c, code in keys})
    contributors = sorted({c for c, _code in keys})
    for start in range(0, len(contributors), CHUNK):
        chunk = contributors[start : start + CHUNK]
        figures = recompute(chunk, languages)
        ContributorTally.objects.bulk_create(
            [ContributorTally(contributor_id=c, language_id=code, **values) for (c, code), values in figures.items()],
            update_conflicts=True,
            unique_fields=["contributor", "language"],
            update_fields=[*FIELDS, "folded_at"],
            batch_size=1000,
        )
        stale = [
            pk
            for pk, c, code in ContributorTally.objects.filter(
                contributor_id__in=chunk, language_id__in=languages
            ).values_list("pk", "contributor_id", "language_id")
            if (c, code) not in figures
        ]
        ContributorTally.objects.filter(pk__in=stale).delete()


def tally_catch_up() -> None:
    """Before a read: fold what is pending when that is at most CONTRIBUTOR_FOLD_ON_READ markers; beyond that,
    fold that many and leave the rest to the sweep (one bounded query when nothing is pending)."""
    cap = settings.CONTRIBUTOR_FOLD_ON_READ
    pending = ContributorDirty.objects.order_by("pk")[: cap + 1].count() if cap else 1
    if not pending:
        return
    if cap:
        tally_fold(cap)
    if pending > cap:
        send_task("workers.tasks.contributions.fold_tallies", args=[], queue="sweep")  # the markers are committed


def tally_pending(cap: int) -> int:
    """Markers not folded yet, counted up to `cap`."""
    return ContributorDirty.objects.all()[:cap].count()


def tally_rebuild(apps: Any = None) -> int:
    """Every tally from a full recomputation (the migration's fill; a repair), and the markers read before it
    dropped: returns the tallies written. `apps`: a migration's models."""
    tally = apps.get_model("feedback", "ContributorTally") if apps else ContributorTally
    dirty = apps.get_model("feedback", "ContributorDirty") if apps else ContributorDirty
    with transaction.atomic():
        top = dirty.objects.order_by("-pk").values_list("pk", flat=True).first()
        figures = recompute(apps=apps)
        tally.objects.all().delete()
        tally.objects.bulk_create(
            [tally(contributor_id=c, language_id=code, **values) for (c, code), values in figures.items()],
            batch_size=1000,
        )
        if top is not None:
            dirty.objects.filter(pk__lte=top).delete()
    return len(figures)
