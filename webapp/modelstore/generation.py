"""Generating responses for prompts x variants x samples on a gpu worker, and building ranking tasks
from them. Resumable: each batch is stored as it finishes (tagged with the job and sample), a rerun
skips what exists, and the tasks are built once at the end."""

import random
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from ml.llm.params import BadParams, GenerationParams
from webapp.errors import ApplicationError
from webapp.feedback.content import as_messages, content_hash, is_blank, visible_form
from webapp.feedback.models import Campaign, Prompt, Response, Task
from webapp.feedback.services.catalog import task_create
from webapp.feedback.services.languages import canonical_tag
from webapp.jobs.services import JobRun, job_enqueue
from webapp.modelstore.models import ModelJob, ModelJobKind, ModelVariant, ResponseOrigin
from webapp.modelstore.services import variant_ref

MAX_PROMPTS = 5000


@dataclass(frozen=True)
class GenerationSpec:
    variant_ids: tuple[int, ...]
    campaign_id: int
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    source_campaign_ids: tuple[int, ...] = ()
    prompt_ids: tuple[int, ...] = ()
    samples: int = 2
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 256
    responses_per_task: int = 4
    batch_size: int = 8
    seed: int = 1234

    @classmethod
    def from_params(cls, params: dict) -> "GenerationSpec":
        try:
            spec = cls(
                variant_ids=tuple(int(v) for v in params.get("variants") or ()),
                campaign_id=int(params.get("campaign") or 0),
                languages=tuple(canonical_tag(c) for c in params.get("languages") or ()),
                sources=tuple(params.get("sources") or ()),
                source_campaign_ids=tuple(int(c) for c in params.get("source_campaigns") or ()),
                prompt_ids=tuple(int(p) for p in params.get("prompts") or ()),
                samples=int(params.get("samples", 2)),
                temperature=float(params.get("temperature", 0.8)),
                top_p=float(params.get("top_p", 0.95)),
                max_new_tokens=int(params.get("max_new_tokens", 256)),
                responses_per_task=int(params.get("responses_per_task", 4)),
                batch_size=int(params.get("batch_size", 8)),
                seed=int(params.get("seed", 1234)),
            )
            spec.sampling(0)
        except (TypeError, ValueError, BadParams) as exc:
            raise ApplicationError(_("Bad generation settings: %(problem)s") % {"problem": exc}) from None
        spec.check()
        return spec

    def check(self) -> None:
        if not self.variant_ids:
            raise ApplicationError(_("Choose at least one model variant."))
        if not 1 <= self.samples <= 8:
            raise ApplicationError(_("samples must be between 1 and 8 per variant"))
        if not 2 <= self.responses_per_task <= 4:
            raise ApplicationError(_("responses_per_task must be between 2 and 4"))
        if len(self.variant_ids) * self.samples < 2:
            raise ApplicationError(_("A task needs two responses: choose two variants or at least two samples."))
        if not 1 <= self.batch_size <= 64:
            raise ApplicationError(_("batch_size must be between 1 and 64"))

    def sampling(self, sample: int) -> GenerationParams:
        """Sample 0 of a single-sample run is greedy; otherwise each sample has its own seed."""
        temperature = 0.0 if self.samples == 1 else self.temperature
        return GenerationParams(
            max_new_tokens=self.max_new_tokens, temperature=temperature, top_p=self.top_p, seed=self.seed + sample
        )


def selected_prompts(spec: GenerationSpec):
    prompts = Prompt.objects.alive().filter(next_version__isnull=True).order_by("id")
    if spec.prompt_ids:
        prompts = prompts.filter(pk__in=spec.prompt_ids)
    if spec.languages:
        prompts = prompts.filter(language_id__in=spec.languages)
    if spec.sources:
        prompts = prompts.filter(source__in=spec.sources)
    if spec.source_campaign_ids:
        prompts = prompts.filter(tasks__campaign_id__in=spec.source_campaign_ids).distinct()
    return prompts


@transaction.atomic
def generation_job_create(*, params: dict, user, enqueue: bool = True) -> ModelJob:
    spec = GenerationSpec.from_params(params)
    if not Campaign.objects.alive().filter(pk=spec.campaign_id).exists():
        raise ApplicationError(_("No such campaign: %(id)s") % {"id": spec.campaign_id})
    variants = list(ModelVariant.objects.filter(pk__in=spec.variant_ids))
    if len(variants) != len(set(spec.variant_ids)):
        raise ApplicationError(_("One of the chosen variants does not exist."))
    for variant in variants:
        variant_ref(variant)
    count = selected_prompts(spec).count()
    if not count:
        raise ApplicationError(_("No prompt matches these filters."))
    if count > MAX_PROMPTS:
        raise ApplicationError(
            _("%(count)s prompts match; narrow the filters to at most %(max)s.") % {"count": count, "max": MAX_PROMPTS}
        )
    job = ModelJob.objects.create(kind=ModelJobKind.GENERATE, params=params, created_by=user)
    if enqueue:
        job_enqueue(job)
    return job


def inference_backend():
    """The local backend, or a remote OpenAI-compatible server when INFERENCE_URL is set."""
    if settings.INFERENCE_URL:
        from ml.llm.openai_backend import OpenAICompatibleBackend

        return OpenAICompatibleBackend(settings.INFERENCE_URL, settings.INFERENCE_API_KEY)
    from ml.llm.inference import LocalBackend

    return LocalBackend()


def generation_run(run: JobRun, job: ModelJob) -> None:
    spec = GenerationSpec.from_params(job.params)
    prompts = list(selected_prompts(spec))
    variants = list(ModelVariant.objects.filter(pk__in=spec.variant_ids).order_by("id"))
    backend = inference_backend()
    done = _already_generated(job)
    total = len(prompts) * len(variants) * spec.samples
    run.progress(len(done), total)
    for variant in variants:
        ref = variant_ref(variant)
        for sample in range(spec.samples):
            pending = [p for p in prompts if (p.pk, variant.pk, sample) not in done]
            for start in range(0, len(pending), spec.batch_size):
                batch = pending[start : start + spec.batch_size]
                params = spec.sampling(sample)
                texts = backend.generate_batch(ref, [as_messages(p.content, "user") for p in batch], params)
                _store_batch(job, variant, sample, params, batch, texts, _template(backend, ref))
                done.update((p.pk, variant.pk, sample) for p in batch)
                run.progress(len(done), total)
    result = build_tasks(job, spec, prompts)
    stored = Response.objects.filter(metadata__generation__job=job.pk).count()
    # Empty outputs (the model ended its turn at once) are not stored: they cannot be ranked.
    run.save(result={**result, "responses": stored, "empty_outputs": len(done) - stored})


def _template(backend, ref) -> str:
    from ml.llm.inference import template_fingerprint

    tokenizer_for = getattr(backend, "tokenizer_for", None)
    return template_fingerprint(tokenizer_for(ref)) if tokenizer_for else "remote"


def _already_generated(job: ModelJob) -> set[tuple[int, int, int]]:
    rows = Response.objects.filter(metadata__generation__job=job.pk).values_list(
        "prompt_id", "origin__variant_id", "metadata"
    )
    return {(p, v, m["generation"]["sample"]) for p, v, m in rows}


@transaction.atomic
def _store_batch(job, variant, sample: int, params: GenerationParams, prompts, texts, template: str) -> None:
    created = Response.objects.bulk_create(
        [
            Response(
                prompt=p,
                content=text,
                text=text,
                content_hash=content_hash(text),
                model_name=variant.name,
                metadata={
                    "generation": {
                        "job": job.pk,
                        "sample": sample,
                        "params": params.as_dict(),
                        "chat_template": template,
                        "system_prompt": variant.system_prompt,
                    }
                },
            )
            for p, text in zip(prompts, texts, strict=True)
            if not is_blank(text) and "\x00" not in text
        ]
    )
    ResponseOrigin.objects.bulk_create([ResponseOrigin(response=r, variant=variant) for r in created])


@transaction.atomic
def build_tasks(job: ModelJob, spec: GenerationSpec, prompts) -> dict:
    """One task per prompt with 2..responses_per_task distinct responses of this job, spread over the
    variants (round robin), in a shuffled stored order."""
    campaign = Campaign.objects.get(pk=spec.campaign_id)
    by_prompt = defaultdict(list)
    for response in Response.objects.filter(metadata__generation__job=job.pk).select_related("origin").order_by("id"):
        by_prompt[response.prompt_id].append(response)
    created = skipped = 0
    rng = random.Random(spec.seed)
    for prompt in prompts:
        external_id = f"gen-{job.pk}-{prompt.pk}"
        if Task.objects.filter(external_id=external_id).exists():
            continue
        chosen = _pick(by_prompt[prompt.pk], spec.responses_per_task)
        if len(chosen) < 2:
            skipped += 1
            continue
        rng.shuffle(chosen)
        task_create(campaign=campaign, prompt=prompt, responses=chosen, external_id=external_id)
        created += 1
    return {"tasks_created": created, "prompts_skipped": skipped}


def _pick(responses: list[Response], limit: int) -> list[Response]:
    """Distinct texts, taking one per variant in turn so every variant is represented."""
    queues = defaultdict(list)
    for response in responses:
        queues[response.origin.variant_id].append(response)
    picked, seen = [], set()
    while len(picked) < limit and any(queues.values()):
        for variant_id in list(queues):
            if queues[variant_id] and len(picked) < limit:
                response = queues[variant_id].pop(0)
                if visible_form(response.text).strip() not in seen:  # what task_create compares
                    seen.add(visible_form(response.text).strip())
                    picked.append(response)
    return picked
