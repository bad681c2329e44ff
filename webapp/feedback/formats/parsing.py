"""Parsing and validation of the JSON Lines interchange formats (docs/formats.md, "Data formats").

`parse_line` turns one line of bytes into a `PairLine` or a `RankingLine`, or raises `LineError`
with a message that says what to fix. Nothing here touches the database."""

import json
from dataclasses import dataclass, field
from typing import Any

from webapp.errors import ApplicationError
from webapp.feedback.content import (
    content_hash,
    is_blank,
    same_content,
    validate_content,
    validate_metadata,
    visible_form,
)
from webapp.feedback.extensions import TaskKind, task_kinds
from webapp.feedback.formats.registry import ImportFormat, import_formats
from webapp.feedback.models import MAX_RESPONSES, MIN_RESPONSES, Flag
from webapp.feedback.services.languages import canonical_tag
from webapp.safejson import depth_message, too_deep

PAIR_KEYS = {"prompt", "chosen", "rejected", "language", "id", "group", "source", "prompt_id", "agreement", "metadata"}
RANKING_KEYS = {"id", "prompt", "language", "group", "campaign", "responses", "rankings", "ranking", "metadata"}
FLAGS = {f.value for f in Flag}
MAX_ID = 200
DEFAULT_CAMPAIGN = "Imported"  # where ranking tasks without a campaign go


class LineError(ApplicationError):
    pass


@dataclass
class PairLine:
    line_no: int
    id: str
    prompt: Any
    chosen: Any
    rejected: Any
    language: str
    group: str = ""
    source: str = ""
    prompt_id: str = ""
    agreement: float | None = None
    metadata: dict = field(default_factory=dict)
    content_hash: str = ""


@dataclass
class RankingLine:
    line_no: int
    id: str
    prompt: Any
    language: str
    responses: list[dict]
    rankings: list[dict]
    group: str = ""
    campaign: str = ""
    metadata: dict = field(default_factory=dict)
    content_hash: str = ""


def parse_line(raw: bytes, line_no: int) -> PairLine | RankingLine | None:
    """None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(f"not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        return None
    if too_deep(raw):  # before json.loads, which recurses
        raise LineError(depth_message())
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"bad JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise LineError(f"each line must be a JSON object, not {type(obj).__name__}")
    for _name, fmt in import_formats.items():
        if fmt.detect(obj):
            return fmt.parse(obj, line_no)
    raise LineError("neither " + " nor ".join(fmt.description for _name, fmt in import_formats.items()))


def _pair(obj: dict, line_no: int) -> PairLine:
    prompt = validate_content(obj.get("prompt"), "prompt")
    chosen = validate_content(obj.get("chosen"), "chosen")
    rejected = validate_content(obj.get("rejected"), "rejected")
    if same_content(chosen, rejected):
        raise LineError("'chosen' and 'rejected' are the same text (invisible characters aside)")
    language = canonical_tag(_required_str(obj, "language"))
    agreement = obj.get("agreement")
    if agreement is not None and (
        isinstance(agreement, bool) or not isinstance(agreement, int | float) or not 0 <= agreement <= 1
    ):
        raise LineError("'agreement' must be a number between 0 and 1")
    digest = content_hash(prompt, chosen, rejected, language)
    return PairLine(
        line_no=line_no,
        id=_optional_id(obj, "id") or digest,
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        language=language,
        group=_optional_str(obj, "group"),
        source=_optional_str(obj, "source"),
        prompt_id=_optional_id(obj, "prompt_id"),
        agreement=agreement,
        metadata=_metadata(obj, PAIR_KEYS),
        content_hash=digest,
    )


def _ranking(obj: dict, line_no: int) -> RankingLine:
    task_id = _optional_id(obj, "id")
    if not task_id:
        raise LineError("a ranking task needs an 'id'")
    prompt = validate_content(obj.get("prompt"), "prompt")
    language = canonical_tag(_required_str(obj, "language"))
    responses = _responses(obj.get("responses"))
    rankings = _rankings(obj, len(responses))
    return RankingLine(
        line_no=line_no,
        id=task_id,
        prompt=prompt,
        language=language,
        responses=responses,
        rankings=rankings,
        group=_optional_str(obj, "group"),
        campaign=_optional_str(obj, "campaign"),
        metadata=_metadata(obj, RANKING_KEYS),
        # The campaign counts as named even when it was left to the default, so an exported file
        # (which names it) re-imports as the same content.
        content_hash=content_hash(
            prompt, language, responses, rankings, obj.get("group") or "", obj.get("campaign") or DEFAULT_CAMPAIGN
        ),
    )


def _responses(value: Any) -> list[dict]:
    if not isinstance(value, list) or not MIN_RESPONSES <= len(value) <= MAX_RESPONSES:
        raise LineError(f"'responses' must be a list of {MIN_RESPONSES} to {MAX_RESPONSES} objects")
    out, seen = [], set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise LineError(f"'responses[{i}]' must be an object with 'text'")
        text = item.get("text")
        if not isinstance(text, str):
            raise LineError(f"'responses[{i}].text' must be a string")
        validate_content(text, f"responses[{i}].text")
        if visible_form(text) in seen:
            raise LineError(f"'responses[{i}].text' repeats an earlier response")
        seen.add(visible_form(text))
        out.append(
            {
                "text": text,
                "model": _optional_str(item, "model", f"responses[{i}].model"),
                "id": _optional_id(item, "id", f"responses[{i}].id"),
            }
        )
    return out


def _rankings(obj: dict, n: int) -> list[dict]:
    rankings = obj.get("rankings")
    if "ranking" in obj:
        if rankings is not None:
            raise LineError("give either 'ranking' (shorthand) or 'rankings', not both")
        rankings = [{"annotator": "import", "ranking": obj["ranking"]}]
    if rankings is None:
        return []
    if not isinstance(rankings, list):
        raise LineError("'rankings' must be a list of {annotator, ranking} objects")
    out, annotators = [], set()
    for i, item in enumerate(rankings):
        where = f"rankings[{i}]"
        if not isinstance(item, dict):
            raise LineError(f"'{where}' must be an object with 'annotator' and 'ranking'")
        annotator = item.get("annotator")
        if not isinstance(annotator, str) or is_blank(annotator) or len(annotator) > 100:
            raise LineError(f"'{where}.annotator' must be a non-empty name of at most 100 characters")
        if visible_form(annotator) in annotators:
            raise LineError(f"'{where}.annotator' {annotator!r} ranks this task twice")
        annotators.add(visible_form(annotator))
        flags = item.get("flags", [])
        if not isinstance(flags, list) or not set(flags) <= FLAGS:
            raise LineError(f"'{where}.flags' must be a list drawn from {sorted(FLAGS)}")
        rationale = item.get("rationale", "")
        if not isinstance(rationale, str) or "\x00" in rationale:
            raise LineError(f"'{where}.rationale' must be a string without NUL characters")
        out.append(
            {
                "annotator": annotator,
                "ranking": check_ranking(item.get("ranking"), n, where),
                "flags": sorted(set(flags)),
                "rationale": rationale,
            }
        )
    return out


def check_ranking(value: Any, n: int, where: str = "ranking") -> list[list[int]]:
    """A complete ranking: a list of ranks, best first, each a non-empty list of response indexes;
    every index 0..n-1 appears exactly once (several in one rank are a tie)."""
    if not isinstance(value, list) or not value:
        raise LineError(f"'{where}' must be a list of ranks such as [[0], [2, 1]]")
    seen: list[int] = []
    for rank in value:
        if not isinstance(rank, list) or not rank:
            raise LineError(f"'{where}' must be a list of non-empty lists of response indexes, e.g. [[0], [2, 1]]")
        for index in rank:
            if isinstance(index, bool) or not isinstance(index, int):
                raise LineError(f"'{where}' holds {index!r}; response indexes are integers")
            if not 0 <= index < n:
                raise LineError(f"'{where}' holds index {index}, out of range for {n} responses (0..{n - 1})")
        seen.extend(rank)
    missing = sorted(set(range(n)) - set(seen))
    if missing:
        raise LineError(f"'{where}' is incomplete: response(s) {missing} are not ranked")
    if len(seen) != len(set(seen)):
        repeated = sorted({i for i in seen if seen.count(i) > 1})
        raise LineError(f"'{where}' ranks response(s) {repeated} more than once")
    return [list(rank) for rank in value]


def _required_str(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or is_blank(value):
        raise LineError(f"'{key}' is missing or not a string")
    return value


def _optional_str(obj: dict, key: str, where: str | None = None) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_ID:
        raise LineError(f"'{where or key}' must be a string of at most {MAX_ID} characters without NUL")
    return value


def _optional_id(obj: dict, key: str, where: str | None = None) -> str:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        raise LineError(f"'{where or key}' must be a string (write \"{value}\")")
    return _optional_str(obj, key, where)


def _metadata(obj: dict, known: set[str]) -> dict:
    """Unknown keys are kept, folded into metadata (explicit metadata wins on a clash); together they are
    held to IMPORT_METADATA_MAX_BYTES."""
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, dict):
        raise LineError("'metadata' must be an object")
    extra = {k: v for k, v in obj.items() if k not in known}
    merged = {**extra, **metadata}
    return validate_metadata(merged, "'metadata' (with the unknown keys kept in it)")


import_formats.register(
    "pairs",
    ImportFormat(
        name="pairs",
        description="a pair (prompt, chosen, rejected)",
        detect=lambda obj: "responses" not in obj and ("chosen" in obj or "rejected" in obj),
        parse=_pair,
    ),
)
import_formats.register(
    "rankings",
    ImportFormat(
        name="rankings", description="a ranking task (responses)", detect=lambda obj: "responses" in obj, parse=_ranking
    ),
)


task_kinds.register(
    "ranking",
    TaskKind(
        name="ranking",
        description="Rank the responses best first; ties allowed",
        check_submission=lambda ranking, n: check_ranking(ranking, n),
    ),
)
