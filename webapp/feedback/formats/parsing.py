"""Parsing and validation of the JSON Lines interchange formats (docs/formats.md, "Data formats").

`parse_line` turns one line of bytes into a `PairLine` or a `RankingLine`, or raises `LineError`
with a message that says what to fix. Nothing here touches the database."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

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
    origin: str = ""  # the rankings' origin; "" for the rankings format
    content_hash: str = ""


def parse_line(raw: bytes, line_no: int) -> PairLine | RankingLine | None:
    """A line of the store's own formats, recognised by its keys; None for a blank line."""
    obj = load_object(raw)
    return None if obj is None else parse_object(obj, line_no)


def load_object(raw: bytes) -> dict | None:
    """One line's JSON object; None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(_("not valid UTF-8 (byte %(byte)s)") % {"byte": exc.start}) from None
    if not text.strip():
        return None
    if too_deep(raw):  # before json.loads, which recurses
        raise LineError(depth_message())
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(
            _("bad JSON: %(problem)s at column %(column)s") % {"problem": exc.msg, "column": exc.colno}
        ) from None
    if not isinstance(obj, dict):
        raise LineError(_("each line must be a JSON object, not %(type)s") % {"type": type(obj).__name__})
    return obj


def parse_object(obj: dict, line_no: int) -> PairLine | RankingLine:
    """An object of the store's own formats (pairs, rankings), recognised by its keys."""
    for _name, fmt in import_formats.items():
        if fmt.detect is not None and fmt.parse is not None and fmt.detect(obj):
            return fmt.parse(obj, line_no)
    descriptions = [_(fmt.description) for _name, fmt in import_formats.items() if fmt.detect is not None]
    if len(descriptions) == 2:
        raise LineError(_("neither %(first)s nor %(second)s") % {"first": descriptions[0], "second": descriptions[1]})
    raise LineError(_("none of: %(formats)s") % {"formats": "; ".join(descriptions)})


def pair_record(obj: dict, line_no: int) -> PairLine:
    """A pair of the pairs format (the other formats build such an object and check it here too)."""
    prompt = validate_content(obj.get("prompt"), "prompt")
    chosen = validate_content(obj.get("chosen"), "chosen")
    rejected = validate_content(obj.get("rejected"), "rejected")
    if same_content(chosen, rejected):
        raise LineError(_("'chosen' and 'rejected' are the same text (invisible characters aside)"))
    language = canonical_tag(_required_str(obj, "language"))
    agreement = obj.get("agreement")
    if agreement is not None and (
        isinstance(agreement, bool) or not isinstance(agreement, int | float) or not 0 <= agreement <= 1
    ):
        raise LineError(_("'agreement' must be a number between 0 and 1"))
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


def ranking_record(obj: dict, line_no: int, origin: str = "") -> RankingLine:
    """A ranking task of the rankings format (the other formats build such an object and check it here
    too); `origin` names the format its rankings come from (default: rankings)."""
    task_id = _optional_id(obj, "id")
    if not task_id:
        raise LineError(_("a ranking task needs an 'id'"))
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
        origin=origin,
        # The campaign counts as named even when it was left to the default, so an exported file
        # (which names it) re-imports as the same content.
        content_hash=content_hash(
            prompt, language, responses, rankings, obj.get("group") or "", obj.get("campaign") or DEFAULT_CAMPAIGN
        ),
    )


def _responses(value: Any) -> list[dict]:
    if not isinstance(value, list) or not MIN_RESPONSES <= len(value) <= MAX_RESPONSES:
        raise LineError(
            _("'responses' must be a list of %(min)s to %(max)s objects") % {"min": MIN_RESPONSES, "max": MAX_RESPONSES}
        )
    out, seen = [], set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise LineError(_("'%(where)s' must be an object with 'text'") % {"where": f"responses[{i}]"})
        text = item.get("text")
        if not isinstance(text, str):
            raise LineError(_("'%(where)s' must be a string") % {"where": f"responses[{i}].text"})
        validate_content(text, f"responses[{i}].text")
        visible = visible_form(text)
        if visible in seen:
            raise LineError(_("'%(where)s' repeats an earlier response") % {"where": f"responses[{i}].text"})
        seen.add(visible)
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
            raise LineError(_("give either 'ranking' (shorthand) or 'rankings', not both"))
        rankings = [{"annotator": "import", "ranking": obj["ranking"]}]
    if rankings is None:
        return []
    if not isinstance(rankings, list):
        raise LineError(_("'rankings' must be a list of {annotator, ranking} objects"))
    out, annotators = [], set()
    for i, item in enumerate(rankings):
        where = f"rankings[{i}]"
        if not isinstance(item, dict):
            raise LineError(_("'%(where)s' must be an object with 'annotator' and 'ranking'") % {"where": where})
        annotator = item.get("annotator")
        if not isinstance(annotator, str) or is_blank(annotator) or len(annotator) > 100:
            raise LineError(
                _("'%(where)s' must be a non-empty name of at most %(max)s characters")
                % {"where": f"{where}.annotator", "max": 100}
            )
        if visible_form(annotator) in annotators:
            raise LineError(
                _("'%(where)s' %(name)s ranks this task twice")
                % {"where": f"{where}.annotator", "name": repr(annotator)}
            )
        annotators.add(visible_form(annotator))
        flags = item.get("flags", [])
        if not isinstance(flags, list) or not set(flags) <= FLAGS:
            raise LineError(
                _("'%(where)s' must be a list drawn from %(choices)s")
                % {"where": f"{where}.flags", "choices": sorted(FLAGS)}
            )
        rationale = item.get("rationale", "")
        if not isinstance(rationale, str) or "\x00" in rationale:
            raise LineError(_("'%(where)s' must be a string without NUL characters") % {"where": f"{where}.rationale"})
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
        raise LineError(_("'%(where)s' must be a list of ranks such as [[0], [2, 1]]") % {"where": where})
    seen: list[int] = []
    for rank in value:
        if not isinstance(rank, list) or not rank:
            raise LineError(
                _("'%(where)s' must be a list of non-empty lists of response indexes, e.g. [[0], [2, 1]]")
                % {"where": where}
            )
        for index in rank:
            if isinstance(index, bool) or not isinstance(index, int):
                raise LineError(
                    _("'%(where)s' holds %(value)s; response indexes are integers")
                    % {"where": where, "value": repr(index)}
                )
            if not 0 <= index < n:
                raise LineError(
                    _("'%(where)s' holds index %(index)s, out of range for %(count)s responses (0..%(last)s)")
                    % {"where": where, "index": index, "count": n, "last": n - 1}
                )
        seen.extend(rank)
    missing = sorted(set(range(n)) - set(seen))
    if missing:
        raise LineError(
            _("'%(where)s' is incomplete: response(s) %(missing)s are not ranked")
            % {"where": where, "missing": missing}
        )
    if len(seen) != len(set(seen)):
        repeated = sorted({i for i in seen if seen.count(i) > 1})
        raise LineError(
            _("'%(where)s' ranks response(s) %(repeated)s more than once") % {"where": where, "repeated": repeated}
        )
    return [list(rank) for rank in value]


def _required_str(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or is_blank(value):
        raise LineError(_("'%(where)s' is missing or not a string") % {"where": key})
    return value


def _optional_str(obj: dict, key: str, where: str | None = None) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_ID:
        raise LineError(
            _("'%(where)s' must be a string of at most %(max)s characters without NUL")
            % {"where": where or key, "max": MAX_ID}
        )
    return value


def _optional_id(obj: dict, key: str, where: str | None = None) -> str:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        raise LineError(
            _("'%(where)s' must be a string (write \"%(value)s\")") % {"where": where or key, "value": value}
        )
    return _optional_str(obj, key, where)


def _metadata(obj: dict, known: set[str]) -> dict:
    """Unknown keys are kept, folded into metadata (explicit metadata wins on a clash); together they are
    held to IMPORT_METADATA_MAX_BYTES."""
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, dict):
        raise LineError(_("'metadata' must be an object"))
    extra = {k: v for k, v in obj.items() if k not in known}
    merged = {**extra, **metadata}
    # Lazy: worded only when it names an error (a gettext per line costs more than the check).
    return validate_metadata(merged, gettext_lazy("'metadata' (with the unknown keys kept in it)"))


import_formats.register(
    "pairs",
    ImportFormat(
        name="pairs",
        description=gettext_noop("a pair (prompt, chosen, rejected)"),
        detect=lambda obj: "responses" not in obj and ("chosen" in obj or "rejected" in obj),
        parse=pair_record,
    ),
)
import_formats.register(
    "rankings",
    ImportFormat(
        name="rankings",
        description=gettext_noop("a ranking task (responses)"),
        detect=lambda obj: "responses" in obj,
        parse=ranking_record,
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
