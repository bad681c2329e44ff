"""Launching, running, cancelling and retrying training jobs, and registering what they produce."""

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ml.training.config import ConfigError, Hyperparameters
from ml.training.trainers import kinds
from webapp.errors import ApplicationError
from webapp.jobs.models import JobStatus
from webapp.jobs.services import JobCancelled, JobRun, job_enqueue, job_request_cancel, job_running
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import store_path, variant_full_model, variant_ref, variant_register
from webapp.training.data import DataSpec, data_counts, snapshot_write
from webapp.training.models import TrainingJob

if TYPE_CHECKING:
    from ml.training.runner import Event, Outcome

log = logging.getLogger(__name__)

SYSTEM_PROMPT_MAX_CHARS = 4000


# The launch form's labels (templates/training/jobs.html: the same catalogue entries), so that an error names a
# setting as the form does, in the interface language; `extra["field"]` keeps the setting's path for scripts.
LABELS: dict[str, str | Promise] = {
    "kind": gettext_lazy("Kind"),
    "parent": gettext_lazy("Parent"),
    "hyperparameters.learning_rate": gettext_lazy("Learning rate"),
    "hyperparameters.epochs": gettext_lazy("Epochs"),
    "hyperparameters.max_steps": gettext_lazy("Max steps (0: epochs)"),
    "hyperparameters.batch_size": gettext_lazy("Batch size"),
    "hyperparameters.max_length": gettext_lazy("Max length"),
    "hyperparameters.loss_type": gettext_lazy("Loss"),
    "hyperparameters.seed": gettext_lazy("Seed"),
    "hyperparameters.beta": "beta",  # these three are not translated on the form either
    "hyperparameters.lora_r": "LoRA r",
    "hyperparameters.lora_alpha": "LoRA alpha",
}
# ml.training.config's rules (ConfigError.rule), worded in the interface language.
RULE_MESSAGES = {
    "interval": gettext_lazy("must be in %(interval)s (got %(value)s)"),
    "range": gettext_lazy("must be %(low)s..%(high)s (got %(value)s)"),
    "choice": gettext_lazy("must be one of %(choices)s (got %(value)s)"),
    "integer": gettext_lazy("must be an integer (got %(value)s)"),
    "at_least": gettext_lazy("must be at least %(low)s (got %(value)s)"),
    "names": gettext_lazy("must be a non-empty list of module names (got %(value)s)"),
    "unknown": gettext_lazy("unknown setting; known: %(known)s"),
}


class FieldError(ApplicationError):
    """A refused setting, named by its form label where the launch form has one (else by its path)."""

    def __init__(self, field: str, problem: str):
        label = LABELS.get(field, field)
        # Translators: a setting of a training job and what is wrong with it, e.g. "Learning rate: must be ...".
        super().__init__(_("%(field)s: %(problem)s") % {"field": label, "problem": problem}, extra={"field": field})


def config_problem(exc: ConfigError) -> str:
    """What is wrong with the setting, in the interface language (ml words it in English only)."""
    template = RULE_MESSAGES.get(exc.rule)
    return str(template) % exc.params if template is not None else exc.message


def _hyperparameters(values: dict) -> Hyperparameters:
    try:
        return Hyperparameters.from_dict(values or {})
    except ConfigError as exc:
        raise FieldError(f"hyperparameters.{exc.field}", config_problem(exc)) from None


@transaction.atomic
def training_job_create(
    *,
    kind: str,
    parent: ModelVariant,
    data: dict,
    hyperparameters: dict,
    user: User | None,
    enqueue: bool = True,
    system_prompt: str | None = None,
) -> TrainingJob:
    """Validate everything before queueing: settings (naming the field), the parent (servable), and
    the data (refused with the counts that explain why when nothing is left to train on).
    `system_prompt` None keeps the parent's (ml/llm/chat.py); the job's goes into every row it trains
    and evaluates on, and to the variant it registers."""
    if kind not in kinds():
        raise FieldError(
            "kind",
            _("must be one of %(choices)s (got %(value)s)") % {"choices": ", ".join(kinds()), "value": repr(kind)},
        )
    if system_prompt is not None and len(system_prompt) > SYSTEM_PROMPT_MAX_CHARS:
        raise FieldError("system_prompt", _("at most %(limit)s characters") % {"limit": SYSTEM_PROMPT_MAX_CHARS})
    hp = _hyperparameters(hyperparameters)
    variant_ref(parent)
    spec = DataSpec.from_params(data or {})
    counts = data_counts(spec)
    if not counts["train_pairs"]:
        raise ApplicationError(
            _("No usable training pairs after the filters."),
            extra={"field": "data", "counts": counts},
        )
    job = TrainingJob.objects.create(
        kind=kind,
        parent=parent,
        data_spec=data or {},
        hyperparameters=hp.as_dict(),
        system_prompt=parent.system_prompt if system_prompt is None else system_prompt,
        data_summary={"preview": counts},
        created_by=user,
    )
    if enqueue:
        job_enqueue(job)
    return job


def training_job_cancel(*, job: TrainingJob) -> TrainingJob:
    job_request_cancel(job)
    job.refresh_from_db()
    return job


@transaction.atomic
def training_job_retry(*, job: TrainingJob) -> TrainingJob:
    """Run a failed or cancelled job again; it resumes from its last checkpoint."""
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise ApplicationError(
            _("Only failed or cancelled jobs can be retried (this one is %(status)s).") % {"status": job.status}
        )
    TrainingJob.objects.filter(pk=job.pk).update(
        status=JobStatus.QUEUED, error="", cancel_requested=False, finished_at=None, recoveries=0
    )
    job.refresh_from_db()
    job_enqueue(job)
    return job


def training_run(job_id: int) -> None:
    """The body of the gpu task: claim, snapshot, train (resuming), evaluate, register the variant."""
    with job_running(TrainingJob, job_id) as run:
        if run is None:
            return
        _train(run, run.job())


def _train(run: JobRun, job: TrainingJob) -> None:
    from ml.training.config import TrainingConfig
    from ml.training.launch import run_training

    parent = variant_full_model(job.parent)  # adapters do not stack: train on the merged parent
    run.check()
    folder = store_path(job.folder)
    spec = DataSpec.from_params(job.data_spec)
    summary = snapshot_write(spec, job.kind, folder, check=run.check, system_prompt=job.system_prompt)
    run.save(data_summary={**job.data_summary, "snapshot": summary})
    run.log(f"data: {summary['train_rows']} training rows, {summary['eval_pairs']} held-out pairs")
    config = TrainingConfig(
        kind=job.kind,
        model_path=variant_ref(parent).model_path,
        train_file=str(folder / "data" / "train.jsonl"),
        eval_file=str(folder / "data" / "eval_pairs.jsonl"),
        output_dir=str(folder),
        hp=Hyperparameters.from_dict(job.hyperparameters),
    )
    reporter = _Reporter(run, job)
    outcome = run_training(config, reporter, should_stop=run.should_stop)
    if outcome.cancelled:
        run.log(f"stopped during {outcome.phase} at step {outcome.step}; the checkpoints are kept, retry to resume")
        raise JobCancelled()
    variant = _register(job, parent, summary, outcome, reporter.resumes)
    run.save(evaluation=outcome.evaluation, variant=variant, progress_done=outcome.step, progress_total=outcome.step)
    run.log(f"registered variant {variant.name}")


class _Reporter:
    """Adapts runner events to the job row: metrics per step (dropping steps a resume replays),
    progress, log lines, and the cancel request (answered with False: save a checkpoint and stop)."""

    def __init__(self, run: JobRun, job: TrainingJob):
        self.run, self.metrics, self.resumes = run, list(job.metrics), list(job.resumes)

    def __call__(self, event: "Event") -> bool:
        if event.resumed_from is not None:
            self.metrics = [m for m in self.metrics if m["step"] <= event.resumed_from]
            if event.resumed_from:
                self.resumes.append(event.resumed_from)
            self.run.save(metrics=self.metrics, resumes=self.resumes)
        if event.message:
            self.run.log(event.message)
        if event.metrics:
            self.metrics.append({"step": event.step, **event.metrics})
            self.run.save(metrics=self.metrics)
        try:
            self.run.progress(event.step, event.total)
        except JobCancelled:
            return False
        return True


@transaction.atomic
def _register(
    job: TrainingJob, parent: ModelVariant, summary: dict, outcome: "Outcome", resumes: list[int]
) -> ModelVariant:
    """Exactly one variant per job, even when a crash hit between registering and finishing."""
    existing = ModelVariant.objects.filter(lineage__job=job.pk).first()
    if existing:
        return existing
    relative = str(Path(outcome.adapter_path).relative_to(settings.MODELS_STORE))
    data = {
        "snapshot": f"{job.folder}/data",
        "train_sha256": summary["train_sha256"],
        "train_rows": summary["train_rows"],
        "eval_pairs": summary["eval_pairs"],
        "by_language": summary["train_pairs_by_language"],
        "by_source": summary["pairs_by_source"],
        "pair_ids": f"{job.folder}/data/pair_ids.txt",
    }
    if "judges" in summary:  # the judge gate: per language, the judges admitted and refused, with evidence
        data["judges"] = summary["judges"]
    lineage = {
        "job": job.pk,
        "kind": job.kind,
        "parent": parent.name,
        "requested_parent": job.parent.name,
        "data": data,
        "data_spec": job.data_spec,
        "parameters": job.hyperparameters,
        "system_prompt": job.system_prompt,
        "steps": outcome.step,
        "resumed_from": resumes,
    }
    return variant_register(
        name=f"{parent.name}-{job.kind}-{job.pk}"[:100],
        kind=job.kind,
        path=relative,
        parent=parent,
        lineage=lineage,
        metrics={"evaluation": outcome.evaluation},
        system_prompt=job.system_prompt,
    )
