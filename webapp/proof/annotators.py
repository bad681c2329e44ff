"""The proof's simulated annotators: two seeded rankers whose signal is independent of the
language-fidelity judge's (py3langid and the base tokenizer's 4-grams), so that the judge gate has a
real agreement to measure. This simulates human calibration; it is not human labelling, and the README
says so.

Each answer is put in one of three tiers from plain word statistics:
- 0: written in the expected language — its function words (a short stop-word list per language)
  outnumber every other listed language's, at least two of them — and neither repetitive nor an echo;
- 1: a readable answer in another language (English drift, mostly);
- 2: repetitive (few distinct words for its length, or one word trigram over and over), an echo of the
  prompt (most of its word trigrams are the prompt's), or too short to read.
Better tiers rank first; answers of one tier tie. Each annotator is seeded: on a few tasks
(`slip` of them, chosen by the seed and the task) it merges its two best tiers, so the two
annotators and the judge agree often, never perfectly."""

import random
import re
from collections import Counter
from dataclasses import dataclass

# Frequent function words, lower case. Enough to tell these languages apart in a sentence or two.
STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to is in that it for you are with this be on not or as can your have",
        "de": "der die das und ist nicht ich sie es ein eine zu mit den von für auf dem sich auch wenn oder",
        "nl": "de het een en van is niet dat je ik te op met voor zijn er aan ook als maar om",
        "it": "il la di che è non un una per con sono lo gli le del della si anche come più ma",
        "fr": "le la les de des et est une un pour que qui dans pas vous ce sur avec il sont au",
        "es": "el la los las de que y es en un una por con para no se su más como lo al",
        "pt": "o os as de que e é em um uma para com não se do da dos mais como ao você",
        "sv": "och att det är en som på för med av inte till har om den jag du kan",
        "pl": "i w na nie to się z jest że do jak co o ale tak czy po od jego",
        "sw": "na ya wa kwa ni za katika la kuwa hii kama au lakini pia sana",
    }.items()
}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Reading:
    tier: int
    language: str | None  # the stop-word language that won, None when no listed word occurs


def read(text: str, language: str, prompt: str) -> Reading:
    words = [w.lower() for w in WORD.findall(text)]
    counts = {lang: sum(w in stop for w in words) for lang, stop in STOP_WORDS.items()}
    best = max(counts, key=lambda lang: (counts[lang], lang == language))
    winner = best if counts[best] else None
    if len(words) < 3 or _repetitive(words) or _echo(words, [w.lower() for w in WORD.findall(prompt)]):
        return Reading(2, winner)
    base = language.split("-")[0].lower()
    if winner == base and counts[base] >= 2:
        return Reading(0, winner)
    return Reading(1, winner)


def _trigrams(words: list[str]) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + 3]) for i in range(len(words) - 2)]


def _repetitive(words: list[str]) -> bool:
    if len(words) >= 20 and len(set(words)) / len(words) < 0.4:
        return True
    grams = Counter(_trigrams(words))
    return bool(grams) and grams.most_common(1)[0][1] >= 3 and len(words) >= 12


def _echo(words: list[str], prompt_words: list[str]) -> bool:
    grams = _trigrams(words)
    if not grams:
        return False
    prompt_grams = set(_trigrams(prompt_words))
    return sum(g in prompt_grams for g in grams) / len(grams) > 0.5


@dataclass(frozen=True)
class SimulatedAnnotator:
    seed: int
    slip: float = 0.1

    def rank(self, *, task_id: int, prompt: str, language: str, answers: list[tuple[int, str]]) -> list[list[int]]:
        """A ranking of the answers' positions (best first, ties grouped)."""
        tiers: dict[int, list[int]] = {}
        for position, text in answers:
            tiers.setdefault(read(text, language, prompt).tier, []).append(position)
        ranking = [sorted(tiers[tier]) for tier in sorted(tiers)]
        if len(ranking) > 1 and random.Random(self.seed * 1_000_003 + task_id).random() < self.slip:
            ranking = [sorted(ranking[0] + ranking[1]), *ranking[2:]]
        return ranking
