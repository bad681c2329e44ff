"""Arena rules: votes become arena preference records (once per battle), rate limits shared through
the database, exclusion drops a client's votes from ratings and exports, prompts are checked."""

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.test import override_settings

from ml.llm.params import VariantRef
from tests.arena.conftest import finished_battle, make_variant
from webapp.arena import selectors, services
from webapp.arena.models import Battle, BattleStatus, BlockedTerm, ClientCounter, Vote
from webapp.errors import ApplicationError, Conflict, NotFound
from webapp.feedback.formats.exporting import ExportSpec, export_rows
from webapp.feedback.models import PreferenceRecord

pytestmark = pytest.mark.django_db

ALICE, BOB = "a" * 64, "b" * 64


def vote(battle, outcome="a", client=None, language=None) -> Vote:
    return services.vote_cast(
        token=str(battle.token), outcome=outcome, client_hash=client or battle.client_hash, language_code=language
    )


def test_a_vote_is_an_arena_preference_record_with_both_answers(variants, languages):
    base, one, _ = variants
    battle = finished_battle(one, base, client=ALICE)
    cast = vote(battle, "b")
    record = PreferenceRecord.objects.get(pk=cast.preference_id)
    assert (record.source, record.outcome, record.language_id) == ("arena", "b", "en")
    assert (record.model_a, record.model_b) == ("adapted-one", "base-model")
    assert (record.response_a, record.response_b, record.prompt) == ("Answer A", "Answer B", battle.prompt)
    assert record.client_hash == ALICE and record.deleted_at is None
    battle.refresh_from_db()
    assert battle.status == BattleStatus.VOTED


def test_an_arena_vote_exports_as_a_pair_and_ties_do_not(variants, languages):
    base, one, two = variants
    vote(finished_battle(one, base), "b")
    vote(finished_battle(two, base), "tie")
    rows = list(export_rows(ExportSpec(format="pairs", sources=("arena",))))
    assert len(rows) == 1
    assert (rows[0]["chosen"], rows[0]["rejected"], rows[0]["source"]) == ("Answer B", "Answer A", "arena")


def test_a_second_vote_on_a_battle_is_refused(variants):
    battle = finished_battle(variants[1], variants[0])
    vote(battle, "a")
    with pytest.raises(Conflict):
        vote(battle, "b")
    assert Vote.objects.count() == 1 and PreferenceRecord.objects.count() == 1


def test_only_the_client_who_started_a_battle_can_vote_on_it(variants):
    battle = finished_battle(variants[1], variants[0], client=ALICE)
    with pytest.raises(NotFound):
        vote(battle, "a", client=BOB)


def test_no_vote_before_both_answers_are_complete(variants, languages):
    battle = finished_battle(variants[1], variants[0])
    battle.__class__.objects.filter(pk=battle.pk).update(status=BattleStatus.GENERATING)
    with pytest.raises(ApplicationError, match="Wait until"):
        vote(battle)


def test_the_visitor_can_correct_the_language_when_voting(variants, languages):
    battle = finished_battle(variants[1], variants[0], language="en")
    assert vote(battle, "a", language="de").preference.language_id == "de"
    with pytest.raises(ApplicationError, match="Unknown language"):
        vote(finished_battle(variants[1], variants[0]), "a", language="fr")


def test_a_vote_after_a_model_named_itself_is_kept_but_not_rated(variants, languages):
    base, one, _ = variants
    vote(finished_battle(one, base), "a")
    named = finished_battle(one, base, answers=("I am SmolLM, a small model.", "Paris."))
    cast = vote(named, "a")
    assert cast.identity_revealed and cast.preference.metadata["identity_revealed"] is True
    assert cast.preference.deleted_at is None  # still preference data
    assert {row["variant"]: row["votes"] for row in selectors.leaderboard()} == {"adapted-one": 1, "base-model": 1}


def test_side_by_side_votes_are_data_but_not_ratings(variants, languages):
    cast = vote(finished_battle(variants[1], variants[0], mode="named"), "a")
    assert cast.identity_revealed
    assert selectors.leaderboard() == []


def test_leaderboard_anchors_the_base_model_at_1000_and_counts_both_bad_as_a_tie(variants, languages):
    base, one, _ = variants
    for outcome in ("a", "a", "b", "both_bad", "tie"):
        vote(finished_battle(one, base), outcome)
    board = {row["variant"]: row for row in selectors.leaderboard("en")}
    assert board["base-model"]["rating"] == 1000
    # 2 wins + 2 half-wins = 3 against 1 + 1 = 2: 400 * log10(3/2) above the base (less a fraction
    # of a point from the weak prior, selectors.RATING_L2).
    assert board["adapted-one"]["rating"] == pytest.approx(1000 + 400 * np.log10(1.5), abs=1)
    assert board["adapted-one"]["votes"] == 5
    assert selectors.leaderboard("de") == []


def test_excluding_a_client_drops_their_votes_from_ratings_and_exports(variants, languages, staff):
    base, one, _ = variants
    vote(finished_battle(one, base, client=ALICE), "a")
    vote(finished_battle(one, base, client=BOB), "b")
    services.client_exclude(client_hash=ALICE, reason="spam", by=staff)
    assert [row["votes"] for row in selectors.leaderboard()] == [1, 1]
    assert PreferenceRecord.objects.alive().get().client_hash == BOB
    assert len(list(export_rows(ExportSpec(format="dpo", sources=("arena",))))) == 1
    later = vote(finished_battle(one, base, client=ALICE), "a")  # excluded from the start
    assert later.excluded and later.preference.deleted_at is not None
    assert services.client_include(client_hash=ALICE) == 2
    assert PreferenceRecord.objects.alive().count() == 3
    with pytest.raises(ApplicationError, match="64-character"):
        services.client_exclude(client_hash="", reason="typo")


@override_settings(ARENA_VOTE_LIMIT=2, ARENA_RATE_WINDOW_SECONDS=3600)
def test_votes_are_limited_per_client_and_window(variants):
    now = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    for _ in range(2):
        services.rate_limit_take(client_hash=ALICE, action="vote", now=now)
    with pytest.raises(services.RateLimited, match="at most 2"):
        services.rate_limit_take(client_hash=ALICE, action="vote", now=now)
    services.rate_limit_take(client_hash=BOB, action="vote", now=now)  # another client
    services.rate_limit_take(client_hash=ALICE, action="generate", now=now)  # another action
    assert ClientCounter.objects.get(client_hash=ALICE, action="vote", window_start=now.replace(minute=0)).count == 2
    services.rate_limit_take(client_hash=ALICE, action="vote", now=now + timedelta(hours=1))  # next window
    # The new window's first request cleared the windows that ended.
    assert not ClientCounter.objects.filter(window_start__lt=now.replace(minute=0)).exists()


@override_settings(ARENA_GENERATION_LIMIT=1)
def test_battles_count_against_the_generation_limit(variants, languages):
    services.battle_start(prompt="Hello there, how are you?", client_hash=ALICE)
    with pytest.raises(services.RateLimited):
        services.battle_start(prompt="Hello again, how are you?", client_hash=ALICE)


@override_settings(ARENA_PROMPT_MAX_CHARS=20)
def test_prompts_are_checked(variants, languages):
    with pytest.raises(ApplicationError, match="limit is 20"):
        services.battle_start(prompt="x" * 21, client_hash=ALICE)
    with pytest.raises(ApplicationError, match="Write a prompt"):
        services.battle_start(prompt="   ", client_hash=ALICE)
    with pytest.raises(ApplicationError, match="Write a prompt"):
        services.battle_start(prompt="\u200b \u2060", client_hash=ALICE)  # invisible characters only
    BlockedTerm.objects.create(term="Forbidden")
    with pytest.raises(ApplicationError, match="cannot be used"):
        services.battle_start(prompt="a forbidden word", client_hash=ALICE)
    assert not ClientCounter.objects.exists()  # refused prompts cost nothing


def test_the_language_is_detected_among_the_stored_languages(variants, languages):
    battle = services.battle_start(prompt="Wie koche ich Reis am besten?", client_hash=ALICE)
    assert (battle.language_id, battle.detected_language) == ("de", "de")
    battle = services.battle_start(prompt="天空为什么是蓝色的？", client_hash=ALICE)
    assert battle.language_id == "zh-Hans"
    chosen = services.battle_start(prompt="Wie koche ich Reis am besten?", client_hash=ALICE, language_code="en")
    assert (chosen.language_id, chosen.detected_language) == ("en", "de")


def test_battles_need_two_enrolled_models(db, languages):
    make_variant("only-one", kind="base")
    make_variant("not-enrolled", enrolled=False)
    with pytest.raises(ApplicationError, match="at least two enrolled"):
        services.battle_start(prompt="Hello there", client_hash=ALICE)


def test_side_by_side_takes_two_enrolled_models_by_name(variants, languages):
    battle = services.battle_start(prompt="Hello", client_hash=ALICE, variant_names=("base-model", "adapted-two"))
    assert (battle.mode, battle.variant_a.name, battle.variant_b.name) == ("named", "base-model", "adapted-two")
    with pytest.raises(ApplicationError, match="different"):
        services.battle_start(prompt="Hello", client_hash=ALICE, variant_names=("base-model", "base-model"))
    with pytest.raises(ApplicationError, match="Not an arena model"):
        services.battle_start(prompt="Hello", client_hash=ALICE, variant_names=("base-model", "nope"))


def test_client_hashes_are_salted_and_stable():
    first = services.client_hash_for("10.0.0.1")
    assert first == services.client_hash_for("10.0.0.1") != services.client_hash_for("10.0.0.2")
    with override_settings(ARENA_CLIENT_SALT="another salt"):
        assert services.client_hash_for("10.0.0.1") != first


class _SlowBackend:
    """An inference backend that answers one word at a time until told to stop (a visitor who leaves
    must stop both generations)."""

    def __init__(self):
        self.closed = []

    def stream(self, ref, messages, params):
        def words():
            try:
                for n in range(1000):
                    time.sleep(0.01)
                    yield f"w{n} "
            finally:
                self.closed.append(ref.name)

        return words()


def test_a_visitor_who_leaves_mid_generation_abandons_the_battle_and_stops_both_models(
    variants, languages, monkeypatch
):
    base, one, _ = variants
    backend = _SlowBackend()
    monkeypatch.setattr(services, "variant_ref", lambda variant: VariantRef(variant.name, "unused"))
    monkeypatch.setattr(services, "_backend", lambda: backend)
    battle = services.battle_start(prompt="Tell me a long story.", client_hash=ALICE, language_code="en")
    stream = services.battle_stream(battle)
    text_a, text_b = next(stream)
    stream.close()  # what Gradio does when the visitor closes the tab
    battle.refresh_from_db()
    assert battle.status == BattleStatus.ABANDONED and battle.finished_at is not None
    deadline = time.monotonic() + 5
    while len(backend.closed) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(backend.closed) == sorted([battle.variant_a.name, battle.variant_b.name])
    with pytest.raises(Conflict, match="did not finish"):
        vote(battle)


def test_the_sweep_abandons_battles_left_generating_by_a_dead_process_and_only_those(variants, languages):
    base, one, two = variants
    now = datetime.now(UTC)
    stale = services.battle_start(prompt="Old question?", client_hash=ALICE, language_code="en")
    fresh = services.battle_start(prompt="New question?", client_hash=ALICE, language_code="en")
    done = finished_battle(one, two, client=BOB)
    Battle.objects.filter(pk__in=[stale.pk, done.pk]).update(created_at=now - timedelta(hours=1))
    with override_settings(ARENA_GENERATION_TIMEOUT_SECONDS=900):
        assert services.battles_sweep(now=now) == 1
        assert services.battles_sweep(now=now) == 0
    statuses = dict(Battle.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: "abandoned", fresh.pk: "generating", done.pk: "ready"}
