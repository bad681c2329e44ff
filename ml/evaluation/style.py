"""What an answer looks like, apart from what it says: the style features that style control holds fixed
when rating models (LMArena's method; FastChat's `count_markdown_elements` counts the same elements).

`answer_style(text, language, ids)` measures one answer:

* `tokens`: its length, `len(ids)`: token ids of the base model's tokenizer when one is installed, else
  whitespace-separated words (the caller says which; `whitespace_ids` gives such "ids");
* `headers`: Markdown ATX headers, lines starting with 1 to 6 `#` and a space;
* `lists`: list items, lines starting with `-`, `*` or `+` and a space, or with a number and `.` or `)`;
* `bold`: bold spans, `**text**` or `__text__` on one line;
* `in_language`: `ml.evaluation.language.in_language(text, language)`: True, False, or None when the
  language cannot be measured;
* `degenerate`: `ml.evaluation.repetition.degenerate_ids(ids, truncated=...)` (a repeated 4-gram covering more
  than 30%, or, when the answer stopped at the token limit, ending inside a repeat).

Lines inside fenced code blocks (```) are not counted: a comment or a `*` in code is no Markdown."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ml.evaluation.language import in_language
from ml.evaluation.repetition import degenerate_ids, truncated

HEADER = re.compile(r"^ {0,3}#{1,6}[ \t]+\S")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?(?<=\S)\*\*|__(?=\S)[^_\n]+?(?<=\S)__")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class AnswerStyle:
    tokens: int
    headers: int
    lists: int
    bold: int
    in_language: bool | None
    degenerate: bool


def prose_lines(text: str) -> list[str]:
    """The lines of `text` outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def markdown_counts(text: str) -> tuple[int, int, int]:
    """(headers, list items, bold spans)."""
    lines = prose_lines(text)
    headers = sum(bool(HEADER.match(line)) for line in lines)
    items = sum(bool(LIST_ITEM.match(line)) and not HEADER.match(line) for line in lines)
    bold = sum(len(BOLD.findall(line)) for line in lines)
    return headers, items, bold


def whitespace_ids(text: str) -> list[int]:
    """Stand-in token ids when no tokenizer is installed: one per whitespace-separated word, the same id
    for the same word (so repetition is still counted over 4-grams of words)."""
    seen: dict[str, int] = {}
    return [seen.setdefault(word, len(seen)) for word in text.split()]


def answer_style(text: str, language: str, ids: Sequence[int], *, max_new_tokens: int | None = None) -> AnswerStyle:
    """`max_new_tokens`: the generation's token limit, when `ids` are the generating tokenizer's."""
    headers, items, bold = markdown_counts(text)
    return AnswerStyle(
        tokens=len(ids),
        headers=headers,
        lists=items,
        bold=bold,
        in_language=in_language(text, language),
        degenerate=degenerate_ids(ids, truncated=truncated(ids, max_new_tokens)),
    )
