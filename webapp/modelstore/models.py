"""Model variants (a base model, or an adapted one on a parent) and where their files live, plus the
jobs that install models and generate responses."""

from django.db import models

from webapp.jobs.models import Job


class VariantKind(models.TextChoices):
    BASE = "base"
    SFT = "sft"
    DPO = "dpo"
    KTO = "kto"
    MERGED = "merged"


# The kinds a training job registers: a PEFT adapter on a full-model parent.
ADAPTER_KINDS = (VariantKind.SFT, VariantKind.DPO, VariantKind.KTO)


class VariantStatus(models.TextChoices):
    INSTALLING = "installing"
    READY = "ready"
    FAILED = "failed"


class ModelVariant(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=VariantKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Folder under MODELS_STORE: a full model (base, merged) or a PEFT adapter (sft, dpo, kto).
    path = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=500, blank=True, help_text="Hub id, local folder or bundled package")
    status = models.CharField(max_length=12, choices=VariantStatus.choices, default=VariantStatus.INSTALLING)
    size_bytes = models.PositiveBigIntegerField(default=0)
    lineage = models.JSONField(default=dict, blank=True, help_text="Training job, data snapshot, parameters")
    metrics = models.JSONField(default=dict, blank=True)
    # Trained and served with it (ml/llm/chat.py). Null: registered before the rule, so the chat
    # template's own default applies, as it did when the variant was trained.
    system_prompt = models.TextField(null=True, blank=True)  # noqa: DJ001 - null and "" differ (ml/llm/chat.py)
    enrolled_in_arena = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_adapter(self) -> bool:
        return self.kind in ADAPTER_KINDS

    @property
    def is_external(self) -> bool:
        """A model named by an imported battle log (webapp/arena/logs.py): rated, never served, with no files."""
        return "external" in (self.lineage or {})


class ResponseOrigin(models.Model):
    """Which registered variant generated a response. It lives here, not on `feedback.Response`, so
    that the store (the lower layer) never refers to the model store; `Response.model_name` keeps
    the name for every response, generated or imported."""

    response = models.OneToOneField(
        "feedback.Response", primary_key=True, on_delete=models.CASCADE, related_name="origin"
    )
    variant = models.ForeignKey(ModelVariant, on_delete=models.CASCADE, related_name="responses")

    def __str__(self) -> str:
        return f"response {self.response_id} by {self.variant_id}"


class ModelJobKind(models.TextChoices):
    INSTALL = "install"
    GENERATE = "generate"


class ModelJob(Job):
    """Installing a base model, or generating responses for prompts x variants x samples; both run on
    the `gpu` queue."""

    task_name = "workers.tasks.models.run_model_job"
    queue = "gpu"

    kind = models.CharField(max_length=10, choices=ModelJobKind.choices)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]


class GenerationEvalCache(models.Model):
    """A variant's measured answers to a list of held-out prompts (evaluation by generation), so that the
    next job on the same parent and prompts reuses them instead of generating again. `key` is the sha256
    of everything the answers depend on (webapp/modelstore/evaluation.py: generation_cache_key)."""

    variant = models.ForeignKey(ModelVariant, on_delete=models.CASCADE, related_name="generation_eval_cache")
    key = models.CharField(max_length=64)
    # One entry per prompt, in the prompts' order: {language, hit, in_language, degenerate, echo, tokens}.
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "key"], name="generation_eval_cache_once")]

    def __str__(self) -> str:
        return f"generation evaluation of {self.variant_id} ({self.key[:12]})"
