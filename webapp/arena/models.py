"""The public arena: battles (one prompt, two variants, two answers), votes (each one also a
`feedback.PreferenceRecord` with source `arena`, so exports and training select it like any other
preference), per-client counters for rate limits, excluded clients and a prompt blocklist."""

import uuid

from django.conf import settings
from django.db import models

from webapp.feedback.models import Language, Outcome, PreferenceRecord
from webapp.feedback.sources import ORIGIN_LOCAL
from webapp.modelstore.models import ModelVariant


class BattleMode(models.TextChoices):
    ANONYMOUS = "anonymous"  # the Battle tab: names hidden until the vote
    NAMED = "named"  # the Side by side tab: the visitor chose both variants


class BattleStatus(models.TextChoices):
    GENERATING = "generating"
    READY = "ready"
    FAILED = "failed"
    VOTED = "voted"
    # The visitor left while the answers were generating, or the web process died: no vote can come.
    ABANDONED = "abandoned"


class Battle(models.Model):
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mode = models.CharField(max_length=10, choices=BattleMode.choices, default=BattleMode.ANONYMOUS)
    status = models.CharField(max_length=12, choices=BattleStatus.choices, default=BattleStatus.GENERATING)
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="battles")
    detected_language = models.CharField(max_length=35, blank=True)
    prompt = models.TextField()
    variant_a = models.ForeignKey(ModelVariant, on_delete=models.PROTECT, related_name="+")
    variant_b = models.ForeignKey(ModelVariant, on_delete=models.PROTECT, related_name="+")
    response_a = models.TextField(blank=True)
    response_b = models.TextField(blank=True)
    error = models.TextField(blank=True)
    client_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Imported from a battle log (webapp/arena/logs.py): `local` for the arena's own battles, else the log's
    # name; `external_id` is the log's question_id (what makes a re-import change nothing), `turn` how many
    # turns the conversations have, and `conversation_a`/`conversation_b` the whole role/content lists (the
    # arena's own battles are one turn: prompt and response), `metadata` the log's other keys and tstamp.
    origin = models.CharField(max_length=200, default=ORIGIN_LOCAL)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    turn = models.PositiveIntegerField(default=1)
    conversation_a = models.JSONField(default=list, blank=True)
    conversation_b = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~models.Q(external_id=""), name="arena_battle_external"
            )
        ]

    def __str__(self) -> str:
        return f"battle {self.pk}: {self.variant_a_id} vs {self.variant_b_id}"


class Vote(models.Model):
    """The arena's view of one vote; the preference itself lives on `preference`. The one-to-one on
    `battle` is what makes a second vote on a battle impossible, whatever two processes race."""

    battle = models.OneToOneField(Battle, on_delete=models.PROTECT, related_name="vote")
    # None: an imported multi-turn battle past its first turn, which counts in ratings but is no preference pair.
    preference = models.OneToOneField(
        PreferenceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="arena_vote"
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="arena_votes")
    variant_a = models.ForeignKey(ModelVariant, on_delete=models.PROTECT, related_name="+")
    variant_b = models.ForeignKey(ModelVariant, on_delete=models.PROTECT, related_name="+")
    # Left out of ratings (still preference data): a model named itself, or the visitor chose the
    # variants by name in the Side by side tab.
    identity_revealed = models.BooleanField(default=False)
    # The client was excluded by staff: out of ratings, and the preference record soft-deleted.
    excluded = models.BooleanField(default=False)
    client_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # `local`, or the name of the battle log it was imported from (the public board counts local votes unless
    # asked for imported ones).
    origin = models.CharField(max_length=200, default=ORIGIN_LOCAL, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["language", "excluded", "identity_revealed"], name="arena_vote_rating")]

    def __str__(self) -> str:
        return f"vote {self.outcome} on battle {self.battle_id}"


class VoteStyle(models.Model):
    """Style measures of a vote's two answers (ml.evaluation.style), computed once when the vote is stored
    (or by `manage.py arena_style` for earlier votes), so style-controlled ratings never re-tokenise.
    Raw per-answer values: the fit turns them into standardised differences."""

    vote = models.OneToOneField(Vote, on_delete=models.CASCADE, primary_key=True, related_name="style")
    # What `tokens` counts: the base variant whose tokenizer measured it, or "whitespace" (words) when no
    # base model was installed.
    tokenizer = models.CharField(max_length=200)
    tokens_a = models.PositiveIntegerField()
    tokens_b = models.PositiveIntegerField()
    headers_a = models.PositiveIntegerField()
    headers_b = models.PositiveIntegerField()
    lists_a = models.PositiveIntegerField()
    lists_b = models.PositiveIntegerField()
    bold_a = models.PositiveIntegerField()
    bold_b = models.PositiveIntegerField()
    # None: the vote's language cannot be measured (ml.evaluation.language.in_language).
    in_language_a = models.BooleanField(null=True)
    in_language_b = models.BooleanField(null=True)
    degenerate_a = models.BooleanField()
    degenerate_b = models.BooleanField()

    def __str__(self) -> str:
        return f"style of vote {self.vote_id}: {self.tokens_a} vs {self.tokens_b} {self.tokenizer} tokens"


class ExternalVariant(models.Model):
    """A model named by an imported battle log that this app does not have: its `ModelVariant` keeps the log's
    name verbatim and is rated, never served (status failed, no files, so it can be neither enrolled nor
    installed over; never sampled for a live battle)."""

    variant = models.OneToOneField(ModelVariant, on_delete=models.CASCADE, primary_key=True, related_name="external")
    origin = models.CharField(max_length=200, help_text="the log that first named it")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"external model {self.variant_id} from {self.origin}"


class CounterAction(models.TextChoices):
    GENERATE = "generate"
    VOTE = "vote"
    VOTE_DAY = "vote_day"  # the daily vote cap: its window is a UTC day


class ClientCounter(models.Model):
    """Requests of one client in one fixed time window. Shared by every web process through the
    database; incremented with a conditional UPDATE so racers never exceed the limit."""

    client_hash = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=CounterAction.choices)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_hash", "action", "window_start"], name="arena_counter_window")
        ]
        indexes = [models.Index(fields=["window_start"], name="arena_counter_age")]

    def __str__(self) -> str:
        return f"{self.action} x{self.count} from {self.client_hash[:12]} since {self.window_start:%H:%M}"


class ExcludedClient(models.Model):
    client_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    excluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"excluded client {self.client_hash[:12]}"


class BlockedTerm(models.Model):
    """A word or phrase that refuses a prompt (case-insensitive substring match)."""

    term = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.term


class PromptGroup(models.Model):
    """Arena prompts that say the same thing in other words or languages (translations of one prompt), found by
    the multilingual embedder (webapp/arena/duplicates.py): the high-frequency prompt cap counts a group as one
    prompt. `prompt_key` is the md5 of the prompt's text, lower-cased and trimmed, as vote hygiene keys it;
    `group_key` is the key of the group's first member."""

    prompt_key = models.CharField(max_length=32, unique=True)
    group_key = models.CharField(max_length=32, db_index=True)
    similarity = models.FloatField(help_text="Cosine similarity to the member it was joined through")
    model_key = models.CharField(max_length=200, help_text="The embedder that found it (name@version)")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"prompt {self.prompt_key} in group {self.group_key}"


# --- Folded statistics (webapp/arena/tallies.py) ----------------------------------------------------------------


class ArenaDirty(models.Model):
    """Insert-only marker: this battle (or its vote) changed, or, with no battle, something the ratings read
    changed (style measures, prompt groups). Written in the writer's transaction; read and deleted by the fold."""

    battle_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"arena marker {self.pk} (battle {self.battle_id})"


class ArenaState(models.Model):
    """The one row (pk 1): how many markers the fold has consumed (with the markers still pending, the arena's
    change token) and when it last folded. Written only by the fold."""

    folded = models.BigIntegerField(default=0)
    as_of = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"arena folded {self.folded} markers"


class ArenaBattleState(models.Model):
    """What the fold last added to the tallies for one battle (and its vote, when it has one): the fold takes
    it out and puts the battle's current state in."""

    battle_id = models.BigIntegerField(primary_key=True)
    voted = models.BooleanField(default=False)
    language = models.CharField(max_length=35, blank=True)
    origin = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=8, blank=True)
    day = models.DateField(null=True)
    client_hash = models.CharField(max_length=64, blank=True)
    excluded = models.BooleanField(default=False)
    revealed = models.BooleanField(default=False)
    counting = models.BooleanField(default=False)
    voted_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"battle {self.battle_id} as folded"


class ArenaTally(models.Model):
    """Battles (`voted` False: every battle; True: votes) per language, origin, outcome and flags. `counting`:
    the vote may count for the ratings (not excluded, not revealed, its preference record alive)."""

    voted = models.BooleanField()
    language = models.CharField(max_length=35)
    origin = models.CharField(max_length=200)
    outcome = models.CharField(max_length=8)
    excluded = models.BooleanField()
    revealed = models.BooleanField()
    counting = models.BooleanField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["voted", "language", "origin", "outcome", "excluded", "revealed", "counting"],
                name="arena_tally_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.n} in {self.language}/{self.origin}/{self.outcome}"


class ArenaDayTally(models.Model):
    """Votes per day (UTC), for the statistics page's recent days."""

    day = models.DateField(primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.n} votes on {self.day}"


class ArenaClientTally(models.Model):
    """Votes per client (and how many of them are excluded, and the latest), for the top clients."""

    client_hash = models.CharField(max_length=64, primary_key=True)
    n = models.BigIntegerField(default=0)
    excluded = models.BigIntegerField(default=0)
    last = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["-n"], name="arena_client_tally_n")]

    def __str__(self) -> str:
        return f"{self.n} votes by {self.client_hash[:8]}"


class ArenaFit(models.Model):
    """A computed fit or vote hygiene, keyed by what it fits and stamped with the change token it was computed
    at, so another process (or a fresh one) reads it instead of refitting every vote. The payload is pickled, as
    Django's database cache stores its values: only this app writes it."""

    key = models.CharField(max_length=300, primary_key=True)
    token = models.BigIntegerField()
    payload = models.BinaryField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key} at {self.token}"
