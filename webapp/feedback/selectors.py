"""Reads of the feedback store: what each role may see, and the querysets exports stream."""

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from webapp.feedback import sources
from webapp.feedback.models import (
    Annotation,
    AnnotatorProfile,
    Campaign,
    Contribution,
    ContributorTally,
    Demonstration,
    DemonstrationStatus,
    Language,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TaskResponse,
    Verdict,
)
from webapp.feedback.tallies import histogram_median, tally_catch_up  # noqa: F401 (histogram_median: re-exported)
from webapp.permissions import is_reviewer, is_staff

STREAM_CHUNK = 500


def user_language_codes(user: User) -> list[str]:
    profile = getattr(user, "profile", None)
    return list(profile.languages.values_list("code", flat=True)) if profile else []


def languages_with_tasks() -> QuerySet[Language]:
    """The languages that have a task, by code: one index probe per language (EXISTS), not a join over every
    task (the review page's filter; a DISTINCT over the join reads the whole task table)."""
    return Language.objects.filter(Exists(Task.objects.filter(language_id=OuterRef("pk")))).order_by("code")


def prompt_sources(limit: int = 50) -> list[str]:
    """The prompts' distinct sources, by name, the first `limit`, where a DISTINCT would read every prompt (the
    launch form's list): one statement that skips along the (language, source) index, a probe per pair it holds
    (a recursive CTE; the row comparison is what both databases answer from the index)."""
    table = connection.ops.quote_name(Prompt._meta.db_table)
    after = f"FROM {table} p WHERE (p.language_id, p.source) > (seen.language_id, seen.source) "
    after += "ORDER BY p.language_id, p.source LIMIT 1"
    sql = (
        "WITH RECURSIVE seen(language_id, source) AS ("  # noqa: S608 (the table's own name; values are parameters)
        f"SELECT * FROM (SELECT language_id, source FROM {table} ORDER BY 1, 2 LIMIT 1) first "
        f"UNION ALL SELECT (SELECT p.language_id {after}), (SELECT p.source {after}) "
        "FROM seen WHERE seen.language_id IS NOT NULL) "
        "SELECT DISTINCT source FROM seen WHERE source IS NOT NULL ORDER BY source LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [source for (source,) in cursor.fetchall()]


def user_languages(user: User) -> QuerySet:
    """The user's language codes as a subquery (`language_id__in=`), so filtering by them costs no query of its own."""
    return AnnotatorProfile.languages.through.objects.filter(annotatorprofile__user=user).values("language_id")


def campaigns_for_user(user: User) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.alive().prefetch_related("languages")
    if is_reviewer(user):
        return campaigns
    return campaigns.filter(languages__code__in=user_language_codes(user)).distinct()


def tasks_for_user(user: User) -> QuerySet[Task]:
    """Reviewers and staff see every task; an annotator only those in their languages and in
    campaigns whose pool is open or includes them. With what a task's output shows, in a constant number of queries
    however many tasks a page holds (a verify task's contribution and the response an edit improves included)."""
    tasks = (
        Task.objects.alive()
        .select_related("prompt", "campaign", "language", "contribution__original_response")
        .prefetch_related(Prefetch("items", queryset=TaskResponse.objects.select_related("response")))
    )
    if is_reviewer(user):
        return tasks
    return tasks.filter(language_id__in=user_languages(user), campaign__deleted_at__isnull=True).filter(
        campaign__in=open_campaigns_for(user)
    )


def open_campaigns_for(user: User) -> QuerySet[Campaign]:
    return Campaign.objects.alive().filter(is_active=True).filter(Q(annotators=None) | Q(annotators=user)).distinct()


def annotations_for_user(user: User) -> QuerySet[Annotation]:
    annotations = Annotation.objects.select_related("task", "annotator").filter(task__deleted_at__isnull=True)
    return annotations if is_reviewer(user) else annotations.filter(annotator=user)


def prompts_for_user(user: User) -> QuerySet[Prompt]:
    prompts = Prompt.objects.alive().select_related("language")
    return prompts if is_reviewer(user) else prompts.filter(language__code__in=user_language_codes(user))


def responses_for_user(user: User) -> QuerySet[Response]:
    responses = Response.objects.alive().select_related("prompt")
    if is_reviewer(user):
        return responses
    return responses.filter(prompt__language__code__in=user_language_codes(user))


def preferences_for_user(user: User) -> QuerySet[PreferenceRecord]:
    records = PreferenceRecord.objects.alive().select_related("language")
    return records if is_staff(user) or is_reviewer(user) else records.none()


def _created_between(since, until) -> Q:
    """Rows created in [since, until); either end may be open."""
    window = Q()
    if since:
        window &= Q(created_at__gte=since)
    if until:
        window &= Q(created_at__lt=until)
    return window


def tasks_for_pairs(
    *,
    languages: list[str] | None = None,
    campaigns: list[str] | None = None,
    rankings: Q | None = None,
    since=None,
    until=None,
) -> QuerySet[Task]:
    """Tasks with everything pair derivation reads, for streaming with .iterator(). Only the annotations
    that `rankings` selects (sources.selected; default: every source but judges) and, with a time window,
    that were made inside it count; tasks with none are left out."""
    if rankings is None:
        rankings = sources.selected((), (), sources.RANKING_SOURCES)
    annotations = (
        Annotation.objects.filter(rankings, _created_between(since, until)).select_related("annotator").order_by("id")
    )
    tasks = (
        Task.objects.alive()
        .filter(pk__in=annotations.values("task_id"))
        .select_related("prompt", "campaign")
        .prefetch_related(
            Prefetch("items", queryset=TaskResponse.objects.select_related("response").order_by("position")),
            Prefetch("annotations", queryset=annotations),
        )
        .order_by("id")
    )
    if languages:
        tasks = tasks.filter(language_id__in=languages)
    if campaigns:
        tasks = tasks.filter(campaign__name__in=campaigns)
    return tasks


def _decided(include_pending: bool) -> Q:
    """Accepted rows, or with `include_pending` pending ones too; rejected ones never."""
    if include_pending:
        return Q(status__in=(DemonstrationStatus.ACCEPTED, DemonstrationStatus.PENDING))
    return Q(status=DemonstrationStatus.ACCEPTED)


def preference_records(
    *,
    languages: list[str] | None = None,
    selection: Q | None = None,
    since=None,
    until=None,
    include_pending: bool = False,
) -> QuerySet[PreferenceRecord]:
    """Live accepted preference records (with `include_pending`, pending ones too: an edit's pair before its
    verification), filtered by language, by `selection` (sources.selected) and by time."""
    records = (
        PreferenceRecord.objects.alive()
        .filter(_decided(include_pending))
        .filter(_created_between(since, until))
        .order_by("id")
    )
    if languages:
        records = records.filter(language_id__in=languages)
    if selection is not None:
        records = records.filter(selection)
    return records


def demonstrations(
    *,
    languages: list[str] | None = None,
    selection: Q | None = None,
    since=None,
    until=None,
    include_pending: bool = False,
) -> QuerySet[Demonstration]:
    """Live accepted demonstrations (SFT data; with `include_pending`, pending ones too), filtered by language, by
    `selection` (sources.selected) and by time; rejected ones are kept but never selected here."""
    rows = (
        Demonstration.objects.alive()
        .filter(_decided(include_pending))
        .filter(_created_between(since, until))
        .order_by("id")
    )
    if languages:
        rows = rows.filter(language_id__in=languages)
    if selection is not None:
        rows = rows.filter(selection)
    return rows


def annotator_progress(user: User, *, campaign_id: int | None = None) -> dict:
    """What the workspace shows: annotations today and in total, and the tasks still open to this
    annotator (in their languages, with a free slot, not done or skipped by them; leases ignored)."""
    from django.utils import timezone

    mine = Annotation.objects.filter(annotator=user, source=sources.ASSIGNED, task__deleted_at__isnull=True)
    # Contribution kinds' work counts as done too: contributions, and verify votes (their task is the voter's).
    written = Contribution.objects.filter(contributor=user, task__deleted_at__isnull=True)
    votes = Verdict.objects.filter(voter=user, contribution__verify_tasks__deleted_at__isnull=True)
    open_tasks = (
        Task.objects.alive()
        .open()
        .filter(language__code__in=user_language_codes(user), campaign__in=open_campaigns_for(user))
        .exclude(annotations__annotator=user)
        .exclude(contributions__contributor=user)
        .exclude(contribution__contributor=user)
        .exclude(contribution__verdicts__voter=user)
        .exclude(skips__annotator=user)
    )
    if campaign_id is not None:
        mine = mine.filter(task__campaign_id=campaign_id)
        written = written.filter(task__campaign_id=campaign_id)
        votes = votes.filter(contribution__verify_tasks__campaign_id=campaign_id)
        open_tasks = open_tasks.filter(campaign_id=campaign_id)
    today = timezone.localdate()
    done = (mine, written, votes.distinct())
    return {
        "done_today": sum(rows.filter(created_at__date=today).count() for rows in done),
        "done_total": sum(rows.count() for rows in done),
        "remaining": open_tasks.count(),
        "languages": user_language_codes(user),
    }


def contributions_for_user(user: User) -> QuerySet[Contribution]:
    """Reviewers and staff see every contribution; others their own."""
    rows = Contribution.objects.select_related(
        "task", "contributor", "language", "original_response", "override_by"
    ).filter(task__deleted_at__isnull=True)
    return rows if is_reviewer(user) else rows.filter(contributor=user)


def review_queue(user: User) -> QuerySet[Contribution]:
    """What a reviewer decides: flagged translations and disputed votes, neither overridden yet."""
    return contributions_for_user(user).filter(Q(flagged=True) | Q(disputed=True)).filter(override_status="")


def contributor_stats(user: User, *, language: str | None = None) -> list[dict]:
    """Per contributor and language: accepted, rejected and pending contributions and the median edit distance of
    their edits (null without one), over contributions whose task is not deleted (as the leaderboard counts). An
    annotator gets their own rows; reviewers and staff everyone's. Read from the tallies (webapp/feedback/tallies.py,
    after folding what is pending): one row per contributor and language, with the exact median the fold read from
    its histogram of edit distances, so no row per contribution reaches Python."""
    tally_catch_up()
    rows = ContributorTally.objects.filter(Q(accepted__gt=0) | Q(rejected__gt=0) | Q(pending__gt=0)).order_by()
    if not is_reviewer(user):
        rows = rows.filter(contributor=user)
    if language:
        rows = rows.filter(language__code__iexact=language)
    stats = {}
    for name, code, accepted, rejected, pending, median in rows.values_list(
        "contributor__username", "language_id", "accepted", "rejected", "pending", "median_distance"
    ):
        stats[(name, code)] = {
            "contributor": name,
            "language": code,
            "accepted": accepted,
            "rejected": rejected,
            "pending": pending,
            "median_edit_distance": median,
        }
    return [stats[key] for key in sorted(stats)]
