"""The scale-out inference backend: any OpenAI-compatible chat server (e.g. vLLM serving the base model
with LoRA adapters, each adapter under its variant name), behind the same interface as LocalBackend."""

import json
from collections.abc import Generator
from typing import Any

import httpx

from ml.llm.chat import with_system_prompt
from ml.llm.params import GenerationParams, VariantRef


class RemoteError(RuntimeError):
    pass


class OpenAICompatibleBackend:
    def __init__(self, base_url: str, api_key: str = "", timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def _body(
        self, ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams, stream: bool
    ) -> dict[str, Any]:
        body = {
            "model": ref.name,
            "messages": with_system_prompt(messages, ref.system_prompt),
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": stream,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def generate(self, ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams) -> str:
        reply = self.client.post("/v1/chat/completions", json=self._body(ref, messages, params, False))
        self._check(reply)
        content: str = reply.json()["choices"][0]["message"]["content"]
        return content

    def generate_batch(
        self, ref: VariantRef, conversations: list[list[dict[str, Any]]], params: GenerationParams
    ) -> list[str]:
        return [self.generate(ref, messages, params) for messages in conversations]

    def stream(
        self, ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams
    ) -> Generator[str, None, None]:
        body = self._body(ref, messages, params, True)
        with self.client.stream("POST", "/v1/chat/completions", json=body) as reply:
            if reply.status_code >= 400:
                reply.read()
                self._check(reply)
            for line in reply.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta

    @staticmethod
    def _check(reply: httpx.Response) -> None:
        if reply.status_code >= 400:
            raise RemoteError(f"{reply.request.url} answered {reply.status_code}: {reply.text[:500]}")
