"""Launching, running, cancelling and retrying training jobs, and registering what they produce."""

import hashlib
import json
import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ml.llm.params import VariantRef
from ml.training.config import ConfigError, Hyperparameters, TrainingConfig, check_kind
from ml.training.trainers import kinds, trainer_for
from webapp.errors import ApplicationError
from webapp.feedback.models import Prompt
from webapp.jobs.models import JobStatus
from webapp.jobs.services import JobCancelled, JobLost, JobRun, job_enqueue, job_request_cancel, job_running
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import store_path, variant_full_model, variant_ref, variant_register
from webapp.training.data import DataSpec, data_counts, snapshot_write
from webapp.training.evaluation import (
    LIMITS,
    MAX_PROMPT_SOURCES,
    GenerationEvalSettings,
    failed_evaluation,
    generation_evaluation,
    held_out_prompts,
    is_off,
)
from webapp.training.models import EVAL_GENERATION_OFF, TrainingJob, default_eval_generation

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
    "hyperparameters.sft_weight": gettext_lazy("SFT weight"),
    "hyperparameters.seed": gettext_lazy("Seed"),
    "hyperparameters.beta": "beta",  # these three are not translated on the form either
    "hyperparameters.lora_r": "LoRA r",
    "hyperparameters.lora_alpha": "LoRA alpha",
    "eval_generation": gettext_lazy("Evaluation by generation"),
    "eval_generation.max_prompts_per_language": gettext_lazy("Held-out prompts per language"),
    "eval_generation.max_new_tokens": gettext_lazy("New tokens per answer"),
    "eval_generation.prompt_sources": gettext_lazy("Held-out prompt sources"),
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


def _eval_generation(value: object) -> dict | str:
    """ "off", or the settings of the evaluation by generation (None: the defaults), each value checked."""
    if value is None:
        return default_eval_generation()
    if value == EVAL_GENERATION_OFF:
        return EVAL_GENERATION_OFF
    if not isinstance(value, dict):
        raise FieldError(
            "eval_generation",
            _('must be "off" or an object with %(keys)s (got %(value)s)')
            % {"keys": ", ".join(default_eval_generation()), "value": repr(value)[:80]},
        )
    chosen = {**default_eval_generation(), **value}
    unknown = sorted(set(chosen) - set(default_eval_generation()))
    if unknown:
        known = ", ".join(default_eval_generation())
        raise FieldError(f"eval_generation.{unknown[0][:80]}", str(RULE_MESSAGES["unknown"]) % {"known": known})
    for key, (low, high) in LIMITS.items():
        number = chosen[key]
        if isinstance(number, bool) or not isinstance(number, int):
            raise FieldError(f"eval_generation.{key}", str(RULE_MESSAGES["integer"]) % {"value": repr(number)[:80]})
        if not low <= number <= high:
            raise FieldError(
                f"eval_generation.{key}", str(RULE_MESSAGES["range"]) % {"low": low, "high": high, "value": number}
            )
    chosen["prompt_sources"] = _prompt_sources(chosen["prompt_sources"])
    return chosen


def _prompt_sources(names: object) -> list[str]:
    field = "eval_generation.prompt_sources"
    if (
        not isinstance(names, list)
        or len(names) > MAX_PROMPT_SOURCES
        or not all(isinstance(name, str) and 0 < len(name) <= 50 and "\x00" not in name for name in names)
    ):
        raise FieldError(
            field,
            _("must be a list of at most %(limit)s prompt sources (got %(value)s)")
            % {"limit": MAX_PROMPT_SOURCES, "value": repr(names)[:80]},
        )
    known = set(Prompt.objects.filter(source__in=names).values_list("source", flat=True).distinct())
    missing = [name for name in names if name not in known]
    if missing:
        raise FieldError(field, _("no prompt has the source %(source)s") % {"source": repr(missing[0])})
    return list(dict.fromkeys(names))


PREVIEW_SALT = "webapp.training.preview"
PREVIEW_MAX_AGE = 24 * 3600  # seconds a preview token may be handed to a launch


def training_preview(*, data: dict, kind: str = "dpo") -> dict:
    """What the launch form shows while staff choose the data: the pair counts per language before and after
    the filters (data_counts), each pass stopped after TRAINING_PREVIEW_MAX_PAIRS pairs so the answer is quick
    whatever the store's size (`approximate` then says the counts are lower bounds), and a signed `token` that
    a launch may carry so the job keeps what was previewed beside what its snapshot took. For a kind that
    trains on unpaired rows (kto) the counts are of labelled answers (`manage.py train --kind kto`), with their
    desirable/undesirable `balance`; the token is bound to what was counted, so a launch of the other sort of
    kind must preview again."""
    spec = DataSpec.from_params(data or {})
    rows = _counted_rows(kind)
    counts = data_counts(spec, limit=settings.TRAINING_PREVIEW_MAX_PAIRS, rows=rows)
    counts["rows"], counts["previewed_at"] = rows, timezone.now().isoformat()
    token = signing.dumps({"data": _data_digest(data or {}), "counts": counts}, salt=PREVIEW_SALT, compress=True)
    return {**counts, "token": token}


def _counted_rows(kind: str) -> str:
    """What a preview for this kind counts: "kto" (labelled answers) or "dpo" (pairs)."""
    return "kto" if kind in kinds() and trainer_for(kind).eval_rows == "kto" else "dpo"


def _data_digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _previewed(token: str | None, data: dict, kind: str) -> dict | None:
    if not token:
        return None
    try:
        signed = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired:
        raise FieldError("preview", _("this preview is more than a day old; preview again")) from None
    except signing.BadSignature:
        raise FieldError("preview", _("not a token from /api/v1/training-jobs/preview/")) from None
    if signed.get("data") != _data_digest(data):
        raise FieldError("preview", _("this preview was made for other data settings; preview again"))
    if signed["counts"].get("rows", "dpo") != _counted_rows(kind):
        raise FieldError("preview", _("this preview counted the rows of another kind of training; preview again"))
    return signed["counts"]


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
    eval_generation: object = None,
    preview: str | None = None,
) -> TrainingJob:
    """Validate the settings (naming the field) and the parent (servable), record the data cut, and queue.
    Nothing is counted here, so a launch answers at once whatever the store's size: the job trains on the
    data as of this instant (`created_before`), and the worker fails it within its first step, with the
    counts that explain why, when nothing is left to train on. `preview`: a token from `training_preview`
    for the same data settings, whose counts the job keeps as what was previewed.
    `system_prompt` None keeps the parent's (ml/llm/chat.py); the job's goes into every row it trains
    and evaluates on, and to the variant it registers. `eval_generation`: "off", or the settings of the
    evaluation by generation that ends the job (webapp/training/evaluation.py); None: the defaults."""
    if kind not in kinds():
        raise FieldError(
            "kind",
            _("must be one of %(choices)s (got %(value)s)") % {"choices": ", ".join(kinds()), "value": repr(kind)},
        )
    if system_prompt is not None and len(system_prompt) > SYSTEM_PROMPT_MAX_CHARS:
        raise FieldError("system_prompt", _("at most %(limit)s characters") % {"limit": SYSTEM_PROMPT_MAX_CHARS})
    hp = _hyperparameters(hyperparameters)
    try:
        check_kind(kind, hp)  # e.g. KTO's batch of at least 2
    except ConfigError as exc:
        raise FieldError(f"hyperparameters.{exc.field}", config_problem(exc)) from None
    generation = _eval_generation(eval_generation)
    variant_ref(parent)
    DataSpec.from_params(data or {})  # every data setting checked now, none counted
    previewed = _previewed(preview, data or {}, kind)
    job = TrainingJob.objects.create(
        kind=kind,
        parent=parent,
        data_spec=data or {},
        hyperparameters=hp.as_dict(),
        system_prompt=parent.system_prompt if system_prompt is None else system_prompt,
        eval_generation=generation,
        data_summary={"preview": previewed} if previewed else {},
        created_before=timezone.now(),
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
    """The body of the gpu task: claim, snapshot, train (resuming), evaluate (log-probabilities, then by
    generation), register the variant."""
    with job_running(TrainingJob, job_id) as run:
        if run is None:
            return
        _train(run, run.job())


def _train(run: JobRun, job: TrainingJob) -> None:
    # The data first, as of the launch: an empty selection fails the job before any model is loaded.
    folder = store_path(job.folder)
    spec = DataSpec.from_params(job.data_spec).cut(job.created_before)
    summary = snapshot_write(spec, job.kind, folder, check=run.check, system_prompt=job.system_prompt)
    run.save(data_summary={**job.data_summary, "snapshot": summary})
    if not summary["train_rows"]:  # pairs for DPO; for SFT, best answers and demonstrations
        unpaired = trainer_for(job.kind).eval_rows == "kto"  # KTO counts labelled answers, not pairs
        counts = data_counts(spec, rows="kto" if unpaired else "dpo")
        shutil.rmtree(folder / "data", ignore_errors=True)  # no empty snapshot left for a retry to reuse
        run.save(data_summary={**job.data_summary, "snapshot": summary, "counts": counts})
        figures = {"before": _per_language(counts["before_filters"]), "after": _per_language(counts["train"])}
        if unpaired:
            raise ApplicationError(
                _("No labelled answers (KTO) after the filters.")
                + " "
                + _("Labelled answers per language before the filters: %(before)s; after them: %(after)s.") % figures
            )
        raise ApplicationError(
            _("No usable training pairs after the filters.")
            + " "
            + _("Pairs per language before the filters: %(before)s; after them: %(after)s.") % figures
        )
    run.log(f"data: {summary['train_rows']} training rows, {summary['eval_pairs']} held-out pairs")
    parent = variant_full_model(job.parent)  # adapters do not stack: train on the merged parent
    run.check()
    config = TrainingConfig(
        kind=job.kind,
        model_path=variant_ref(parent).model_path,
        train_file=str(folder / "data" / "train.jsonl"),
        eval_file=str(folder / "data" / "eval_pairs.jsonl"),
        output_dir=str(folder),
        hp=Hyperparameters.from_dict(job.hyperparameters),
    )
    reporter = _Reporter(run, job)
    outcome = _trained(run, config, reporter)
    evaluation = dict(outcome.evaluation)
    run.save(evaluation=evaluation)
    if not is_off(job.eval_generation):
        child = VariantRef(variant_name(job, parent), config.model_path, outcome.adapter_path, job.system_prompt)
        evaluation["generation"] = _evaluate_by_generation(run, job, parent, child, summary)
    variant = _register(job, parent, summary, outcome, reporter.resumes, evaluation)
    run.save(evaluation=evaluation, variant=variant)
    # The job's progress ends at its step count, not at the evaluation's prompt count.
    run.progress(outcome.step, outcome.step, check=False)
    run.log(f"registered variant {variant.name}")


def _per_language(counts: dict) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or _("none")


def variant_name(job: TrainingJob, parent: ModelVariant) -> str:
    return f"{parent.name}-{job.kind}-{job.pk}"[:100]


def _trained(run: JobRun, config: TrainingConfig, reporter: "_Reporter") -> "Outcome":
    """Train (resuming from the last checkpoint), or, when an earlier attempt finished training and stopped
    later (a cancel during the evaluation by generation), its outcome as it was: a retry never retrains."""
    from ml.training.launch import run_training
    from ml.training.runner import Outcome

    saved = Path(config.output_dir) / "outcome.json"
    if saved.is_file():
        run.log("training finished in an earlier attempt; its adapter is kept")
        return Outcome(**json.loads(saved.read_text()))
    outcome = run_training(config, reporter, should_stop=run.should_stop)
    if outcome.cancelled:
        run.log(f"stopped during {outcome.phase} at step {outcome.step}; the checkpoints are kept, retry to resume")
        raise JobCancelled()
    partial = saved.with_name("outcome.json.partial")  # written whole, then renamed
    partial.write_text(json.dumps(asdict(outcome)))
    partial.replace(saved)
    return outcome


def _evaluate_by_generation(
    run: JobRun, job: TrainingJob, parent: ModelVariant, child: VariantRef, summary: dict
) -> dict:
    """The last step: never fails the job (the trained adapter is registered whatever happens here),
    but a cancel stops it, and a retry evaluates again."""
    settings_ = GenerationEvalSettings.from_stored(job.eval_generation)
    prompts = held_out_prompts(store_path(job.folder), settings_, job.system_prompt)
    languages = sorted({p.language for p in prompts})
    run.log(f"evaluation by generation: {len(prompts)} held-out prompts in {len(languages)} languages")
    trained = {language for language, n in summary["train_pairs_by_language"].items() if n}
    try:
        result = generation_evaluation(
            settings=settings_,
            prompts=prompts,
            parent=parent,
            child=child,
            trained_languages=trained,
            on_progress=run.progress,
        )
    except JobCancelled:
        run.log("stopped during the evaluation by generation; the adapter is kept, retry to evaluate again")
        raise
    except JobLost:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded on the job; the variant is registered all the same
        log.exception("training job %s: the evaluation by generation failed", job.pk)
        run.log(f"the evaluation by generation failed: {type(exc).__name__}: {exc}")
        return failed_evaluation(settings_, parent.name, child.name, f"{type(exc).__name__}: {exc}")
    cached = " (the parent's answers from the cache)" if result["parent_cached"] else ""
    run.log(f"evaluation by generation done{cached}")
    return result


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
    job: TrainingJob, parent: ModelVariant, summary: dict, outcome: "Outcome", resumes: list[int], evaluation: dict
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
        name=variant_name(job, parent),
        kind=job.kind,
        path=relative,
        parent=parent,
        lineage=lineage,
        metrics={"evaluation": evaluation},
        system_prompt=job.system_prompt,
    )
