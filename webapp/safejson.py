"""JSON from outside (import lines, API bodies): its nesting depth is checked before it is parsed.

Python's `json` parses recursively: a line of 5,000 `[` ends in a `RecursionError`, and data nested a few
hundred levels deep parses but breaks every later `json.dumps`. `too_deep` measures the depth from the brackets
outside strings without recursion; a text with fewer brackets than the limit is let through unscanned."""

import array
import codecs
import io
import itertools
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64  # arrays and objects inside each other; a pair with chat messages needs 3

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # a JSON string, escapes included
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and, as a signed byte, -1


def too_deep(raw: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` levels deep anywhere in this JSON text. Strings are
    dropped (their brackets do not count), the brackets left become +1/-1 steps, and the deepest running
    sum is the depth: C-speed passes and one loop, about a second for 16 MB of brackets."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if raw.count(b"[") + raw.count(b"{") <= limit:  # cannot nest deeper than that: no scan
        return False
    steps = array.array("b", _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS).translate(_STEPS))
    return max(itertools.accumulate(steps), default=0) > limit


def depth_message(limit: int = MAX_DEPTH) -> str:
    return _("the JSON nests arrays and objects more than %(limit)s levels deep (the limit is %(limit)s)") % {
        "limit": limit
    }


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing a body nested deeper than MAX_DEPTH with a 400 before `json` recurses
    into it (the body itself is already bounded: DRF reads it through Django's `request.body`, which
    enforces DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read()
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:  # bytes.decode refuses codecs that are not text encodings (bz2_codec, ...) before decoding
            text = raw if codecs.lookup(encoding).name == "utf-8" else raw.decode(encoding, "replace")
        except LookupError:
            text = b""  # DRF's parser below refuses that charset with a 400
        if too_deep(text):
            raise ParseError(_("JSON parse error - %(problem)s") % {"problem": depth_message()})
        return super().parse(io.BytesIO(raw), media_type, parser_context)
