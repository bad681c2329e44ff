"""Evaluation by generation: every variant answers every prompt through the inference interface the
generation jobs use (`generate_batch`, `ml/llm/inference.py` or the OpenAI-compatible backend), and each
answer is measured (`language`, `repetition`).

Per (variant, language): `n` (every prompt counts; an empty or failed generation counts as not
in-language), `fidelity` (the share in-language, with its 95% Wilson `ci_low`/`ci_high`; all three None
for a language py3langid cannot measure), `mean_tokens` (answer length in the base tokenizer's tokens),
and the shares of `degenerate` and `echo` answers. For two variants, `compare` pairs their answers prompt
by prompt: per language the discordant prompts and the exact McNemar p-value, and pooled over the
measurable languages the fidelity difference with Newcombe's paired interval (`stats`)."""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ml.evaluation.language import in_language
from ml.evaluation.repetition import degenerate_ids, echo_ids, prompt_text, token_ids, truncated
from ml.evaluation.stats import PairedDifference, mcnemar_exact, paired_difference, wilson
from ml.llm.params import GenerationParams, VariantRef

FIGURE_KEYS = ("variant", "language", "n", "fidelity", "ci_low", "ci_high", "mean_tokens", "degenerate", "echo")


class Backend(Protocol):
    def generate_batch(
        self, ref: VariantRef, conversations: list[list[dict[str, Any]]], params: GenerationParams
    ) -> list[str]: ...


@dataclass(frozen=True)
class EvalPrompt:
    conversation: list[dict[str, Any]]  # chat messages, the last one the user's
    language: str  # the BCP-47 tag the answer should be in
    line: int = 0  # where it was read from


@dataclass(frozen=True)
class Answer:
    text: str
    tokens: int
    in_language: bool | None  # None: the language is not measurable
    degenerate: bool
    echo: bool
    error: str = ""  # the generation failed (text is then empty)

    @property
    def hit(self) -> bool:
        return self.in_language is True


@dataclass(frozen=True)
class Figures:
    variant: str
    language: str
    n: int
    fidelity: float | None
    ci_low: float | None
    ci_high: float | None
    mean_tokens: float
    degenerate: float
    echo: float

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in FIGURE_KEYS}


@dataclass(frozen=True)
class LanguageComparison:
    language: str
    n: int
    only_a: int  # prompts where only variant A answered in-language
    only_b: int
    p_value: float  # exact McNemar, two-sided


@dataclass(frozen=True)
class Comparison:
    variant_a: str
    variant_b: str
    languages: list[LanguageComparison]  # measurable languages only
    pooled: PairedDifference  # fidelity(A) - fidelity(B) over every measurable prompt
    not_measurable: list[str]  # languages left out


@dataclass
class Evaluation:
    variants: list[str]
    prompts: list[EvalPrompt]
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    figures: list[Figures] = field(default_factory=list)
    comparison: Comparison | None = None

    def failures(self, variant: str) -> list[Answer]:
        return [a for a in self.answers[variant] if a.error]


def measure(text: str, prompt: EvalPrompt, tokenizer: Any, max_new_tokens: int | None, error: str = "") -> Answer:
    ids = token_ids(text, tokenizer) if text else []
    prompt_ids = token_ids(prompt_text(prompt.conversation), tokenizer)
    return Answer(
        text=text,
        tokens=len(ids),
        in_language=in_language(text, prompt.language),
        degenerate=degenerate_ids(ids, truncated=truncated(ids, max_new_tokens)),
        echo=echo_ids(ids, prompt_ids),
        error=error,
    )


def generate_answers(
    backend: Backend,
    ref: VariantRef,
    prompts: Sequence[EvalPrompt],
    params: GenerationParams,
    tokenizer: Any,
    *,
    batch_size: int = 8,
    on_progress: Callable[[int, int], object] | None = None,
) -> list[Answer]:
    """One answer per prompt, in order. A batch that raises is retried one prompt at a time; a prompt
    that still fails gets an empty answer carrying the error (counted as not in-language)."""
    answers: list[Answer] = []
    for start in range(0, len(prompts), batch_size):
        batch = list(prompts[start : start + batch_size])
        for prompt, (text, error) in zip(batch, _generate(backend, ref, batch, params), strict=True):
            answers.append(measure(text, prompt, tokenizer, params.max_new_tokens, error))
        if on_progress is not None:
            on_progress(len(answers), len(prompts))
    return answers


def _generate(
    backend: Backend, ref: VariantRef, batch: list[EvalPrompt], params: GenerationParams
) -> list[tuple[str, str]]:
    try:
        texts = backend.generate_batch(ref, [p.conversation for p in batch], params)
        if len(texts) != len(batch):
            raise RuntimeError(f"the backend answered {len(texts)} of {len(batch)} prompts")
        return [(t if isinstance(t, str) else "", "") for t in texts]
    except Exception as exc:  # noqa: BLE001 - a failed generation is a counted outcome, not a crash
        if len(batch) == 1:
            return [("", f"{type(exc).__name__}: {exc}")]
    return [_generate(backend, ref, [p], params)[0] for p in batch]


def figures(variant: str, prompts: Sequence[EvalPrompt], answers: Sequence[Answer]) -> list[Figures]:
    """Per language (sorted by tag), the figures of one variant's answers."""
    by_language: dict[str, list[Answer]] = {}
    for prompt, answer in zip(prompts, answers, strict=True):
        by_language.setdefault(prompt.language, []).append(answer)
    out = []
    for language in sorted(by_language):
        group = by_language[language]
        n = len(group)
        measurable = group[0].in_language is not None
        hits = sum(a.hit for a in group)
        low, high = wilson(hits, n) if measurable else (None, None)
        out.append(
            Figures(
                variant=variant,
                language=language,
                n=n,
                fidelity=hits / n if measurable else None,
                ci_low=low,
                ci_high=high,
                mean_tokens=sum(a.tokens for a in group) / n,
                degenerate=sum(a.degenerate for a in group) / n,
                echo=sum(a.echo for a in group) / n,
            )
        )
    return out


def compare(
    variant_a: str, variant_b: str, prompts: Sequence[EvalPrompt], a: Sequence[Answer], b: Sequence[Answer]
) -> Comparison:
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    not_measurable = set()
    for prompt, x, y in zip(prompts, a, b, strict=True):
        if x.in_language is None:
            not_measurable.add(prompt.language)
            continue
        pairs.setdefault(prompt.language, []).append((x.hit, y.hit))
    languages = []
    for language in sorted(pairs):
        only_a = sum(x and not y for x, y in pairs[language])
        only_b = sum(y and not x for x, y in pairs[language])
        languages.append(
            LanguageComparison(language, len(pairs[language]), only_a, only_b, mcnemar_exact(only_a, only_b))
        )
    pooled = [pair for language in sorted(pairs) for pair in pairs[language]]
    return Comparison(
        variant_a=variant_a,
        variant_b=variant_b,
        languages=languages,
        pooled=paired_difference([x for x, _ in pooled], [y for _, y in pooled]),
        not_measurable=sorted(not_measurable),
    )


def evaluate(
    backend: Backend,
    refs: Sequence[VariantRef],
    prompts: Sequence[EvalPrompt],
    params: GenerationParams,
    tokenizer_for: Callable[[VariantRef], Any],
    *,
    batch_size: int = 8,
    on_progress: Callable[[str, int, int], object] | None = None,
) -> Evaluation:
    """Every variant answers every prompt; figures per (variant, language); the paired comparison when
    there are exactly two variants."""
    result = Evaluation(variants=[r.name for r in refs], prompts=list(prompts))
    for ref in refs:
        progress = functools.partial(on_progress, ref.name) if on_progress else None
        answers = generate_answers(
            backend, ref, prompts, params, tokenizer_for(ref), batch_size=batch_size, on_progress=progress
        )
        result.answers[ref.name] = answers
        result.figures.extend(figures(ref.name, prompts, answers))
    if len(refs) == 2:
        a, b = (r.name for r in refs)
        result.comparison = compare(a, b, prompts, result.answers[a], result.answers[b])
    return result


@functools.lru_cache(maxsize=8)
def load_tokenizer(model_path: str) -> Any:
    """A model folder's tokenizer, for backends that do not hand theirs out (the remote one)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_path)


def backend_tokenizer(backend: Any) -> Callable[[VariantRef], Any]:
    """The tokenizer of a variant's base model: the local backend's own (already loaded), else read from
    the model folder."""
    own = getattr(backend, "tokenizer_for", None)
    if callable(own):
        return lambda ref: own(ref)
    return lambda ref: load_tokenizer(ref.model_path)
