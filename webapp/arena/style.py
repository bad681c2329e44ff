"""Style measures of arena answers, stored once per vote (`VoteStyle`) for style-controlled ratings.

Length counts tokens of the installed base model's tokenizer (the one the judging layer uses,
`webapp.judging.fidelity.installed_base`), and repetition is counted over its ids; with no base model
installed, whitespace-separated words stand in for tokens, and the row says so (`tokenizer` =
"whitespace"). With the base tokenizer an answer that stopped at ARENA_MAX_NEW_TOKENS inside a repeat is
degenerate too (repetition's "cut off while looping"). `manage.py arena_style` measures the votes stored
before this existed, and re-measures whitespace rows once a base model is installed (`--remeasure`)."""

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction

from ml.evaluation.repetition import token_ids
from ml.evaluation.style import answer_style, whitespace_ids
from webapp.arena.models import Vote, VoteStyle
from webapp.arena.tallies import arena_touch
from webapp.judging.fidelity import installed_base, tokenizer_of
from webapp.modelstore.services import store_path

WHITESPACE = "whitespace"

logger = logging.getLogger(__name__)

Tokenise = Callable[[str], list[int]]


def style_tokeniser() -> tuple[str, Tokenise]:
    """(what the tokens are, text -> ids): the base model's tokenizer, else whitespace words."""
    base = installed_base()
    if base is not None and store_path(base.path).is_dir():
        try:
            tokenizer = tokenizer_of(base)
        except (OSError, ValueError):  # a broken folder must not cost the visitor their vote
            logger.exception("arena style: the tokenizer of %s cannot be loaded; counting words", base.name)
        else:
            return base.name, lambda text: token_ids(text, tokenizer)
    return WHITESPACE, whitespace_ids


def vote_style_measure(
    *, response_a: str, response_b: str, language: str, tokeniser: tuple[str, Tokenise] | None = None
) -> VoteStyle:
    """An unsaved VoteStyle for the two answers (the caller sets `vote`)."""
    name, tokenise = tokeniser or style_tokeniser()
    # the arena's token limit applies to base-tokenizer ids only (words are no tokens)
    limit = None if name == WHITESPACE else settings.ARENA_MAX_NEW_TOKENS
    sides = [answer_style(text, language, tokenise(text), max_new_tokens=limit) for text in (response_a, response_b)]
    values = {
        f"{field}_{side}": getattr(measure, field)
        for side, measure in zip("ab", sides, strict=True)
        for field in ("tokens", "headers", "lists", "bold", "in_language", "degenerate")
    }
    return VoteStyle(tokenizer=name, **values)


def vote_styles_fill(*, remeasure: bool = False, batch: int = 500) -> int:
    """Measure every vote that has no style row (and, with `remeasure`, re-measure rows counted by
    another tokenizer than today's). Returns how many rows were written."""
    tokeniser = style_tokeniser()
    votes = Vote.objects.select_related("battle").order_by("pk")
    unmeasured = votes.filter(style__isnull=True)
    if remeasure:
        unmeasured = votes.exclude(style__tokenizer=tokeniser[0])
    written = 0
    last = 0
    while chunk := list(unmeasured.filter(pk__gt=last)[:batch]):
        _store(chunk, tokeniser)
        written += len(chunk)
        last = chunk[-1].pk
    return written


@transaction.atomic
def _store(votes: Iterable[Vote], tokeniser: tuple[str, Tokenise]) -> None:
    rows = []
    for vote in votes:
        row = vote_style_measure(
            response_a=vote.battle.response_a,
            response_b=vote.battle.response_b,
            language=vote.language_id,
            tokeniser=tokeniser,
        )
        row.vote = vote
        rows.append(row)
    VoteStyle.objects.filter(vote__in=[row.vote for row in rows]).delete()
    VoteStyle.objects.bulk_create(rows)
    arena_touch()  # the style-controlled fits read these
