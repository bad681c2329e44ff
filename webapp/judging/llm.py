"""The `llm` judge: pairwise LLM-as-judge (ml/llm/judge.py) through the inference interface, the local
backend or an OpenAI-compatible server when INFERENCE_URL is set (webapp.modelstore.generation).

The model is the variant JUDGE_LLM_VARIANT (default: the installed base model). Its version names the
prompt version and the variant, `llm@<PROMPT_VERSION>+<variant>`, so rankings by another model or other
prompts are another origin and the gate and the review page weigh them apart. Its jobs run on `gpu`."""

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings

from ml.llm.judge import PROMPTS, rank_pairwise
from ml.llm.params import GenerationParams, VariantRef
from webapp.errors import ApplicationError
from webapp.feedback.extensions import Judge
from webapp.feedback.services.languages import describe
from webapp.modelstore.generation import inference_backend
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import BUNDLED, base_name_for, variant_ref

NAME = "llm"
PROMPT_VERSION = "1"  # bump when ml/llm/judge.py's prompts or decision rule change

_backend: Any = None
_backend_lock = threading.Lock()


def shared_backend() -> Any:
    """One backend per process, so the judge's model is loaded once (LocalBackend keeps it)."""
    global _backend
    with _backend_lock:
        if _backend is None:
            _backend = inference_backend()
        return _backend


def judge_variant() -> str:
    return settings.JUDGE_LLM_VARIANT or base_name_for(settings.BASE_MODEL or BUNDLED)


def _ref(name: str) -> VariantRef:
    variant = ModelVariant.objects.select_related("parent").filter(name=name).first()
    if variant is not None:
        return variant_ref(variant)
    if settings.INFERENCE_URL:  # a model the server serves under this name, not registered here
        return VariantRef(name=name, model_path="")
    raise ApplicationError(
        f"JUDGE_LLM_VARIANT: no variant named {name!r}; install the base model or name a registered variant"
    )


def llm_judge(variant: str | None = None, backend: Callable[[], Any] = shared_backend) -> Judge:
    """The judge over `variant` (default JUDGE_LLM_VARIANT), asking `backend()` (default: the shared one)."""
    name = variant or judge_variant()
    params = GenerationParams(max_new_tokens=settings.JUDGE_LLM_MAX_NEW_TOKENS, temperature=0.0)

    def rank(prompt: str, texts: list[str], language: str) -> list[list[int]]:
        ref = _ref(name)
        model = backend()

        def generate(conversations: list[list[dict[str, Any]]]) -> list[str]:
            return list(model.generate_batch(ref, conversations, params))

        ranking, _ = rank_pairwise(
            generate,
            question=prompt,
            answers=texts,
            language=language,
            language_name=describe(language)[0],
            batch_size=settings.JUDGE_LLM_BATCH_SIZE,
            max_chars=settings.JUDGE_LLM_MAX_CHARS,
        )
        return ranking

    return Judge(
        name=NAME,
        version=f"{PROMPT_VERSION}+{name}",
        rank=rank,
        queue="gpu",
        description=f"Pairwise LLM-as-judge with {name}: each pair asked in both orders, decided when both "
        f"agree; prompts in {', '.join(PROMPTS)}, English naming the language elsewhere",
    )
