"""Training jobs: what to train (a registered trainer kind, e.g. DPO or SFT, on a parent variant), on
which data, with which hyperparameters, and everything the run reports back."""

import uuid

from django.db import models

from ml.training.trainers import kinds
from webapp.feedback.jsonfield import TextJSONField
from webapp.jobs.models import Job
from webapp.modelstore.models import ModelVariant


def new_folder_token() -> str:
    return uuid.uuid4().hex[:12]


def training_kinds() -> list[tuple[str, str]]:
    """The registered trainers (ml.training.trainers): a new kind needs no migration."""
    return [(kind, kind) for kind in kinds()]


TRAINING_KINDS = training_kinds()  # for the API schema's enum (SPECTACULAR_SETTINGS)

EVAL_GENERATION_OFF = "off"


def default_eval_generation() -> dict:
    """Evaluation by generation after training (webapp/training/evaluation.py), unless "off"."""
    return {"max_prompts_per_language": 24, "max_new_tokens": 64, "prompt_sources": []}


class TrainingJob(Job):
    task_name = "workers.tasks.training.run_training_job"
    queue = "gpu"

    kind = models.CharField(max_length=10, choices=training_kinds)
    parent = models.ForeignKey(ModelVariant, on_delete=models.PROTECT, related_name="training_jobs")
    data_spec = models.JSONField(default=dict, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    # Written into every training and held-out row, and given to the variant the job registers.
    system_prompt = models.TextField(null=True, blank=True)  # noqa: DJ001 - null and "" differ (ml/llm/chat.py)
    data_summary = TextJSONField(default=dict, blank=True)
    # The data as of the launch: annotations and records created at or after this instant never enter the job
    # (null for jobs launched before the cut existed: they read the store as it is at their snapshot).
    created_before = models.DateTimeField(null=True, blank=True)
    metrics = models.JSONField(default=list, blank=True, help_text="[{step, loss, ...}], one entry per logged step")
    resumes = models.JSONField(default=list, blank=True, help_text="checkpoint steps the run resumed from")
    evaluation = models.JSONField(default=dict, blank=True)
    # "off", or the settings of the evaluation by generation that ends the job (default_eval_generation).
    eval_generation = models.JSONField(default=default_eval_generation, blank=True)
    # Part of the job's folder name, so a job never reuses the files of an older job that had the same
    # id (a database reset while MODELS_STORE is kept).
    folder_token = models.CharField(max_length=12, default=new_folder_token, editable=False)
    variant = models.OneToOneField(
        ModelVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="made_by_job"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} on {self.parent_id}"

    @property
    def folder(self) -> str:
        """Relative to MODELS_STORE: data snapshot, checkpoints and the adapter of this job."""
        return f"jobs/{self.pk}-{self.folder_token}"
