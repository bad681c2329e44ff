"""Has an answer degenerated into repetition, or does it echo its prompt? Both are counted over 4-grams
of token ids of the base model's tokenizer (the one that generated them), so a figure means the same for
every language whatever its script or spacing.

* **Degenerate**: some 4-gram occurs at least `MIN_REPEATS` (3) times and its occurrences cover more
  than `MAX_COVERAGE` (30%) of the answer's token positions (overlapping occurrences counted once),
  in an answer of at least `MIN_TOKENS` (16) tokens; **or** generation stopped at the token limit
  inside such a repeat: the answer's final 4-gram is one that occurs at least 3 times (or the 4-gram
  just before it is, in case re-encoding the cut-off text changed the last token), whatever the
  answer's length or coverage: the model was looping when it was cut off.
  One 4-gram's coverage catches short loops (a unit of up to 13 tokens repeated covers more than 30%:
  4 positions per unit); a long sentence repeated over and over covers less, but such a loop runs until
  the limit, which the second condition catches.
* **Echo**: more than `ECHO_SHARE` (50%) of the answer's 4-grams (counted with repetition, one per
  position) occur in the prompt. An answer of fewer than 4 tokens has no 4-gram and never echoes.

`degenerate_ids` / `echo_ids` are the pure definitions over id lists; `degenerate` / `echo` take text
and a tokenizer (a Hugging Face tokenizer: `tokenizer(text, add_special_tokens=False)["input_ids"]`).
Generation interfaces return text, so whether an answer hit the limit is read from its length:
`truncated(ids, max_new_tokens)` (see there)."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

NGRAM = 4
MIN_REPEATS = 3
MAX_COVERAGE = 0.3
MIN_TOKENS = 16
ECHO_SHARE = 0.5


def ngrams(ids: Sequence[int], n: int = NGRAM) -> list[tuple[int, ...]]:
    return [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]


def _repeated_starts(ids: Sequence[int]) -> list[list[int]]:
    """For each 4-gram occurring at least MIN_REPEATS times, the positions where it starts."""
    starts: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, gram in enumerate(ngrams(ids)):
        starts[gram].append(i)
    return [s for s in starts.values() if len(s) >= MIN_REPEATS]


def _covered(starts: list[int]) -> set[int]:
    return {p for s in starts for p in range(s, s + NGRAM)}


def repeat_coverage(ids: Sequence[int]) -> float:
    """The largest share of positions that the occurrences of one repeated 4-gram cover (0 when none)."""
    if not ids:
        return 0.0
    return max((len(_covered(s)) / len(ids) for s in _repeated_starts(ids)), default=0.0)


def degenerate_ids(ids: Sequence[int], *, truncated: bool = False) -> bool:
    """`truncated`: generation stopped at its token limit (the answer was cut off)."""
    repeats = _repeated_starts(ids)
    if len(ids) >= MIN_TOKENS and any(len(_covered(s)) / len(ids) > MAX_COVERAGE for s in repeats):
        return True
    if truncated:
        last = len(ids) - NGRAM  # where the final 4-gram starts; the one before it is accepted too
        return any(last in s or last - 1 in s for s in repeats)
    return False


def echo_ids(answer: Sequence[int], prompt: Sequence[int]) -> bool:
    grams = ngrams(answer)
    if not grams:
        return False
    in_prompt = set(ngrams(prompt))
    return sum(g in in_prompt for g in grams) / len(grams) > ECHO_SHARE


def token_ids(text: str, tokenizer: Any) -> list[int]:
    ids: list[int] = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    return ids


def truncated(ids: Sequence[int], max_new_tokens: int | None) -> bool:
    """Whether an answer whose text re-encodes to `ids` stopped at `max_new_tokens`. A natural stop ends
    with the end-of-turn token, which decoding drops, so the answer holds at most max_new_tokens - 1
    tokens; one cut off holds max_new_tokens. Re-encoding the decoded text can merge a token pair the
    model emitted apart, so one token of slack is allowed: a natural stop one token before the limit
    counts as cut off too (and is degenerate only if it ends inside a repeat anyway)."""
    return max_new_tokens is not None and len(ids) >= max_new_tokens - 1


def degenerate(text: str, tokenizer: Any, *, max_new_tokens: int | None = None) -> bool:
    """`max_new_tokens`: the generation's token limit, to tell a cut-off answer (None: unknown, never)."""
    ids = token_ids(text, tokenizer)
    return degenerate_ids(ids, truncated=truncated(ids, max_new_tokens))


def prompt_text(prompt: str | Sequence[dict[str, Any]]) -> str:
    """A prompt as text: a string as it is, chat messages' contents one per line (every turn counts)."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(str(m.get("content", "")) for m in prompt)


def echo(text: str, prompt: str | Sequence[dict[str, Any]], tokenizer: Any) -> bool:
    return echo_ids(token_ids(text, tokenizer), token_ids(prompt_text(prompt), tokenizer))
