"""Pairwise LLM-as-judge, Django-free: a judging prompt per language, each pair of answers asked in both
orders, the answer parsed, and a ranking built from the pairs decided.

* `judging_prompt`: the conversation that asks which of two answers is better, in the task's language
  (English, German, Spanish, Arabic, Simplified Chinese; any other language gets the English prompt,
  which names the language). The letters are always A and B.
* `parse_choice`: "A", "B" or None from a model's answer: the first `[[A]]`/`[[B]]`, else the first A or
  B standing alone (not inside a Latin word: "Answer: B" is B; "回答A" is A), else a lone Arabic أ / ب.
* `pair_outcome`: a pair is decided only when both orders agree (A/B, then B/A); otherwise it is a tie.
* `copeland_ranking`: responses by pairwise wins minus losses, equal scores tied (best first).
* `rank_pairwise`: all of it, over a `generate` callable (a list of conversations in, their answers out).
"""

import re
import unicodedata
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

Conversation = list[dict[str, Any]]
Generate = Callable[[list[Conversation]], list[str]]

_EN = (
    "Which answer to the question is better: more helpful, more correct, and in the language of the question?\n\n"
    "Question:\n{question}\n\nAnswer A:\n{a}\n\nAnswer B:\n{b}\n\nReply with one letter only: A or B."
)
PROMPTS: dict[str, str] = {
    "en": _EN,
    "de": (
        "Welche Antwort auf die Frage ist besser: hilfreicher, richtiger und in der Sprache der Frage?\n\n"
        "Frage:\n{question}\n\nAntwort A:\n{a}\n\nAntwort B:\n{b}\n\n"
        "Antworte nur mit einem Buchstaben: A oder B."
    ),
    "es": (
        "¿Qué respuesta a la pregunta es mejor: más útil, más correcta y en el idioma de la pregunta?\n\n"
        "Pregunta:\n{question}\n\nRespuesta A:\n{a}\n\nRespuesta B:\n{b}\n\n"
        "Responde con una sola letra: A o B."
    ),
    "ar": (
        "أي الإجابتين عن السؤال أفضل: الأكثر فائدة والأصح والمكتوبة بلغة السؤال؟\n\n"
        "السؤال:\n{question}\n\nالإجابة A:\n{a}\n\nالإجابة B:\n{b}\n\n"
        "أجب بحرف واحد فقط: A أو B."
    ),
    "zh-Hans": (
        "哪个回答更好：更有帮助、更正确，并且使用问题的语言？\n\n"
        "问题：\n{question}\n\n回答 A：\n{a}\n\n回答 B：\n{b}\n\n"
        "只用一个字母回答：A 或 B。"
    ),
}
# Prepended to the English prompt for a language without its own.
FALLBACK_NOTE = "The question and the answers are in {name} ({code}).\n\n"


def prompt_language(code: str) -> str | None:
    """The PROMPTS key for a BCP-47 tag: the tag itself, or its language with no script or a region
    (de-AT -> de, es-419 -> es); None when there is no prompt of its own (zh-Hant, fr, ...)."""
    lowered = {key.lower(): key for key in PROMPTS}
    if code.lower() in lowered:
        return lowered[code.lower()]
    parts = code.split("-")
    has_script = len(parts) > 1 and len(parts[1]) == 4
    primary = parts[0].lower()
    return lowered.get(primary) if primary in lowered and primary != "zh" and not has_script else None


MAX_CHARS = 1500  # per question and per answer in a judging prompt: two answers and the question fit 2k tokens
CUT_MARK = " […]"


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """`text` cut to at most `limit` characters (at a space when one is near the end), marked as cut, so
    a long or runaway answer cannot push the question or the other answer out of the model's context."""
    if len(text) <= limit:
        return text
    head = text[: max(1, limit - len(CUT_MARK))]
    space = head.rfind(" ")
    if space >= 0.8 * len(head):
        head = head[:space]
    return head.rstrip() + CUT_MARK


def judging_prompt(
    *, question: str, first: str, second: str, language: str, language_name: str = "", max_chars: int = MAX_CHARS
) -> Conversation:
    """The one user message asking whether `first` (A) or `second` (B) answers `question` better; each
    text clipped to `max_chars`."""
    key = prompt_language(language)
    if key is None:
        template = FALLBACK_NOTE.format(name=language_name or language, code=language) + _EN
    else:
        template = PROMPTS[key]
    content = template.format(question=clip(question, max_chars), a=clip(first, max_chars), b=clip(second, max_chars))
    return [{"role": "user", "content": content}]


_BRACKETED = re.compile(r"\[\[\s*([AB])\s*\]\]")
_LATIN_LETTER = re.compile(r"(?<![A-Za-z])([AB])(?![A-Za-z])")
_ARABIC_LETTER = re.compile(r"(?<!\w)([أب])(?!\w)")


def parse_choice(text: str) -> str | None:
    """'A', 'B' or None (see the module docstring). Full-width letters (Ａ, Ｂ) count as A and B."""
    text = unicodedata.normalize("NFKC", text or "")
    bracketed = _BRACKETED.search(text)
    if bracketed:
        return bracketed.group(1)
    latin = _LATIN_LETTER.search(text)
    if latin:
        return latin.group(1)
    arabic = _ARABIC_LETTER.search(text)
    if arabic:
        return "A" if arabic.group(1) == "أ" else "B"
    return None


def pair_outcome(forward: str | None, backward: str | None) -> int:
    """For responses i < j asked as (A=i, B=j) and then (A=j, B=i): 1 when both orders prefer i, -1 when
    both prefer j, 0 (a tie) otherwise: the orders disagree, or an answer could not be read."""
    if forward == "A" and backward == "B":
        return 1
    if forward == "B" and backward == "A":
        return -1
    return 0


def copeland_ranking(n: int, outcomes: dict[tuple[int, int], int]) -> list[list[int]]:
    """Best first: each response's decided wins minus losses; equal scores share a rank (in stored
    order). Undecided pairs (0) count for neither."""
    score = [0] * n
    for (i, j), outcome in outcomes.items():
        score[i] += outcome
        score[j] -= outcome
    ranking: list[list[int]] = []
    for value in sorted(set(score), reverse=True):
        ranking.append([i for i in range(n) if score[i] == value])
    return ranking


def rank_pairwise(
    generate: Generate,
    *,
    question: str,
    answers: Sequence[str],
    language: str,
    language_name: str = "",
    batch_size: int = 16,
    max_chars: int = MAX_CHARS,
) -> tuple[list[list[int]], dict[tuple[int, int], int]]:
    """(ranking, outcome per pair i < j): every pair asked in both orders, `batch_size` conversations
    per `generate` call."""
    pairs = list(combinations(range(len(answers)), 2))
    conversations = []
    for i, j in pairs:
        for a, b in ((i, j), (j, i)):
            conversations.append(
                judging_prompt(
                    question=question,
                    first=answers[a],
                    second=answers[b],
                    language=language,
                    language_name=language_name,
                    max_chars=max_chars,
                )
            )
    replies: list[str] = []
    for start in range(0, len(conversations), max(1, batch_size)):
        chunk = conversations[start : start + max(1, batch_size)]
        answered = generate(chunk)
        if len(answered) != len(chunk):
            raise ValueError(f"the model answered {len(answered)} of {len(chunk)} judging prompts")
        replies.extend(answered)
    outcomes = {
        pair: pair_outcome(parse_choice(replies[2 * k]), parse_choice(replies[2 * k + 1]))
        for k, pair in enumerate(pairs)
    }
    return copeland_ranking(len(answers), outcomes), outcomes
