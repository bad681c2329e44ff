"""The one system-prompt rule, applied on both sides: the conversation a model trains on and the
conversation it is served are built here, so their prompt tokens are the same.

A variant has a system prompt (`VariantRef.system_prompt`), fixed when the variant is made:
- a conversation that starts with its own system message keeps it;
- otherwise the variant's system prompt is put first as a system message (an empty string gives an
  empty system message, which still stops the chat template from inserting its own default);
- `None` (variants registered before this rule) adds nothing, so the chat template's own default
  system prompt applies, as it did when they were trained.
"""

from typing import Any


def with_system_prompt(messages: list[dict[str, Any]], system_prompt: str | None) -> list[dict[str, Any]]:
    if system_prompt is None or (messages and messages[0].get("role") == "system"):
        return list(messages)
    return [{"role": "system", "content": system_prompt}, *messages]
