"""Text content as users give it: a string or a list of chat messages (TRL's conversational form).
Validation, plain-text rendering and hashing live here so every entry point agrees."""

import hashlib
import json
from typing import Any

from webapp.errors import ApplicationError

ROLES = {"user", "assistant", "system"}
MAX_CHARS = 200_000


class InvalidContent(ApplicationError):
    pass


def validate_content(value: Any, field: str) -> str | list[dict]:
    """Return the content unchanged if it is usable, else raise with what to fix."""
    if isinstance(value, str):
        _check_text(value, field)
        return value
    if isinstance(value, list):
        if not value:
            raise InvalidContent(f"'{field}' is an empty message list")
        for i, message in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(message, dict):
                raise InvalidContent(f"'{where}' must be an object with 'role' and 'content'")
            role = message.get("role")
            if not isinstance(role, str) or role not in ROLES:  # a list or object here is not hashable
                raise InvalidContent(f"'{where}.role' must be one of {sorted(ROLES)}")
            if not isinstance(message.get("content"), str):
                raise InvalidContent(f"'{where}.content' must be a string")
            _check_text(message["content"], f"{where}.content")
        return value
    if value is None:
        raise InvalidContent(f"'{field}' is missing")
    raise InvalidContent(f"'{field}' must be a string or a list of chat messages, not {type(value).__name__}")


def _check_text(text: str, field: str) -> None:
    if not text.strip():
        raise InvalidContent(f"'{field}' is empty")
    if "\x00" in text:
        raise InvalidContent(f"'{field}' contains a NUL character (\\u0000), which cannot be stored")
    if len(text) > MAX_CHARS:
        raise InvalidContent(f"'{field}' is longer than {MAX_CHARS} characters")


def plain_text(content: str | list[dict]) -> str:
    """For display and search: the string itself, or the last user message of a conversation (the
    prompt proper), or the last message when there is no user turn."""
    if isinstance(content, str):
        return content
    users = [m["content"] for m in content if m.get("role") == "user"]
    return users[-1] if users else content[-1]["content"]


def as_messages(content: str | list[dict], role: str) -> list[dict]:
    """TRL's conversational form: a string becomes one message of `role`."""
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    return [{"role": m["role"], "content": m["content"]} for m in content]


def content_hash(*parts: Any) -> str:
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
