"""Merging a LoRA adapter into its parent's weights, so an adapted variant can itself be the parent of
a new adapter (adapters do not stack)."""

from pathlib import Path

from ml.llm.files import write_folder_atomically


def merge_adapter(model_path: str, adapter_path: str, target: Path) -> Path:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def build(tmp: Path) -> None:
        base = AutoModelForCausalLM.from_pretrained(model_path, use_safetensors=True)
        merged = PeftModel.from_pretrained(base, adapter_path).merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        AutoTokenizer.from_pretrained(model_path).save_pretrained(tmp)

    return write_folder_atomically(target, build)
