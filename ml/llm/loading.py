"""Loading a model folder on the best device: CUDA in bf16 when present, else CPU in fp32."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Device:
    name: str
    dtype_name: str

    @property
    def dtype(self) -> Any:  # a torch.dtype
        import torch

        return getattr(torch, self.dtype_name)


def best_device() -> Device:
    import torch

    if torch.cuda.is_available():
        return Device("cuda", "bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    return Device("cpu", "float32")


def load_model(path: str | Path, device: Device | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a safetensors folder, in eval mode, left-padded for batches."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or best_device()
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, use_safetensors=True, dtype=device.dtype)
    model.to(device.name)
    model.eval()
    return model, tokenizer


def load_tokenizer(path: str | Path) -> Any:
    """The tokenizer of a model folder alone (for measures over token ids, without the weights)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)
