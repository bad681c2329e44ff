"""`--format ultrafeedback`: UltraFeedback records (openbmb/UltraFeedback), read as published:

    {"source": str, "instruction": str, "models": [str],
     "completions": [{"model": str, "response": str, "overall_score": number,
                      "fine-grained_score": number, "annotations": {...}, "critique": str, ...}, ...]}

One record becomes one ranking task: the instruction as its prompt, the usable completions (a
non-empty `response` and a numeric `overall_score`) as its responses, and one imported ranking by
`ultrafeedback` ordered by `overall_score`, highest first, equal scores tied in one rank. A completion
whose text repeats an earlier one is left out. A record with fewer than two usable completions is
skipped. The data has no language field: `--language` gives it (default `en`). The task's id is a hash
of the instruction and the responses, so the same record imports once.

UltraFeedback's scores were given by GPT-4, not by people; the rankings are stored with source `import`
and origin `ultrafeedback`, so a selection can leave them out by origin."""

import math
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from webapp.feedback.content import content_hash, is_blank, visible_form
from webapp.feedback.formats.parsing import LineError, RankingLine, ranking_record
from webapp.feedback.formats.registry import ImportFormat, ImportOptions, Skip, import_formats
from webapp.feedback.models import MAX_RESPONSES

NAME = "ultrafeedback"
TOO_FEW = gettext_noop("fewer than two completions with a response and an overall_score")
TOO_MANY = gettext_noop("more usable completions than a task holds")


def ultrafeedback_records(obj: dict[str, Any], number: int, options: ImportOptions) -> Iterator[RankingLine | Skip]:
    instruction = obj.get("instruction")
    if not isinstance(instruction, str):
        raise LineError(_("'%(where)s' is missing or not a string") % {"where": "instruction"})
    completions = obj.get("completions")
    if not isinstance(completions, list):
        raise LineError(_("'%(where)s' must be a list of completions") % {"where": "completions"})
    usable = _usable(completions)
    if len(usable) < 2:
        yield Skip(TOO_FEW)
        return
    if len(usable) > MAX_RESPONSES:
        yield Skip(TOO_MANY)
        return
    scores = sorted({score for _text, _model, score in usable}, reverse=True)
    task = {
        "id": f"{NAME}:{content_hash(instruction, [text for text, _model, _score in usable])[:32]}",
        "prompt": instruction,
        "language": options.language,
        "campaign": NAME,
        "responses": [{"text": text, "model": model} for text, model, _score in usable],
        "rankings": [
            {
                "annotator": NAME,
                "ranking": [[i for i, (_t, _m, score) in enumerate(usable) if score == value] for value in scores],
            }
        ],
        "metadata": {"source": obj["source"]} if isinstance(obj.get("source"), str) else {},
    }
    yield ranking_record(task, number, origin=NAME)


def _usable(completions: list) -> list[tuple[str, str | None, float]]:
    """(response, model, overall_score) of the completions that can be ranked, first of each text."""
    usable, seen = [], set()
    for i, completion in enumerate(completions):
        if not isinstance(completion, dict):
            raise LineError(_("'%(where)s' must be an object") % {"where": f"completions[{i}]"})
        text, score, model = completion.get("response"), completion.get("overall_score"), completion.get("model")
        if not isinstance(text, str) or is_blank(text) or not _number(score):
            continue
        if model is not None and not isinstance(model, str):
            raise LineError(_("'%(where)s' must be a string") % {"where": f"completions[{i}].model"})
        visible = visible_form(text)
        if visible in seen:
            continue
        seen.add(visible)
        usable.append((text, model or None, float(score)))
    return usable


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


import_formats.register(
    NAME,
    ImportFormat(
        name=NAME,
        description=gettext_noop("an UltraFeedback record (instruction, completions with overall_score)"),
        convert=ultrafeedback_records,
    ),
)
