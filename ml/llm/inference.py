"""One inference interface, `generate` / `generate_batch` / `stream`, used by the generation workers
and by the arena.

`LocalBackend` loads each base model once and switches LoRA adapters on it instead of reloading.
Thread safety: one lock per loaded base, held for a whole generation (streaming included), because
the active adapter is state of the shared model; two concurrent calls for different adapters of one
base therefore run one after the other and never mix. `ml/llm/openai_backend.py` is the
scale-out alternative (vLLM or any OpenAI-compatible server)."""

import hashlib
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ml.llm.chat import with_system_prompt
from ml.llm.loading import Device, best_device, load_model
from ml.llm.params import GenerationParams, VariantRef


def encode_prompts(tokenizer: Any, conversations: list[list[dict[str, Any]]]) -> Any:
    """The exact tokens the model sees: the chat template with the generation prompt, left-padded.
    Training uses the same template through TRL, and the same system-prompt rule (`ml.llm.chat`) is
    applied to both sides before this, so both see identical prompt tokens."""
    texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in conversations]
    return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


def template_fingerprint(tokenizer: Any) -> str:
    return hashlib.sha256((tokenizer.chat_template or "").encode()).hexdigest()[:16]


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    adapters: dict[str, str] = field(default_factory=dict)


class _StopWhenClosed:
    """A stopping criterion that ends generation when the stream's reader goes away."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
        return self.closed.is_set()


class LocalBackend:
    def __init__(self, device: Device | None = None):
        # Streams start in two threads at once (the arena's two sides). transformers' lazy module is
        # not safe when two threads first touch it together (seen: "cannot import name
        # 'StoppingCriteriaList'"), so what stream() imports is imported here, once.
        import peft  # noqa: F401
        import torch  # noqa: F401
        from transformers import StoppingCriteriaList, TextIteratorStreamer  # noqa: F401

        self.device = device or best_device()
        self._loaded: dict[str, _Loaded] = {}
        self._loading = threading.Lock()

    def generate(self, ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams) -> str:
        return self.generate_batch(ref, [messages], params)[0]

    def generate_batch(
        self, ref: VariantRef, conversations: list[list[dict[str, Any]]], params: GenerationParams
    ) -> list[str]:
        import torch

        loaded = self._get(ref)
        with loaded.lock, self._activated(loaded, ref), torch.inference_mode():
            conversations = [with_system_prompt(c, ref.system_prompt) for c in conversations]
            inputs = encode_prompts(loaded.tokenizer, conversations).to(self.device.name)
            if params.seed is not None:
                torch.manual_seed(params.seed)
            output = loaded.model.generate(
                **inputs, **params.generate_kwargs(), pad_token_id=loaded.tokenizer.pad_token_id
            )
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        texts: list[str] = loaded.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return texts

    def stream(
        self, ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams
    ) -> Generator[str, None, None]:
        """Text pieces as they are generated. Closing the iterator stops the generation."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        loaded = self._get(ref)
        streamer = TextIteratorStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = _StopWhenClosed()
        failure: list[BaseException] = []

        def work() -> None:
            import torch

            try:
                with loaded.lock, self._activated(loaded, ref), torch.inference_mode():
                    conversation = with_system_prompt(messages, ref.system_prompt)
                    inputs = encode_prompts(loaded.tokenizer, [conversation]).to(self.device.name)
                    if params.seed is not None:
                        torch.manual_seed(params.seed)
                    loaded.model.generate(
                        **inputs,
                        **params.generate_kwargs(),
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([stop]),
                        pad_token_id=loaded.tokenizer.pad_token_id,
                    )
            except BaseException as exc:  # noqa: BLE001 - handed to the reader below
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, daemon=True, name=f"generate-{ref.name}")
        thread.start()
        try:
            yield from streamer
        finally:
            stop.closed.set()
            thread.join()
        if failure:
            raise failure[0]

    def tokenizer_for(self, ref: VariantRef) -> Any:
        return self._get(ref).tokenizer

    def _get(self, ref: VariantRef) -> _Loaded:
        with self._loading:
            loaded = self._loaded.get(ref.model_path)
            if loaded is None:
                model, tokenizer = load_model(ref.model_path, self.device)
                loaded = self._loaded[ref.model_path] = _Loaded(model, tokenizer)
        if ref.adapter_path and loaded.adapters.get(ref.name) != ref.adapter_path:
            with loaded.lock:
                self._load_adapter(loaded, ref)
        return loaded

    @staticmethod
    def _load_adapter(loaded: _Loaded, ref: VariantRef) -> None:
        from peft import PeftModel

        assert ref.adapter_path is not None  # _get loads adapters only for refs that have one
        if ref.name in loaded.adapters:
            loaded.model.delete_adapter(ref.name)
        if isinstance(loaded.model, PeftModel):
            loaded.model.load_adapter(ref.adapter_path, adapter_name=ref.name)
        else:
            loaded.model = PeftModel.from_pretrained(loaded.model, ref.adapter_path, adapter_name=ref.name)
        loaded.model.eval()
        loaded.adapters[ref.name] = ref.adapter_path

    @staticmethod
    @contextmanager
    def _activated(loaded: _Loaded, ref: VariantRef) -> Iterator[None]:
        """Caller holds loaded.lock: the active adapter is shared state of the model."""
        from peft import PeftModel

        if ref.adapter_path:
            loaded.model.set_adapter(ref.name)
            yield
        elif isinstance(loaded.model, PeftModel):
            with loaded.model.disable_adapter():
                yield
        else:
            yield
