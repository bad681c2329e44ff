"""The feedback store: languages, campaigns, texts, ranking tasks, annotations and preference
records (docs/formats.md, "What is stored"). Content fields keep the imported form exactly: a string stays a
string, a list of chat messages stays a list."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from webapp.feedback.jsonfield import TextJSONField
from webapp.feedback.sources import MAX_ORIGIN, Source
from webapp.jobs.models import Job

MAX_RESPONSES = 9
MIN_RESPONSES = 2


class Direction(models.TextChoices):
    LTR = "ltr"
    RTL = "rtl"


class Language(models.Model):
    code = models.CharField(max_length=35, primary_key=True, help_text="BCP-47 tag, e.g. en, zh-Hans, ar")
    name = models.CharField(max_length=100)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.LTR)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class CampaignKind(models.TextChoices):
    """What a campaign's annotators do (README, "Contribution tasks"): rank responses, or contribute: write an
    answer, reply as the user, edit a shown answer, translate a prompt, or verify others' contributions."""

    RANKING = "ranking"
    WRITE = "write"
    REPLY = "reply"
    EDIT = "edit"
    TRANSLATE = "translate"
    VERIFY = "verify"


# The kinds whose work is a written text (a `Contribution`), and the kind that votes on them.
CONTRIBUTION_KINDS = (CampaignKind.WRITE, CampaignKind.REPLY, CampaignKind.EDIT, CampaignKind.TRANSLATE)


class Campaign(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Fixed at creation. `overlap` keeps its meaning per kind: annotators per ranking task, answers wanted per
    # prompt (write, reply, edit, translate), votes wanted per contribution (verify).
    kind = models.CharField(max_length=20, choices=CampaignKind.choices, default=CampaignKind.RANKING)
    min_edit_distance = models.PositiveIntegerField(
        default=5, help_text="edit: the least character edit distance between an edit and its original"
    )
    verify_votes = models.PositiveSmallIntegerField(default=3, help_text="verify: votes before a decision")
    verify_share = models.FloatField(default=0.6, help_text="verify: share of ups that accepts (downs: rejects)")
    verifies = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verified_by",
        help_text="verify: the campaign whose contributions this one votes on",
    )
    guidelines = models.TextField(blank=True, help_text="Markdown")
    languages = models.ManyToManyField(Language, related_name="campaigns", blank=True)
    overlap = models.PositiveSmallIntegerField(default=2, help_text="Distinct annotators per task")
    annotators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="campaigns",
        blank=True,
        help_text="The annotator pool; empty means every annotator with a matching language",
    )
    is_active = models.BooleanField(default=True)
    # Suggestions (webapp/feedback/services/suggestions.py): this judge's ranking (NAME@VERSION) is the
    # starting order annotators see, except on a fraction of tasks chosen by hash, kept to measure anchoring.
    suggestion_judge = models.CharField(max_length=MAX_ORIGIN, blank=True)
    suggestion_holdout = models.FloatField(default=0.2, help_text="Share of tasks shown without the suggestion")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AnnotatorProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    languages = models.ManyToManyField(Language, related_name="annotators", blank=True)
    is_external = models.BooleanField(default=False, help_text="Created by an import (import:NAME)")

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Text(models.Model):
    """What prompts and responses share: content in its original form, a plain text rendering for
    display and search, a hash for deduplication, and versioning (texts are immutable once judged)."""

    content = TextJSONField(help_text="A string, or a list of chat messages")
    text = models.TextField(help_text="Plain text rendering of content")
    content_hash = models.CharField(max_length=64, db_index=True)
    metadata = TextJSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        abstract = True


class Prompt(Text):
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="prompts")
    group = models.CharField(max_length=200, blank=True, db_index=True, help_text="Translation group")
    source = models.CharField(max_length=50, default="api")
    external_id = models.CharField(max_length=200, blank=True)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_version"
    )

    class Meta:
        indexes = [models.Index(fields=["language", "source"], name="prompt_lang_source")]

    def __str__(self) -> str:
        return f"prompt {self.pk} [{self.language_id}]"


class Response(Text):
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="responses")
    model_name = models.CharField(max_length=200, blank=True, help_text="Producing model (variant or external)")
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_version"
    )

    def __str__(self) -> str:
        return f"response {self.pk} to prompt {self.prompt_id}"


def has_free_slot(annotation_count: int, leased: int, overlap: int) -> bool:
    """The one rule for "a task has a free slot": its campaign's overlap counts distinct annotators, and
    a slot is taken by an annotation or by another annotator's live lease."""
    return annotation_count + leased < overlap


class TaskQuerySet(SoftDeleteQuerySet):
    def open(self, overlap: int | None = None) -> "TaskQuerySet":
        """Tasks with a slot no annotation has taken (`has_free_slot` with no leases counted; callers
        that lease count live leases on top). Pass the campaign's `overlap` when filtering one campaign,
        so the query compares with a constant and stays on the `task_next` index."""
        limit = F("campaign__overlap") if overlap is None else overlap
        return self.filter(annotation_count__lt=limit)


# Every slot taken by an annotation: the complement of TaskQuerySet.open(), for aggregates.
COMPLETE = Q(annotation_count__gte=F("campaign__overlap"))


class Task(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="tasks")
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="tasks")
    # Denormalised for the next-task query: the prompt's language, and the number of annotations.
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="tasks")
    external_id = models.CharField(max_length=200, blank=True)
    import_hash = models.CharField(max_length=64, blank=True)
    # Slots taken: annotations (ranking), contributions (write, reply, edit, translate) or verdicts (verify).
    annotation_count = models.PositiveIntegerField(default=0)
    kind = models.CharField(
        max_length=20, default="ranking", help_text="What annotators do with it (webapp.feedback.extensions.task_kinds)"
    )
    gold_position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Gold item: the stored position of the known best response (staff only)"
    )
    # verify: the contribution this task asks votes on (one task per contribution and verify campaign).
    contribution = models.ForeignKey(
        "Contribution", null=True, blank=True, on_delete=models.PROTECT, related_name="verify_tasks"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="task_external_id_unique"
            )
        ]
        indexes = [
            # next task for an annotator: open tasks of a campaign in a language, least annotated first
            models.Index(
                fields=["campaign", "language", "-annotation_count", "id"],
                name="task_next",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}"

    def has_free_slot(self, leased: int = 0) -> bool:
        return has_free_slot(self.annotation_count, leased, self.campaign.overlap)


class TaskResponse(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="items")
    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="task_items")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["task", "position"]
        constraints = [
            models.UniqueConstraint(fields=["task", "position"], name="task_position_unique"),
            models.UniqueConstraint(fields=["task", "response"], name="task_response_unique"),
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} #{self.position}: response {self.response_id}"


class Lease(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="leases")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leases")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "annotator"], name="lease_unique")]

    def __str__(self) -> str:
        return f"lease of task {self.task_id} to user {self.annotator_id} until {self.expires_at}"


class Flag(models.TextChoices):
    WRONG_LANGUAGE = "wrong_language"
    UNSAFE = "unsafe"
    ALL_BAD = "all_bad"


class Annotation(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations")
    ranking = models.JSONField(help_text="Positions in stored order, best first; an inner list of several is a tie")
    display_order = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    rationale = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # Where the ranking comes from (webapp/feedback/sources.py): a live annotator, an imported file
    # (origin `rankings`) or a judge (origin `NAME@VERSION`).
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ANNOTATION)
    origin = models.CharField(max_length=MAX_ORIGIN, blank=True)
    # The judge's ranking the annotator was shown as the starting order (null: none was shown), and whose.
    suggestion = models.JSONField(null=True, blank=True)
    suggested_by = models.CharField(max_length=MAX_ORIGIN, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "annotator"], name="annotation_unique")]
        indexes = [models.Index(fields=["annotator", "created_at"], name="annotation_by_annotator")]

    def __str__(self) -> str:
        return f"annotation of task {self.task_id} by user {self.annotator_id}"


class Skip(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="skips")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skips")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "annotator"], name="skip_unique")]

    def __str__(self) -> str:
        return f"skip of task {self.task_id} by user {self.annotator_id}"


class DemonstrationStatus(models.TextChoices):
    """Where a demonstration, a contribution and the pair an edit yielded stand (a contribution's own status
    is copied to what it yielded)."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    REJECTED = "rejected"


class Outcome(models.TextChoices):
    A = "a"
    B = "b"
    TIE = "tie"
    BOTH_BAD = "both_bad"


class PreferenceRecord(models.Model):
    """One comparison from outside the ranking flow: an arena vote or an imported pair."""

    external_id = models.CharField(max_length=200, unique=True)
    content_hash = models.CharField(max_length=64)
    prompt = TextJSONField()
    response_a = TextJSONField()
    response_b = TextJSONField()
    prompt_text = models.TextField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.IMPORT)
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="preferences")
    group = models.CharField(max_length=200, blank=True, db_index=True)
    prompt_external_id = models.CharField(max_length=200, blank=True)
    origin = models.CharField(
        max_length=MAX_ORIGIN,
        blank=True,
        help_text="import: the 'source' an imported line named, else pairs (or api); arena: local",
    )
    model_a = models.CharField(max_length=200, blank=True)
    model_b = models.CharField(max_length=200, blank=True)
    agreement = models.FloatField(null=True, blank=True)
    client_hash = models.CharField(max_length=64, blank=True)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="preferences"
    )
    # Accepted unless it comes from a contribution still being verified (an edit's pair follows its edit):
    # exports and training take accepted records only, unless asked (`include_pending`).
    status = models.CharField(max_length=10, choices=DemonstrationStatus.choices, default=DemonstrationStatus.ACCEPTED)
    metadata = TextJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["source", "language", "id"], name="preference_export")]

    def __str__(self) -> str:
        return f"{self.source} preference {self.external_id}"


class Demonstration(models.Model):
    """A prompt with a reference answer: supervised fine-tuning data. Imported from published datasets
    (Aya: `import_feedback --format aya`), and the one model that written and edited answers use when
    contribution tasks store theirs (`source` write or edit). Only accepted ones are exported and trained on
    unless asked; pending and rejected ones are kept, never deleted."""

    external_id = models.CharField(max_length=200, unique=True)
    content_hash = models.CharField(max_length=64)
    prompt = TextJSONField(help_text="A string, or a list of chat messages")
    completion = TextJSONField(help_text="The reference answer (a string)")
    prompt_text = models.TextField()
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="demonstrations")
    group = models.CharField(max_length=200, blank=True, db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.IMPORT)
    origin = models.CharField(max_length=MAX_ORIGIN, blank=True, help_text="import: the format (aya, ...)")
    status = models.CharField(max_length=10, choices=DemonstrationStatus.choices, default=DemonstrationStatus.ACCEPTED)
    metadata = TextJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["source", "language", "id"], name="demonstration_export")]

    def __str__(self) -> str:
        return f"{self.source} demonstration {self.external_id}"


class Contribution(models.Model):
    """One person's written work on a contribution task (webapp/feedback/services/contributing.py): an answer
    (write), the next user turn (reply), an improved answer (edit) or a translation (translate). What it yields
    is linked here: a `Demonstration` (write, edit; source write/edit), a pair (edit: the edited answer over
    the original, a `PreferenceRecord` with source edit) or a new `Prompt` (reply; translate, in the source's
    translation group). Its `status` moves with the verify votes (or a reviewer's override), and the
    demonstration's and pair's status follow it: pending and rejected work is kept, never exported or trained
    on unless asked."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="contributions")
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions")
    kind = models.CharField(max_length=20, choices=CampaignKind.choices)
    language = models.ForeignKey(
        Language, on_delete=models.PROTECT, related_name="contributions", help_text="The language of the text"
    )
    content = models.TextField()
    seconds = models.FloatField(null=True, blank=True)
    original_response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.PROTECT, related_name="edits", help_text="edit"
    )
    created_prompt = models.OneToOneField(
        Prompt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contribution",
        help_text="reply, translate",
    )
    demonstration = models.OneToOneField(
        Demonstration, null=True, blank=True, on_delete=models.PROTECT, related_name="contribution"
    )
    pair = models.OneToOneField(
        PreferenceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="contribution", help_text="edit"
    )
    edit_distance = models.PositiveIntegerField(null=True, blank=True, help_text="edit: character Levenshtein")
    # translate: the multilingual encoder's similarity of source and translation (null: not checked, or skipped
    # for a language outside the encoder's list, see check_note), flagged below the threshold.
    similarity = models.FloatField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_note = models.CharField(max_length=200, blank=True)
    # translate: when the resend sweep last sent the check (null: sent once, after the commit that stored it).
    check_sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=DemonstrationStatus.choices, default=DemonstrationStatus.PENDING)
    up_votes = models.PositiveIntegerField(default=0)
    down_votes = models.PositiveIntegerField(default=0)
    # Enough votes, but the share of ups between the two thresholds: pending, in the reviewer queue.
    disputed = models.BooleanField(default=False)
    override_status = models.CharField(max_length=10, choices=DemonstrationStatus.choices, blank=True)
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="overrides"
    )
    override_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "contributor"], name="contribution_unique")]
        indexes = [
            models.Index(fields=["status", "kind"], name="contribution_status"),
            models.Index(fields=["contributor", "language"], name="contribution_by_contributor"),
            # The resend sweep's rows: translations whose check is not recorded yet (few at any time).
            models.Index(
                fields=["created_at"],
                name="contribution_unchecked",
                condition=Q(kind="translate", checked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} contribution {self.pk} to task {self.task_id}"


class Verdict(models.Model):
    """One verify vote: thumbs up or down on a contribution, with an optional reason; one per voter and
    contribution. An unpaired label: with the contribution's final status, an accepted contribution's up votes
    are desirable and a rejected one's votes undesirable examples (the KTO export reads them so)."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="verdicts")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="verdicts")
    up = models.BooleanField()
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contribution", "voter"], name="verdict_unique")]

    def __str__(self) -> str:
        return f"{'up' if self.up else 'down'} on contribution {self.contribution_id} by user {self.voter_id}"


# The contributor figures (webapp/feedback/tallies.py): per (contributor, language) tallies folded from
# insert-only markers, so the leaderboard, the moderation list and the stats read one row per contributor and
# language instead of every contribution and vote.


class ContributorTally(models.Model):
    """One contributor's figures in one language, as a full recomputation over live tasks gives them
    (tallies.recompute): their contributions by status, the Σ weight of the accepted ones (contributors.py), the
    histogram of their edits' distances ({distance: count}, for the exact median), and their verify votes on
    decided contributions with how many agreed. Written only by the fold, which recomputes a key whole, so the
    median is stored too (a read parses no histogram)."""

    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tallies")
    language = models.ForeignKey(Language, on_delete=models.CASCADE, related_name="contributor_tallies")
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    weight = models.FloatField(default=0.0)
    distances = models.JSONField(default=dict, blank=True)
    median_distance = models.FloatField(null=True, blank=True, help_text="The distances' exact median")
    votes = models.PositiveIntegerField(default=0)
    agreed = models.PositiveIntegerField(default=0)
    folded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contributor", "language"], name="contributor_tally_unique")]
        indexes = [models.Index(fields=["language", "contributor"], name="contributor_tally_language")]

    def __str__(self) -> str:
        return f"tally of user {self.contributor_id} in {self.language_id}"


class ContributorDirty(models.Model):
    """A (contributor, language) whose tally must be recomputed: a contribution stored or decided, a vote, an
    override, a task holding contributions deleted. Insert-only, no unique constraint (a writer never updates a
    row another writer updates); the fold deletes exactly the rows it read."""

    contributor_id = models.BigIntegerField()
    language_id = models.CharField(max_length=35)

    def __str__(self) -> str:
        return f"tally marker of user {self.contributor_id} in {self.language_id}"


class TransferKind(models.TextChoices):
    IMPORT = "import"
    EXPORT = "export"


class TransferJob(Job):
    """An import or export run as a Celery task, with counts and the list of bad lines."""

    task_name = "workers.tasks.transfers.run_transfer"

    kind = models.CharField(max_length=10, choices=TransferKind.choices)
    params = TextJSONField(default=dict, blank=True)
    path = models.CharField(max_length=500, help_text="Input file (import) or output file (export)")
    result = TextJSONField(default=dict, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]


class OperationKind(models.TextChoices):
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    DELETE = "delete"
    REASSIGN = "reassign"
    GOLD = "gold"
    BACKFILL = "backfill"  # a verify campaign's tasks for the contributions stored before it


class CampaignJob(Job):
    """A bulk operation on one campaign, run by a worker in batches with progress
    (webapp/feedback/services/operations.py): archive or unarchive it, delete it with its tasks, move
    its open tasks to another campaign, mark (and unmark) gold items in bulk, or make a verify campaign's
    tasks for the pending contributions stored before it."""

    task_name = "workers.tasks.operations.run_campaign_operation"

    kind = models.CharField(max_length=10, choices=OperationKind.choices)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="jobs")
    params = TextJSONField(default=dict, blank=True)
    result = TextJSONField(default=dict, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} of campaign {self.campaign_id} ({self.status})"


# --- The review summary (webapp/feedback/quality/summary.py) -----------------------------------------
# Insert-only markers and per-task parts folded into per-(campaign, language, view) sums, so the review
# page reads sums instead of every annotation. A view is "" (every human source) or one source.


class ReviewDirty(models.Model):
    """A task whose review figures must be recomputed although no annotation or skip row was inserted:
    soft-deleted, its gold changed, moved to another campaign, an annotation or skip deleted. Insert-only
    (a writer never updates a row another writer updates); the fold reads them above its watermark and
    deletes them once below it."""

    task_id = models.BigIntegerField(null=True)
    # A deleted campaign (task_id null): its translation groups' consistency is recomputed without it.
    campaign_id = models.BigIntegerField(null=True)
    # A preference record soft-deleted or restored (the home page counts the alive ones).
    record_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        if self.record_id:
            return f"review marker of preference record {self.record_id}"
        return (
            f"review marker of task {self.task_id}" if self.task_id else f"review marker of campaign {self.campaign_id}"
        )


class ReviewState(models.Model):
    """The fold's watermark (one row, pk 1): the highest annotation, skip, marker, task, contribution,
    verdict and preference record ids folded, the id ranges below them not yet seen (rows of transactions
    that had not committed: re-read until they appear or `REVIEW_HOLE_SECONDS` pass), and when the fold ran
    (the summary's as-of time)."""

    annotation_id = models.BigIntegerField(default=0)
    skip_id = models.BigIntegerField(default=0)
    dirty_id = models.BigIntegerField(default=0)
    # Rows that change a task's slots taken (the home page's open and done tasks).
    task_id = models.BigIntegerField(default=0)
    contribution_id = models.BigIntegerField(default=0)
    verdict_id = models.BigIntegerField(default=0)
    record_id = models.BigIntegerField(default=0)
    # Alive preference records folded, {language: {source: n}} (the sum of the RecordStats rows).
    records = models.JSONField(default=dict, blank=True)
    holes = models.JSONField(default=dict, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"review summary as of {self.as_of}"


class TaskStats(models.Model):
    """One task's part of the review figures in one view, as last folded: `part` is added into its
    campaign and language's `ReviewSummary`, `groups` into a `GroupSummary` row; `row` is what the task
    shows in the review page's lists (its result, and its flags and gold misses if any), read a page at a
    time through the indexes below."""

    task = models.ForeignKey(Task, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    view = models.CharField(max_length=20, blank=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    language = models.CharField(max_length=20)
    annotations = models.PositiveIntegerField(default=0)
    flag_count = models.PositiveIntegerField(default=0)
    miss_count = models.PositiveIntegerField(default=0)
    part = models.JSONField(default=dict)
    groups = models.JSONField(default=dict)
    row = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "view"], name="task_stats_unique")]
        indexes = [
            models.Index(fields=["view", "-task"], name="task_stats_tasks", condition=Q(annotations__gt=0)),
            models.Index(
                fields=["view", "-flag_count", "task"], name="task_stats_flagged", condition=Q(flag_count__gt=0)
            ),
            models.Index(fields=["view", "-task"], name="task_stats_misses", condition=Q(miss_count__gt=0)),
        ]

    def __str__(self) -> str:
        return f"review part of task {self.task_id} ({self.view or 'human'})"


class RecordStats(models.Model):
    """An alive preference record as last folded: what it adds to `ReviewState.records` (taken out again
    when the record is deleted)."""

    record = models.OneToOneField(
        PreferenceRecord, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", primary_key=True
    )
    language = models.CharField(max_length=20)
    source = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"review part of preference record {self.record_id}"


class ReviewSummary(models.Model):
    """The sum of the `TaskStats.part` of every task of one campaign and language, in one view."""

    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    language = models.CharField(max_length=20)
    view = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "language", "view"], name="review_summary_unique")]

    def __str__(self) -> str:
        return f"review summary of campaign {self.campaign_id}, {self.language} ({self.view or 'human'})"


class GroupSummary(models.Model):
    """Per translation group, campaign, language and view: each model's summed score and count
    ({"score": {model: sum}, "count": {model: n}}), what cross-lingual consistency is computed from."""

    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    language = models.CharField(max_length=20)
    view = models.CharField(max_length=20, blank=True)
    group = models.CharField(max_length=200)
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "language", "view", "group"], name="group_summary_unique")
        ]
        indexes = [models.Index(fields=["view", "group"], name="group_summary_view")]

    def __str__(self) -> str:
        return f"group {self.group} of campaign {self.campaign_id}, {self.language} ({self.view or 'human'})"


class ConsistencyRow(models.Model):
    """One row of cross-lingual consistency (agreement.cross_lingual_consistency) as last folded: a
    translation group's two languages in one view, over every alive campaign (`scope` 0) or within one
    (`scope` its id). The last four columns are the review's order (most inconsistent first: lowest tau,
    rows without one last, then most flips, then group and languages as Python orders them), so a page is
    one index range from a cursor."""

    scope = models.BigIntegerField()
    view = models.CharField(max_length=20, blank=True)
    group = models.CharField(max_length=200)
    tau_missing = models.BooleanField()
    tau = models.FloatField()  # 0 when tau_missing
    order_flips = models.IntegerField()  # minus the number of flipped pairs: more flips first
    # group, language_a and language_b in UTF-8, NUL between: bytes compare as Python compares the strings
    sort_name = models.BinaryField()
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(
                fields=["scope", "view", "tau_missing", "tau", "order_flips", "sort_name"], name="consistency_order"
            ),
            models.Index(fields=["view", "group"], name="consistency_group"),
        ]

    def __str__(self) -> str:
        return f"consistency of group {self.group} ({self.view or 'human'})"
