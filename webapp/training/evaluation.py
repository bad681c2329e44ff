"""Evaluation by generation, the last step of every training job (unless its `eval_generation` is "off"):
the parent and the new variant answer the held-out prompts greedily through the inference backend the
generation jobs use, and `ml.evaluation` measures the answers per language (language fidelity with its
Wilson interval, degenerate and echoing answers) and pairs them (discordant prompts, exact McNemar test;
pooled over the trained languages, Newcombe's paired interval of the fidelity difference).

The held-out prompts: those of the snapshot's held-out pairs, plus every current prompt whose `source`
is one of `prompt_sources` (held-out prompts a team supplies, in languages the job may never train on),
deduplicated, at most `max_prompts_per_language` per language chosen by a hash of the conversation (a
fixed pseudo-random sample: the same prompts give the same choice, so a parent's answers are reused
from the cache, webapp/modelstore/evaluation.py). A language without training rows is `unseen`.
Each conversation reaches the models without the job's system prompt: each variant's own is applied
by the backend, as when it is served."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.evaluation.generation_eval import Answer, EvalPrompt, backend_tokenizer, compare, figures, generate_answers
from ml.evaluation.stats import paired_difference
from ml.llm.params import GenerationParams, VariantRef
from webapp.feedback.content import as_messages
from webapp.feedback.models import Prompt
from webapp.modelstore.evaluation import cached_answers
from webapp.modelstore.generation import inference_backend
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import variant_ref
from webapp.training.models import EVAL_GENERATION_OFF, default_eval_generation

BATCH_SIZE = 32  # greedy answers per forward pass; on 2 CPU cores ~1.5x faster per answer than 16
LIMITS = {"max_prompts_per_language": (1, 500), "max_new_tokens": (1, 512)}
MAX_PROMPT_SOURCES = 20


@dataclass(frozen=True)
class GenerationEvalSettings:
    max_prompts_per_language: int
    max_new_tokens: int
    prompt_sources: tuple[str, ...]

    @classmethod
    def from_stored(cls, stored: dict) -> "GenerationEvalSettings":
        values = {**default_eval_generation(), **stored}
        return cls(values["max_prompts_per_language"], values["max_new_tokens"], tuple(values["prompt_sources"]))

    def as_dict(self) -> dict:
        return {
            "max_prompts_per_language": self.max_prompts_per_language,
            "max_new_tokens": self.max_new_tokens,
            "prompt_sources": list(self.prompt_sources),
        }


def is_off(stored: object) -> bool:
    return stored == EVAL_GENERATION_OFF


def _conversation_key(prompt: EvalPrompt) -> str:
    return json.dumps([prompt.language, prompt.conversation], sort_keys=True, ensure_ascii=False)


def _without_system_prompt(messages: list[dict], system_prompt: str | None) -> list[dict]:
    """The snapshot put the job's system prompt first (ml/llm/chat.py); the backend adds each variant's own."""
    first = messages[0] if messages else {}
    if system_prompt is not None and first.get("role") == "system" and first.get("content") == system_prompt:
        return messages[1:]
    return messages


def held_out_prompts(folder: Path, settings: GenerationEvalSettings, system_prompt: str | None) -> list[EvalPrompt]:
    """The held-out pairs' prompts and the prompts of `prompt_sources`: deduplicated, capped per language,
    ordered by language and then by the hash that chose them."""
    found: dict[str, EvalPrompt] = {}
    eval_file = folder / "data" / "eval_pairs.jsonl"
    lines = eval_file.read_text(encoding="utf-8").splitlines() if eval_file.is_file() else []
    for line in lines:
        row = json.loads(line)
        messages = _without_system_prompt(as_messages(row["prompt"], "user"), system_prompt)
        prompt = EvalPrompt(conversation=messages, language=row["language"])
        found.setdefault(_conversation_key(prompt), prompt)
    if settings.prompt_sources:
        current = Prompt.objects.alive().filter(next_version__isnull=True, source__in=settings.prompt_sources)
        for content, language in current.order_by("id").values_list("content", "language_id"):
            messages = as_messages(content, "user")
            if messages and messages[-1]["role"] == "user":
                prompt = EvalPrompt(conversation=messages, language=language)
                found.setdefault(_conversation_key(prompt), prompt)
    by_language: dict[str, list[tuple[str, EvalPrompt]]] = {}
    for key, prompt in found.items():
        by_language.setdefault(prompt.language, []).append((hashlib.sha256(key.encode()).hexdigest(), prompt))
    return [
        prompt
        for language in sorted(by_language)
        for _digest, prompt in sorted(by_language[language], key=lambda item: item[0])[
            : settings.max_prompts_per_language
        ]
    ]


def generation_evaluation(
    *,
    settings: GenerationEvalSettings,
    prompts: list[EvalPrompt],
    parent: ModelVariant,
    child: VariantRef,
    trained_languages: set[str],
    on_progress: Callable[[int, int], object],
) -> dict:
    """Parent and child answer the prompts (the parent's answers from the cache when it has them); the
    figures in the shape TrainingJob.evaluation["generation"] keeps (docs/architecture.md)."""
    if not prompts:
        return _result(settings, parent.name, child.name, languages=[], pooled_trained=None, not_measurable=[])
    backend = inference_backend()
    tokenizer_for = backend_tokenizer(backend)
    params = GenerationParams(max_new_tokens=settings.max_new_tokens, temperature=0.0)
    parent_ref, total = variant_ref(parent), 2 * len(prompts)
    parent_answers, parent_cached = cached_answers(
        variant=parent,
        ref=parent_ref,
        prompts=prompts,
        params=params,
        backend=backend,
        tokenizer=tokenizer_for(parent_ref),
        batch_size=BATCH_SIZE,
        on_progress=lambda n, _of: on_progress(n, total),
    )
    on_progress(len(prompts), total)
    child_answers = generate_answers(
        backend,
        child,
        prompts,
        params,
        tokenizer_for(child),
        batch_size=BATCH_SIZE,
        on_progress=lambda n, _of: on_progress(len(prompts) + n, total),
    )
    return _result(
        settings,
        parent.name,
        child.name,
        parent_cached=parent_cached,
        **measured(prompts, parent_answers, child_answers, trained_languages, parent.name, child.name),
        **_failures(parent_answers, child_answers),
    )


def _result(
    settings: GenerationEvalSettings, parent: str, child: str, parent_cached: bool = False, **rest: Any
) -> dict:
    return {"settings": settings.as_dict(), "parent": parent, "child": child, "parent_cached": parent_cached, **rest}


def measured(
    prompts: list[EvalPrompt],
    parent: list[Answer],
    child: list[Answer],
    trained_languages: set[str],
    parent_name: str,
    child_name: str,
) -> dict[str, Any]:
    """Per language the two variants' figures and their paired comparison; pooled over the measurable
    trained languages, the child's fidelity minus the parent's."""
    parent_figures = {f.language: f for f in figures(parent_name, prompts, parent)}
    child_figures = {f.language: f for f in figures(child_name, prompts, child)}
    comparison = compare(parent_name, child_name, prompts, parent, child)
    paired = {c.language: c for c in comparison.languages}
    languages = []
    for language in sorted(parent_figures):
        c = paired.get(language)
        languages.append(
            {
                "language": language,
                "unseen": language not in trained_languages,
                "n": parent_figures[language].n,
                "parent": parent_figures[language].as_dict(),
                "child": child_figures[language].as_dict(),
                "only_parent": c.only_a if c else None,
                "only_child": c.only_b if c else None,
                "p_value": c.p_value if c else None,
            }
        )
    trained = [
        (y.hit, x.hit)
        for prompt, x, y in zip(prompts, parent, child, strict=True)
        if prompt.language in paired and prompt.language in trained_languages
    ]
    return {
        "languages": languages,
        "pooled_trained": _pooled(trained) if trained else None,
        "not_measurable": comparison.not_measurable,
    }


def _pooled(pairs: list[tuple[bool, bool]]) -> dict:
    """(child hit, parent hit) pairs: the difference child - parent with Newcombe's paired interval."""
    d = paired_difference([c for c, _p in pairs], [p for _c, p in pairs])
    return {
        "n": d.n,
        "estimate": d.estimate,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
        "p_value": d.p_value,
        "only_parent": d.only_b,
        "only_child": d.only_a,
    }


def _failures(parent: list[Answer], child: list[Answer]) -> dict:
    """Generations that failed (they count as not in-language); absent when none did."""
    failed = {side: [a.error for a in answers if a.error] for side, answers in (("parent", parent), ("child", child))}
    if not any(failed.values()):
        return {}
    return {
        "failures": {
            side: {"count": len(errors), "of": len(parent), "first": errors[0] if errors else ""}
            for side, errors in failed.items()
        }
    }


def failed_evaluation(settings: GenerationEvalSettings, parent: str, child: str, error: str) -> dict:
    """What is kept when the evaluation could not run at all (the variant is registered all the same)."""
    return _result(settings, parent, child, languages=[], pooled_trained=None, not_measurable=[], error=error)
