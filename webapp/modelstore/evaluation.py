"""Evaluation by generation (`manage.py evaluate_variants`): registered variants answer a JSON Lines
file of prompts through the same inference backend as generation jobs, and the answers are measured
with `ml.evaluation` (language fidelity, degeneration, echo; the paired comparison of two variants).

Everything is checked before anything is generated: the settings, the variant names (each must be
ready), and every line of the file (each error names its line). Each line is
`{"prompt": <string or chat messages>, "language": <BCP-47 tag>}`; other keys are ignored, blank lines
skipped. A string prompt becomes one user message; messages are given to the model as they are (their
last one must be the user's). The variant's own conversation rules (e.g. a system prompt) are applied by
the generation path, as for generation jobs."""

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db import IntegrityError, transaction

from ml.evaluation.generation_eval import (
    Answer,
    Backend,
    EvalPrompt,
    Evaluation,
    backend_tokenizer,
    evaluate,
    generate_answers,
)
from ml.evaluation.language import language_key
from ml.llm.params import BadParams, GenerationParams, VariantRef
from webapp.errors import ApplicationError
from webapp.feedback.content import as_messages, validate_content
from webapp.feedback.services.languages import canonical_tag
from webapp.modelstore.generation import inference_backend
from webapp.modelstore.models import GenerationEvalCache, ModelVariant
from webapp.modelstore.services import variant_ref
from webapp.safejson import depth_message, too_deep

MAX_PROMPTS = 10_000
MAX_LINE_BYTES = 1_000_000
ERRORS_SHOWN = 20


class BadEvaluationInput(ApplicationError):
    pass


@dataclass(frozen=True)
class EvaluationSettings:
    max_new_tokens: int = 256
    temperature: float = 0.0  # greedy
    seed: int = 1234  # used only when sampling
    batch_size: int = 8

    def params(self) -> GenerationParams:
        try:
            return GenerationParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, seed=self.seed)
        except BadParams as exc:
            raise BadEvaluationInput(f"Bad generation settings: {exc}") from None

    def check(self) -> None:
        self.params()
        if not 1 <= self.batch_size <= 64:
            raise BadEvaluationInput("batch_size must be between 1 and 64")


def resolve_variants(names: Sequence[str]) -> list[VariantRef]:
    if not names:
        raise BadEvaluationInput("Name at least one variant (--variant NAME).")
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise BadEvaluationInput(f"Variant(s) named more than once: {', '.join(repeated)}")
    found = {v.name: v for v in ModelVariant.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        known = ", ".join(ModelVariant.objects.order_by("name").values_list("name", flat=True)) or "none"
        raise BadEvaluationInput(f"Unknown variant(s): {', '.join(missing)} (registered: {known})")
    return [variant_ref(found[n]) for n in names]


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, the line without its ending), or None for a line over MAX_LINE_BYTES."""
    line_no = 0
    while raw := handle.readline(MAX_LINE_BYTES + 2):
        line_no += 1
        if raw.endswith(b"\n") or len(raw) < MAX_LINE_BYTES + 2:
            body = raw.rstrip(b"\r\n")
            yield line_no, body if len(body) <= MAX_LINE_BYTES else None
            continue
        while chunk := handle.readline(65536):  # drop the rest of the long line
            if chunk.endswith(b"\n"):
                break
        yield line_no, None


def parse_prompt_line(raw: bytes, line_no: int) -> EvalPrompt | None:
    """One line as a prompt, None for a blank line; BadEvaluationInput says what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadEvaluationInput(f"not valid UTF-8 (byte {exc.start})") from None
    if line_no == 1:
        text = text.removeprefix("\ufeff")
    if not text.strip():
        return None
    if too_deep(raw):
        raise BadEvaluationInput(depth_message())
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadEvaluationInput(f"bad JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise BadEvaluationInput(f"each line must be a JSON object, not {type(obj).__name__}")
    content = validate_content(obj.get("prompt"), "prompt")
    messages = as_messages(content, "user")
    if messages[-1]["role"] != "user":
        raise BadEvaluationInput("the last message of 'prompt' must be the user's (the model answers it)")
    language = obj.get("language")
    if not isinstance(language, str):
        raise BadEvaluationInput("'language' must be a BCP-47 tag such as 'de', 'zh-Hans' or 'ar'")
    code = canonical_tag(language)  # langcodes: well-formed and every subtag in the IANA registry
    try:
        language_key(code)  # what the measures compare; never fails for a tag canonical_tag accepts
    except ValueError:
        raise BadEvaluationInput(f"'language' {language!r} names no language") from None
    return EvalPrompt(conversation=messages, language=code, line=line_no)


def read_prompts(handle: IO[bytes], name: str = "the prompts file") -> list[EvalPrompt]:
    """Every prompt of the file, or BadEvaluationInput listing the bad lines (the first ERRORS_SHOWN)."""
    prompts: list[EvalPrompt] = []
    errors: list[str] = []
    for line_no, raw in _lines(handle):
        if raw is None:
            errors.append(f"line {line_no}: longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            prompt = parse_prompt_line(raw, line_no)
        except ApplicationError as exc:
            errors.append(f"line {line_no}: {exc.message}")
            continue
        if prompt is None:
            continue
        if len(prompts) == MAX_PROMPTS:
            raise BadEvaluationInput(
                f"{name}: line {line_no} is prompt {MAX_PROMPTS + 1}: at most {MAX_PROMPTS} prompts per run; "
                "split the file. Nothing was generated."
            )
        prompts.append(prompt)
    if errors:
        shown = "\n".join(errors[:ERRORS_SHOWN])
        more = f"\n... and {len(errors) - ERRORS_SHOWN} more" if len(errors) > ERRORS_SHOWN else ""
        raise BadEvaluationInput(f"{name}: {len(errors)} bad line(s), nothing was generated:\n{shown}{more}")
    if not prompts:
        raise BadEvaluationInput(f"{name} holds no prompt.")
    return prompts


def evaluation_run(
    *,
    variants: Sequence[str],
    prompts: IO[bytes],
    name: str = "the prompts file",
    settings: EvaluationSettings | None = None,
    backend: Backend | None = None,
    on_progress: Callable[[str, int, int], object] | None = None,
) -> Evaluation:
    """Check everything, then generate (greedy unless `settings.temperature` > 0) and measure."""
    settings = settings or EvaluationSettings()
    settings.check()
    refs = resolve_variants(variants)
    items = read_prompts(prompts, name)
    backend = backend if backend is not None else inference_backend()
    return evaluate(
        backend,
        refs,
        items,
        settings.params(),
        backend_tokenizer(backend),
        batch_size=settings.batch_size,
        on_progress=on_progress,
    )


# Cached answers ----------------------------------------------------------------------------------
# A parent answers the same held-out prompts for every job trained on it: its measured answers are kept
# (GenerationEvalCache) under a key of everything they depend on, so the next job generates the child's only.
CACHE_VERSION = 1  # bump when ml.evaluation's measures change: older entries are then never read
CACHED_KEYS = ("language", "hit", "in_language", "degenerate", "echo", "tokens")


def generation_cache_key(ref: VariantRef, prompts: Sequence[EvalPrompt], params: GenerationParams) -> str:
    """sha256 of the prompts (conversations and languages, in order), the generation settings, the system
    prompt and the model's files."""
    material = {
        "version": CACHE_VERSION,
        "prompts": [[p.conversation, p.language] for p in prompts],
        "params": params.as_dict(),
        "system_prompt": ref.system_prompt,
        "model_path": ref.model_path,
        "adapter_path": ref.adapter_path,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _cached_answer(entry: dict[str, Any]) -> Answer:
    return Answer(
        text="",
        tokens=entry["tokens"],
        in_language=entry["in_language"],
        degenerate=entry["degenerate"],
        echo=entry["echo"],
    )


def cached_answers(
    *,
    variant: ModelVariant,
    ref: VariantRef,
    prompts: Sequence[EvalPrompt],
    params: GenerationParams,
    backend: Backend,
    tokenizer: Any,
    batch_size: int = 8,
    on_progress: Callable[[int, int], object] | None = None,
) -> tuple[list[Answer], bool]:
    """The variant's measured answers to the prompts, and whether they came from the cache. Answers are
    cached only when no generation failed (a failure may be transient)."""
    key = generation_cache_key(ref, prompts, params)
    entry = GenerationEvalCache.objects.filter(variant=variant, key=key).first()
    if entry is not None and len(entry.results) == len(prompts):
        return [_cached_answer(e) for e in entry.results], True
    answers = generate_answers(backend, ref, prompts, params, tokenizer, batch_size=batch_size, on_progress=on_progress)
    if not any(a.error for a in answers):
        results = [
            {"language": p.language, "hit": a.hit, **{k: getattr(a, k) for k in CACHED_KEYS[2:]}}
            for p, a in zip(prompts, answers, strict=True)
        ]
        try:
            with transaction.atomic():
                GenerationEvalCache.objects.update_or_create(variant=variant, key=key, defaults={"results": results})
        except IntegrityError:
            pass  # another job stored the same answers at the same moment
    return answers, False


# Reports -------------------------------------------------------------------------------------------


def json_lines(evaluation: Evaluation) -> list[str]:
    """One object per (variant, language), exactly the keys FIGURE_KEYS; nothing else."""
    return [json.dumps(f.as_dict(), ensure_ascii=False) for f in evaluation.figures]


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def figures_table(evaluation: Evaluation) -> str:
    width = max([len("variant"), *(len(v) for v in evaluation.variants)])
    lang_width = max([len("language"), *(len(f.language) for f in evaluation.figures)])
    head = (
        f"{'variant':<{width}}  {'language':<{lang_width}}  {'n':>5}  {'fidelity':>8}  {'95% CI':<14}  "
        f"{'mean_tokens':>11}  {'degenerate':>10}  {'echo':>5}"
    )
    rows = [head]
    for f in evaluation.figures:
        ci = "not measurable" if f.ci_low is None else f"{f.ci_low:.3f}-{f.ci_high:.3f}"
        rows.append(
            f"{f.variant:<{width}}  {f.language:<{lang_width}}  {f.n:>5}  {_share(f.fidelity):>8}  {ci:<14}  "
            f"{f.mean_tokens:>11.1f}  {f.degenerate:>10.3f}  {f.echo:>5.3f}"
        )
    return "\n".join(rows)


def comparison_table(evaluation: Evaluation) -> str:
    """The paired comparison of two variants ('' for any other number)."""
    c = evaluation.comparison
    if c is None:
        return ""
    lang_width = max([len("language"), *(len(x.language) for x in c.languages)])
    rows = [
        f"Paired comparison: A = {c.variant_a}, B = {c.variant_b} (same prompts; discordant prompts: "
        "only A or only B in-language; exact McNemar test, two-sided)",
        f"{'language':<{lang_width}}  {'n':>5}  {'only A':>6}  {'only B':>6}  {'p':>6}",
    ]
    for x in c.languages:
        rows.append(f"{x.language:<{lang_width}}  {x.n:>5}  {x.only_a:>6}  {x.only_b:>6}  {x.p_value:>6.3f}")
    p = c.pooled
    rows.append(
        f"{'pooled':<{lang_width}}  {p.n:>5}  {p.only_a:>6}  {p.only_b:>6}  {p.p_value:>6.3f}  "
        f"fidelity A - B = {p.estimate:+.3f}, 95% CI {p.ci_low:+.3f} to {p.ci_high:+.3f} (Newcombe, paired)"
    )
    if c.not_measurable:
        rows.append(f"not measurable, left out: {', '.join(c.not_measurable)}")
    return "\n".join(rows)


def failure_notes(evaluation: Evaluation) -> list[str]:
    notes = []
    for variant in evaluation.variants:
        failed = evaluation.failures(variant)
        if failed:
            notes.append(
                f"{variant}: {len(failed)} of {len(evaluation.prompts)} generations failed and count as not "
                f"in-language (first: {failed[0].error})"
            )
    return notes


def all_failed(evaluation: Evaluation) -> list[str]:
    return [v for v in evaluation.variants if len(evaluation.failures(v)) == len(evaluation.prompts)]
