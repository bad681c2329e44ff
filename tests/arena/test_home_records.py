"""Excluding a client, including them again, and deleting a record move the home page's preference records
(read from the review summary, folded on read) as a full count of the alive records does."""

import pytest

from tests.arena.conftest import finished_battle
from webapp.arena import services
from webapp.feedback.models import PreferenceRecord
from webapp.feedback.quality.fold import review_catch_up, review_fold
from webapp.feedback.quality.summary import summary_overview

pytestmark = pytest.mark.django_db

ALICE, BOB = "a" * 64, "b" * 64


def vote(battle, outcome="a"):
    return services.vote_cast(token=str(battle.token), outcome=outcome, client_hash=battle.client_hash)


def arena_records() -> tuple[int, int]:
    """(on the home page, alive in the store)."""
    return summary_overview().records.get("en", {}).get("arena", 0), PreferenceRecord.objects.alive().count()


def test_excluding_and_including_a_client_moves_the_home_pages_records(variants, languages, staff):
    base, one, _ = variants
    vote(finished_battle(one, base, client=ALICE))
    vote(finished_battle(one, base, client=BOB), "b")
    assert arena_records() == (2, 2)
    review_fold(1)  # a partial fold: the exclusion's markers below find their records folded or not
    services.client_exclude(client_hash=ALICE, reason="spam", by=staff)
    vote(finished_battle(one, base, client=ALICE))  # excluded from the start
    review_catch_up()
    assert arena_records() == (1, 1)
    services.client_include(client_hash=ALICE)
    assert arena_records() == (3, 3)
    PreferenceRecord.objects.create(
        external_id="x",
        content_hash="x",
        prompt="p",
        response_a="a",
        response_b="b",
        prompt_text="p",
        outcome="a",
        source="arena",
        language_id="en",
    )
    assert arena_records() == (4, 4)
    PreferenceRecord.objects.filter(external_id="x").delete()  # deleted for good: a marker all the same
    assert arena_records() == (3, 3)
