import itertools

import pytest

from webapp.arena import selectors, services
from webapp.arena.models import Battle
from webapp.feedback.services.languages import language_get_or_create
from webapp.modelstore.models import ModelVariant, VariantStatus


@pytest.fixture(autouse=True)
def fresh_leaderboard_cache():
    selectors._cache.clear()
    yield
    selectors._cache.clear()


@pytest.fixture
def languages(db):
    return [language_get_or_create(code) for code in ("en", "de", "zh-Hans")]


def make_variant(name: str, kind: str = "dpo", parent=None, enrolled: bool = True) -> ModelVariant:
    return ModelVariant.objects.create(
        name=name, kind=kind, parent=parent, path=f"x/{name}", status=VariantStatus.READY, enrolled_in_arena=enrolled
    )


@pytest.fixture
def variants(db):
    base = make_variant("base-model", kind="base")
    return base, make_variant("adapted-one", parent=base), make_variant("adapted-two", parent=base)


_prompts = itertools.count(1)


def finished_battle(
    variant_a,
    variant_b,
    *,
    client="c" * 64,
    language="en",
    answers=("Answer A", "Answer B"),
    mode="anonymous",
    prompt: str | None = None,
) -> Battle:
    """A battle whose answers are complete (streaming is covered by the end-to-end test). Each gets its own
    prompt unless one is given (a prompt repeated past ARENA_PROMPT_CAP counts only that often)."""
    battle = Battle.objects.create(
        mode=mode,
        language=language_get_or_create(language),
        prompt=prompt or f"What is the capital of France? (question {next(_prompts)})",
        variant_a=variant_a,
        variant_b=variant_b,
        client_hash=client,
    )
    services.battle_finish(battle, *answers)
    return battle
