"""The `language-fidelity` judge: answers in the prompt's language above the others, degenerate and
echoing answers last, ties otherwise (issue 14's rule, with the shared measures of `ml.evaluation`).

Three tiers, best first, each one tie group (empty tiers are left out):
  0. in the prompt's language, neither degenerate nor an echo of the prompt;
  1. not in the prompt's language (or not measurable: a tag py3langid lacks), neither degenerate nor echo;
  2. degenerate or echo, whatever the language.
Repetition is counted in 4-grams of the base model's tokenizer ids (the installed base variant); the
generation's token limit is not known here, so "cut off inside a repeat" is not used, only coverage.
It runs no model, so its jobs run on the default queue."""

import threading
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from ml.evaluation.language import in_language
from ml.evaluation.repetition import degenerate, echo
from ml.llm.loading import load_tokenizer
from webapp.errors import ApplicationError
from webapp.feedback.extensions import Judge
from webapp.modelstore.models import ModelVariant, VariantKind, VariantStatus
from webapp.modelstore.services import BUNDLED, base_name_for, store_path

NAME = "language-fidelity"
VERSION = "1"  # bump when the tiers or the measures change

_tokenizers: dict[str, Any] = {}
_lock = threading.Lock()


def installed_base() -> ModelVariant | None:
    """The configured base model, else any installed base variant, else None."""
    bases = ModelVariant.objects.filter(kind=VariantKind.BASE, status=VariantStatus.READY)
    return bases.filter(name=base_name_for(settings.BASE_MODEL or BUNDLED)).first() or bases.order_by("id").first()


def tokenizer_of(base: ModelVariant) -> Any:
    """The tokenizer of a base variant's folder, loaded once per process."""
    folder = str(store_path(base.path))
    with _lock:
        if folder not in _tokenizers:
            _tokenizers[folder] = load_tokenizer(folder)
        return _tokenizers[folder]


def base_tokenizer() -> Any:
    """The tokenizer of the configured base model, else of any installed base variant (loaded once)."""
    base = installed_base()
    if base is None:
        raise ApplicationError(_("The language-fidelity judge needs an installed base model (its tokenizer)."))
    return tokenizer_of(base)


def tier(text: str, prompt: str, language: str, tokenizer: Any) -> int:
    if degenerate(text, tokenizer) or echo(text, prompt, tokenizer):
        return 2
    return 0 if in_language(text, language) else 1


def rank(prompt: str, texts: list[str], language: str) -> list[list[int]]:
    tokenizer = base_tokenizer()
    tiers = [tier(text, prompt, language, tokenizer) for text in texts]
    return [[i for i, t in enumerate(tiers) if t == level] for level in (0, 1, 2) if level in tiers]


def fidelity_judge() -> Judge:
    return Judge(
        name=NAME,
        version=VERSION,
        rank=rank,
        description="Answers in the prompt's language first, degenerate or echoing answers last",
    )
