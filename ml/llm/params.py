"""What a generation call is given: the variant to run and the sampling settings."""

from dataclasses import asdict, dataclass
from typing import Any


class BadParams(ValueError):
    pass


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 means greedy decoding
    top_p: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_new_tokens <= 4096:
            raise BadParams("max_new_tokens must be between 1 and 4096")
        if not 0 <= self.temperature <= 2:
            raise BadParams("temperature must be between 0 and 2")
        if not 0 < self.top_p <= 1:
            raise BadParams("top_p must be in (0, 1]")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def generate_kwargs(self) -> dict[str, Any]:
        if self.temperature == 0:
            return {"max_new_tokens": self.max_new_tokens, "do_sample": False}
        return {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": True,
            "temperature": self.temperature,
            "top_p": self.top_p,
        }


@dataclass(frozen=True)
class VariantRef:
    """A servable variant: a full model folder, optionally a LoRA adapter on it, and the system prompt
    it was trained with and is served with (`ml.llm.chat.with_system_prompt`)."""

    name: str
    model_path: str
    adapter_path: str | None = None
    system_prompt: str | None = None
