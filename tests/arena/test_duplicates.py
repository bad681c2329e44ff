"""High-frequency prompts across languages: translations of one prompt are grouped by the multilingual embedder
(the bundled USE), so the prompt cap counts them as one prompt; a different question stays apart."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.arena.conftest import finished_battle
from tests.arena.test_vote_hygiene import vote
from webapp.arena import selectors
from webapp.arena.duplicates import _components, prompt_groups_build
from webapp.arena.models import PromptGroup, Vote

FRANCE = {
    "en": "What is the capital of France?",
    "de": "Was ist die Hauptstadt von Frankreich?",
    "fr": "Quelle est la capitale de la France ?",
}
GERMANY = "What is the capital of Germany?"


def votes_on(variants, prompt: str, language: str, n: int, start: int) -> None:
    base, one, _two = variants
    for i in range(n):
        vote(finished_battle(one, base, client=f"{start + i:x}".rjust(64, "0"), language=language, prompt=prompt))


@pytest.mark.django_db
@override_settings(ARENA_PROMPT_CAP=4, ARENA_DUPLICATE_MIN_VOTES=2)
def test_translations_of_one_prompt_count_as_one_prompt_under_the_cap(variants, languages):
    for n, (language, prompt) in enumerate(FRANCE.items()):
        votes_on(variants, prompt, language, 3, start=10 * n)  # 3 each: under the cap of 4 alone
    votes_on(variants, GERMANY, "en", 3, start=100)
    votes_on(variants, "Write a haiku about rain.", "en", 1, start=200)  # rare: never embedded
    assert selectors.arena_statistics()["capped_votes"] == 0  # before grouping, no prompt reaches the cap

    found = prompt_groups_build()
    assert (found["prompts_embedded"], found["groups"], found["prompts_grouped"]) == (4, 1, 3)
    groups = {row.prompt_key: row.group_key for row in PromptGroup.objects.all()}
    assert len(set(groups.values())) == 1 and all(row.similarity >= 0.85 for row in PromptGroup.objects.all())

    stats = selectors.arena_statistics()
    assert (stats["capped_votes"], stats["capped_prompts"]) == (5, 1)  # 9 votes of one group, 4 counted
    assert Vote.objects.count() == 13  # kept
    board = {row["variant"]: row for row in selectors.leaderboard()}
    assert board["adapted-one"]["votes"] == 13 - 5

    call_command("arena_duplicates")  # the same, again: rewritten whole, nothing doubled
    assert PromptGroup.objects.count() == 3


def test_groups_are_connected_components_over_the_threshold():
    import numpy as np

    vectors = np.array([[1.0, 0.0], [0.9, 0.436], [0.5, 0.866], [0.0, 1.0]])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    # a~b (0.90) and c~d (0.87) join; b~c (0.83) does not, so two groups.
    found = _components(["a", "b", "c", "d"], vectors, 0.85)
    assert sorted((key, group) for key, group, _s in found) == [("a", "a"), ("b", "a"), ("c", "c"), ("d", "c")]
    assert _components(["a", "b", "c", "d"], vectors, 0.95) == []
