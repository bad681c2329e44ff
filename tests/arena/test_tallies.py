"""The arena's folded statistics (webapp/arena/tallies.py): after any random sequence of battles, votes, battle-log
imports, exclusions, restorations and record deletions they equal a full recomputation over every vote; the change
token moves with every change and never with a fold; a read folds what is pending (or, beyond
ARENA_FOLD_ON_READ, says how much waits); the fits are computed once per token and shared through `ArenaFit`."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.test import override_settings
from django.utils import timezone

from tests.arena.conftest import finished_battle
from tests.arena.test_logs import battle as log_battle
from tests.arena.test_logs import turn
from tests.feedback.formats_fixtures import write_records
from webapp.arena import selectors, services, tallies
from webapp.arena.models import ArenaDirty, ArenaFit, Battle, Vote
from webapp.feedback.models import PreferenceRecord
from webapp.feedback.services.catalog import preference_delete
from webapp.feedback.services.importing import feedback_import
from workers.tasks.arena import fold_arena, refit

# also run against PostgreSQL by .ci/run (the fold's upserts and lock, the token's one statement)
pytestmark = [pytest.mark.django_db, pytest.mark.services]
CLIENTS = [c * 64 for c in "abcdef"]


def recomputed(days: int = 14, top: int = 20) -> dict:
    """What the statistics page showed before the tallies: every figure from every row."""
    votes = Vote.objects.all()
    since = timezone.now() - timedelta(days=days)
    return {
        "battles": Battle.objects.count(),
        "votes": votes.count(),
        "counting": selectors.rating_votes(origin=selectors.ALL).count(),
        "revealed": votes.filter(identity_revealed=True).count(),
        "excluded_votes": votes.filter(excluded=True).count(),
        "by_language": sorted((r["language_id"], r["n"]) for r in votes.values("language_id").annotate(n=Count("id"))),
        "by_outcome": sorted((r["outcome"], r["n"]) for r in votes.values("outcome").annotate(n=Count("id"))),
        "by_day": [
            (r["day"], r["n"])
            for r in votes.filter(created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("id"))
            .order_by("day")
        ],
        "clients": sorted(
            (r["client_hash"], r["n"], r["excluded"], r["last"])
            for r in votes.values("client_hash").annotate(
                n=Count("id"), excluded=Count("id", filter=Q(excluded=True)), last=Max("created_at")
            )
        ),
    }


def folded() -> dict:
    found = tallies.arena_summary(top_clients=1000)
    assert found["pending"] == 0
    return {
        **{name: found[name] for name in ("battles", "votes", "counting", "revealed", "excluded_votes")},
        "by_language": sorted((r["language_id"], r["n"]) for r in found["by_language"]),
        "by_outcome": sorted((r["outcome"], r["n"]) for r in found["by_outcome"]),
        "by_day": [(r["day"], r["n"]) for r in found["by_day"]],
        "clients": sorted((r["client_hash"], r["n"], r["excluded"], r["last"]) for r in found["clients"]),
    }


def _import(tmp_path, step: int, rng: random.Random) -> None:
    lines = []
    for k in range(rng.randint(1, 4)):
        qid = f"s{step}-{k}"
        more = {"language": rng.choice(["English", "de", "zh"]), "anony": rng.random() > 0.2}
        if rng.random() < 0.2:  # a multi-turn battle: a vote with no preference record
            a = turn("Name a colour.", f"Red {qid}.") + turn("Another?", "Blue.")
            b = turn("Name a colour.", f"Green {qid}.") + turn("Another?", "Yellow.")
            more |= {"turn": 2, "conversation_a": a, "conversation_b": b}
        winner = rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"])
        lines.append(
            log_battle(qid, "vicuna-13b", "koala-13b", winner, judge=f"arena_user_{rng.randint(1, 3)}", **more)
        )
    path = write_records(tmp_path, f"log-{step}", lines, ".jsonl")
    feedback_import(path=path, format="arena", origin="arena-log")


@pytest.mark.parametrize("seed", [7, 2026])
def test_the_tallies_equal_a_full_recomputation_after_random_changes(seed, variants, languages, tmp_path):
    rng = random.Random(seed)
    base, one, two = variants
    assert folded() == recomputed()
    token = tallies.arena_token()
    for step in range(60):
        action = rng.choice(["vote", "vote", "vote", "battle", "import", "exclude", "include", "delete", "fold"])
        if action == "vote":
            battle = finished_battle(
                *rng.sample([base, one, two], 2),
                client=rng.choice(CLIENTS),
                language=rng.choice(["en", "de", "zh-Hans"]),
            )
            services.vote_cast(
                token=str(battle.token),
                outcome=rng.choice(["a", "b", "tie", "both_bad"]),
                client_hash=battle.client_hash,
            )
        elif action == "battle":  # started, never voted on
            finished_battle(base, one, client=rng.choice(CLIENTS))
        elif action == "import":
            _import(tmp_path, step, rng)
        elif action == "exclude":
            client = rng.choice(CLIENTS)
            if not Vote.objects.filter(client_hash=client, excluded=False).exists():
                continue  # nothing changes (the exclusion is stored for later votes)
            services.client_exclude(client_hash=client, reason="test")
        elif action == "include":
            excluded = list(Vote.objects.filter(excluded=True).values_list("client_hash", flat=True).distinct())
            if not excluded:
                continue
            services.client_include(client_hash=rng.choice(excluded))
        elif action == "delete":
            alive = list(PreferenceRecord.objects.filter(arena_vote__isnull=False, deleted_at__isnull=True))
            if not alive:
                continue
            preference_delete(record=rng.choice(alive))
        else:
            before = tallies.arena_token()
            tallies.arena_fold(rng.randint(1, 5))
            assert tallies.arena_token() == before, "a fold never moves the token"
            continue
        moved = tallies.arena_token()
        assert moved > token, f"step {step} ({action}) did not move the token"
        token = moved
        if rng.random() < 0.4:
            assert folded() == recomputed(), f"after step {step} ({action})"
    assert folded() == recomputed()
    assert tallies.arena_rebuild() == Battle.objects.count()
    assert folded() == recomputed()


def test_the_statistics_page_reads_tallies_and_hygiene(variants, languages):
    base, one, _two = variants
    for k in range(3):
        battle = finished_battle(one, base, client=CLIENTS[k % 2])
        services.vote_cast(token=str(battle.token), outcome="a", client_hash=battle.client_hash)
    stats = selectors.arena_statistics()
    assert (stats["battles"], stats["votes"], stats["counted"], stats["pending"]) == (3, 3, 3, 0)
    assert stats["by_language"] == [{"language_id": "en", "n": 3}]
    assert [(c["client_hash"], c["n"]) for c in stats["clients"]] == [(CLIENTS[0], 2), (CLIENTS[1], 1)]
    assert stats["as_of"] is not None


@override_settings(ARENA_FOLD_ON_READ=2)
def test_a_read_folds_at_most_the_cap_and_says_what_waits_then_the_sweep_folds_the_rest(variants, languages):
    base, one, _two = variants
    for _k in range(4):
        battle = finished_battle(one, base)
        services.vote_cast(token=str(battle.token), outcome="b", client_hash=battle.client_hash)
    pending = ArenaDirty.objects.count()
    assert pending > 2
    summary = tallies.arena_summary()
    # two folded by the read, the sweep asked for the rest; what waits is counted up to the cap + 1 (a bounded read)
    assert summary["pending"] == min(pending - 2, 3)
    assert summary["votes"] < 4
    fold_arena()  # what the sweep runs (it queues itself again while markers are pending)
    assert tallies.arena_pending(10) == 0
    assert tallies.arena_summary()["votes"] == 4


def test_a_fit_is_computed_once_per_token_and_read_back_by_another_process(variants, languages, monkeypatch):
    base, one, two = variants
    for k in range(6):
        battle = finished_battle(one if k % 3 else two, base, client=CLIENTS[k % 3])
        services.vote_cast(token=str(battle.token), outcome="a", client_hash=battle.client_hash)
    board = selectors.leaderboard()
    assert ArenaFit.objects.filter(token=tallies.arena_token()).count() == 2  # the board and vote hygiene
    selectors._cache.clear()  # another process: nothing in memory

    def refit(*args, **kwargs):
        raise AssertionError("refitted although the token did not move")

    monkeypatch.setattr(selectors, "_compute", refit)
    monkeypatch.setattr(selectors, "_compute_hygiene", refit)
    assert selectors.leaderboard() == board
    monkeypatch.undo()
    battle = finished_battle(two, one)
    services.vote_cast(token=str(battle.token), outcome="b", client_hash=battle.client_hash)
    calls = Counter()
    compute = selectors._compute

    def counted(*args, **kwargs):
        calls["fit"] += 1
        return compute(*args, **kwargs)

    monkeypatch.setattr(selectors, "_compute", counted)
    after = selectors.leaderboard()
    assert calls["fit"] == 1 and sum(row["votes"] for row in after) == sum(row["votes"] for row in board) + 2
    selectors.leaderboard()
    assert calls["fit"] == 1  # the same token: the cached fit


@override_settings(ARENA_FOLD_ON_READ=1)
def test_the_statistics_page_says_as_of_when_changes_wait(client, staff, variants, languages):
    base, one, _two = variants
    for _k in range(3):
        battle = finished_battle(one, base)
        services.vote_cast(token=str(battle.token), outcome="a", client_hash=battle.client_hash)
    client.force_login(staff)
    page = client.get("/arena-stats/").content.decode()
    assert 'id="arena-as-of"' in page and "changes are still being counted" in page
    fold_arena()
    page = client.get("/arena-stats/").content.decode()
    assert 'id="arena-as-of"' not in page and "Votes: 3" in page


@override_settings(ARENA_REFIT_SECONDS=60)
def test_a_recent_fit_is_served_behind_the_votes_while_the_sweep_refits(
    client, staff, variants, languages, monkeypatch
):
    base, one, _two = variants
    asked = []
    monkeypatch.setattr(selectors, "send_task", lambda name, args, queue: asked.append((name, args, queue)))
    selectors._asked.clear()

    def vote():
        battle = finished_battle(one, base)
        services.vote_cast(token=str(battle.token), outcome="a", client_hash=battle.client_hash)

    vote()
    first = selectors.rating_fit()
    assert selectors.freshness(first)["changes_since"] == 0 and not asked
    vote()
    served = selectors.rating_fit()
    assert served.rows == first.rows  # the fit of a moment ago, not refitted in the request
    assert selectors.freshness(served)["changes_since"] == tallies.arena_token() - first.token > 0
    assert asked == [("workers.tasks.arena.refit", ["fit", "", "plain", "bootstrap", "local"], "sweep")]
    reply = client.get("/api/v1/arena/leaderboard/").json()
    assert reply["changes_since"] > 0 and reply["as_of"]
    client.force_login(staff)
    assert 'id="board-as-of"' in client.get("/arena-stats/").content.decode()

    refit(*asked[0][1])  # what the sweep runs
    fresh = selectors.rating_fit()
    assert selectors.freshness(fresh)["changes_since"] == 0
    assert sum(row["votes"] for row in fresh.rows) == sum(row["votes"] for row in first.rows) + 2
    assert client.get("/api/v1/arena/leaderboard/").json()["changes_since"] == 0

    vote()  # with no worker: once the stored fit is older than the window, the request refits
    ArenaFit.objects.update(computed_at=timezone.now() - timedelta(seconds=61))
    late = selectors.rating_fit()
    assert selectors.freshness(late)["changes_since"] == 0
