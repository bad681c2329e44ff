"""Search data: a stored vector per text and embedding model, the search index of each model, full
rebuilds as job rows, and staff decisions on suggested translation links.

Vectors live here, in the database (the durable copy, with a checksum); the FAISS file under
MODELS_STORE is derived from them and can always be rebuilt or reconciled."""

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job


class TextKind(models.TextChoices):
    PROMPT = "prompt"
    RESPONSE = "response"


KIND_BITS = {TextKind.PROMPT: 0, TextKind.RESPONSE: 1}


def vector_id(kind: str, object_id: int) -> int:
    """The id a text has inside FAISS: prompts even, responses odd."""
    return object_id * 2 + KIND_BITS[kind]


def split_vector_id(value: int) -> tuple[str, int]:
    return (TextKind.RESPONSE if value % 2 else TextKind.PROMPT), value // 2


class Embedding(models.Model):
    """One text's vector under one model. `content_hash` is the text version it was computed from:
    an edited text gets a new vector; `indexed` is False until the vector is in the FAISS file."""

    model_key = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=TextKind.choices)
    object_id = models.BigIntegerField()
    content_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    checksum = models.CharField(max_length=32)
    indexed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_key", "kind", "object_id"], name="embedding_unique"),
        ]
        indexes = [models.Index(fields=["model_key", "indexed"], name="embedding_unindexed")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} under {self.model_key}"

    @property
    def vector_id(self) -> int:
        return vector_id(self.kind, self.object_id)


class SearchIndex(models.Model):
    """The live index of one embedding model: which model and version built it, its type and
    parameters, and the folder under MODELS_STORE that holds it. A rebuild writes a new folder and
    swaps `folder` in one UPDATE."""

    model_key = models.CharField(max_length=300, unique=True)
    model_name = models.CharField(max_length=300)
    model_version = models.CharField(max_length=100)
    dim = models.PositiveIntegerField()
    languages = models.JSONField(null=True, blank=True, help_text="Languages the model was trained on; null = unknown")
    params = models.JSONField(default=dict, blank=True, help_text="FAISS index type and parameters")
    folder = models.CharField(max_length=500, help_text="Relative to MODELS_STORE")
    generation = models.PositiveBigIntegerField(default=0)
    vector_count = models.PositiveBigIntegerField(default=0)
    built_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "search indexes"

    def __str__(self) -> str:
        return f"index of {self.model_key} ({self.vector_count} vectors)"


class IndexBuild(Job):
    """A full rebuild: embed what is missing, build a new index from the stored vectors, swap it in."""

    task_name = "workers.tasks.indexing.run_index_build"
    queue = "index"

    model_key = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]


class LinkDecision(models.TextChoices):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class TranslationLink(models.Model):
    """Staff's answer to a suggested translation link (prompt_a.pk < prompt_b.pk); a rejected pair is
    never suggested again."""

    prompt_a = models.ForeignKey("feedback.Prompt", on_delete=models.CASCADE, related_name="+")
    prompt_b = models.ForeignKey("feedback.Prompt", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=10, choices=LinkDecision.choices)
    score = models.FloatField()
    group = models.CharField(max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prompt_a", "prompt_b"], name="translation_link_unique"),
            models.CheckConstraint(
                condition=models.Q(prompt_a__lt=models.F("prompt_b")), name="translation_link_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} link {self.prompt_a_id}-{self.prompt_b_id}"
