"""Text content as users give it: a string or a list of chat messages (TRL's conversational form).
Validation, plain-text rendering, hashing, the visible-text comparisons and the metadata limits live here
so every entry point agrees."""

import functools
import hashlib
import itertools
import json
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.safejson import MAX_DEPTH, depth_message, too_deep

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
            raise InvalidContent(_("'%(where)s' is an empty message list") % {"where": field})
        for i, message in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(message, dict):
                raise InvalidContent(_("'%(where)s' must be an object with 'role' and 'content'") % {"where": where})
            role = message.get("role")
            if not isinstance(role, str) or role not in ROLES:  # a list or object here is not hashable
                raise InvalidContent(
                    _("'%(where)s' must be one of %(choices)s") % {"where": f"{where}.role", "choices": sorted(ROLES)}
                )
            if not isinstance(message.get("content"), str):
                raise InvalidContent(_("'%(where)s' must be a string") % {"where": f"{where}.content"})
            _check_text(message["content"], f"{where}.content")
        return value
    if value is None:
        raise InvalidContent(_("'%(where)s' is missing") % {"where": field})
    raise InvalidContent(
        _("'%(where)s' must be a string or a list of chat messages, not %(type)s")
        % {"where": field, "type": type(value).__name__}
    )


def _check_text(text: str, field: str) -> None:
    if is_blank(text):
        raise InvalidContent(_("'%(where)s' is empty") % {"where": field})
    if "\x00" in text:
        raise InvalidContent(
            _("'%(where)s' contains a NUL character (\\u0000), which cannot be stored") % {"where": field}
        )
    if len(text) > MAX_CHARS:
        raise InvalidContent(_("'%(where)s' is longer than %(max)s characters") % {"where": field, "max": MAX_CHARS})


@functools.cache
def _invisible() -> re.Pattern[str]:
    """Unicode category Cf as a character class of ranges (about 20). Cf lives in
    planes 0-3 and 14 (tags); planes 4-13 are unassigned, 15-16 private use. Built on first use (0.1 s)."""
    ranges: list[list[int]] = []
    for c in itertools.chain(range(0x40000), range(0xE0000, 0xF0000)):
        if unicodedata.category(chr(c)) == "Cf":
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]")


def visible_form(text: str) -> str:
    """The text as a reader sees it, for the emptiness and equality checks only: NFC, without the
    invisible format characters (Unicode category Cf: zero-width space, word joiner, BOM, soft hyphen,
    bidi controls, ZWNJ and ZWJ too, ...). ZWNJ and ZWJ matter in Persian, Hindi and emoji, which is why
    this form is used only to compare: what is stored, hashed and exported stays exactly what came in.
    (So two answers that differ only by a ZWNJ count as the same answer for chosen ≠ rejected.)"""
    if text.isascii():  # no format characters, already NFC
        return text
    return _invisible().sub("", unicodedata.normalize("NFC", text))


def is_blank(text: str) -> bool:
    """Nothing a reader would see: only whitespace and invisible format characters (or nothing)."""
    stripped = text.strip()
    if stripped and unicodedata.category(stripped[0]) != "Cf":  # the usual case, decided at once
        return False
    return not visible_form(text).strip()


def same_content(a: Any, b: Any) -> bool:
    """Whether two contents read the same: equal visible forms, message by message (with equal roles)
    for conversations. A string and a message list are different contents."""
    if isinstance(a, str) and isinstance(b, str):
        return a == b or (not (a.isascii() and b.isascii()) and visible_form(a) == visible_form(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            x.get("role") == y.get("role") and same_content(x.get("content"), y.get("content"))
            for x, y in zip(a, b, strict=True)
        )
    return bool(a == b)


def validate_metadata(value: Any, what: str = "'metadata'") -> dict:
    """Return the metadata unchanged if it can be stored: an object without NUL characters, nested at most
    MAX_DEPTH levels, at most IMPORT_METADATA_MAX_BYTES bytes as UTF-8 JSON. `what` names it in the errors."""
    if not isinstance(value, dict):
        raise InvalidContent(_("%(what)s must be an object") % {"what": what})
    if not value:
        return value
    limit = settings.IMPORT_METADATA_MAX_BYTES
    try:
        serialised = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    except RecursionError:  # only from Python callers: parsed JSON had its depth checked before parsing
        raise InvalidContent(f"{what}: {depth_message()}") from None
    if too_deep(serialised, MAX_DEPTH):
        raise InvalidContent(f"{what}: {depth_message()}")
    if len(serialised) > limit:
        raise InvalidContent(
            _("%(what)s is %(size)s bytes as JSON, over the limit of %(limit)s bytes (IMPORT_METADATA_MAX_BYTES)")
            % {"what": what, "size": len(serialised), "limit": limit}
        )
    if b"\\u0000" in serialised:
        raise InvalidContent(_("%(what)s contains a NUL character (\\u0000), which cannot be stored") % {"what": what})
    return value


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


# One encoder for every hash: json.dumps with options builds a new encoder on each call.
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def content_hash(*parts: Any) -> str:
    canonical = _canonical(parts)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hash_encoded(value: Any, encoded: str) -> str:
    """`content_hash(value)` given `encoded`, the value as JSON with ensure_ascii=False (how it is stored): for a
    string the canonical form is that JSON in brackets (sorting keys and separators change nothing in a string),
    so it is not encoded a second time; other values are hashed as usual."""
    if isinstance(value, str):
        return hashlib.sha256(f"[{encoded}]".encode()).hexdigest()
    return content_hash(value)
