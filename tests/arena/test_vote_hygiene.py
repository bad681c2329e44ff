"""Vote hygiene: a per-client daily vote cap, an outlier test that leaves anomalous voters out of the ratings
(their votes kept and listed on /arena-stats/), and FastChat's cap on high-frequency prompts."""

from datetime import UTC, datetime, timedelta

import gradio as gr
import numpy as np
import pytest
from django.test import override_settings
from starlette.requests import Request

from tests.arena.conftest import finished_battle
from webapp.arena import gradio_app, hygiene, ratings, selectors, services
from webapp.arena.models import ClientCounter, CounterAction, Vote
from webapp.feedback.models import PreferenceRecord

ALICE, BOB, MALLORY = "a" * 64, "b" * 64, "e" * 64


def vote(battle, outcome="a"):
    return services.vote_cast(token=str(battle.token), outcome=outcome, client_hash=battle.client_hash)


# --- Daily cap ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(ARENA_DAILY_VOTE_CAP=2)
def test_votes_over_the_daily_cap_are_refused_with_a_message(variants, languages):
    base, one, _two = variants
    vote(finished_battle(one, base, client=ALICE))
    vote(finished_battle(base, one, client=ALICE))
    with pytest.raises(services.RateLimited, match="2 votes today, the daily limit") as refused:
        vote(finished_battle(one, base, client=ALICE))
    assert refused.value.status_code == 429
    vote(finished_battle(one, base, client=BOB))  # another client has its own cap
    assert Vote.objects.filter(client_hash=ALICE).count() == 2


@pytest.mark.django_db
@override_settings(ARENA_DAILY_VOTE_CAP=1)
def test_the_arena_page_says_why_a_vote_over_the_cap_is_refused(variants, languages):
    base, one, _two = variants
    visitor = gr.Request(Request({"type": "http", "headers": [], "client": ("10.1.2.3", 5000)}))
    client = services.client_hash_for("10.1.2.3")
    gradio_app.cast_vote("a", str(finished_battle(one, base, client=client).token), "auto", visitor)
    with pytest.raises(gr.Error, match="daily limit"):
        gradio_app.cast_vote("b", str(finished_battle(one, base, client=client).token), "auto", visitor)


@pytest.mark.django_db
@override_settings(ARENA_DAILY_VOTE_CAP=2, ARENA_VOTE_LIMIT=100, ARENA_RATE_WINDOW_SECONDS=3600)
def test_the_daily_cap_lasts_the_utc_day_whatever_the_hourly_window_does():
    morning = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for hour in (0, 5):  # the second take opens a new hourly window, which clears old hourly counters only
        services.rate_limit_take(client_hash=ALICE, action=CounterAction.VOTE_DAY, now=morning + timedelta(hours=hour))
        services.rate_limit_take(client_hash=ALICE, action=CounterAction.VOTE, now=morning + timedelta(hours=hour))
    assert ClientCounter.objects.get(client_hash=ALICE, action=CounterAction.VOTE_DAY).count == 2
    with pytest.raises(services.RateLimited, match="daily limit"):
        services.rate_limit_take(client_hash=ALICE, action=CounterAction.VOTE_DAY, now=morning + timedelta(hours=15))
    services.rate_limit_take(
        client_hash=ALICE, action=CounterAction.VOTE_DAY, now=datetime(2026, 3, 2, 0, 1, tzinfo=UTC)
    )


# --- Anomalous voters (the method) -------------------------------------------------------------------


def simulated_votes(rng, strengths, honest_clients=40, per_client=12):
    """Votes from honest clients who follow Bradley–Terry with these strengths."""
    a, b, outcome, clients = [], [], [], []
    n = len(strengths)
    for c in range(honest_clients):
        for _vote in range(per_client):
            i, j = rng.choice(n, size=2, replace=False)
            a.append(i), b.append(j), clients.append(f"honest-{c}")
            outcome.append(float(rng.random() < 1 / (1 + np.exp(strengths[j] - strengths[i]))))
    return a, b, outcome, clients


def add_client(votes, name, picks, rng, strengths, count=40):
    """`picks(i, j)` -> 1 when the client says i beat j."""
    a, b, outcome, clients = votes
    for _vote in range(count):
        i, j = rng.choice(len(strengths), size=2, replace=False)
        a.append(i), b.append(j), clients.append(name), outcome.append(float(picks(i, j)))


def checks_of(votes, n):
    a, b, outcome, clients = votes
    found = hygiene.anomalous_voters(
        np.array(a), np.array(b), np.array(outcome), clients, n, min_votes=20, alpha=0.001, l2=0.01
    )
    return {check.client: check for check in found}


def test_a_client_voting_for_the_weaker_model_is_anomalous_and_honest_ones_are_not():
    rng = np.random.default_rng(7)
    strengths = np.array([0.0, 0.8, 1.6, 2.4])
    votes = simulated_votes(rng, strengths)
    add_client(votes, "saboteur", lambda i, j: strengths[i] < strengths[j], rng, strengths)
    add_client(votes, "coin", lambda i, j: rng.random() < 0.5, rng, strengths)  # random clicking: not "far more"
    add_client(votes, "fan", lambda i, j: strengths[i] > strengths[j], rng, strengths)
    checks = checks_of(votes, len(strengths))
    assert checks["saboteur"].anomalous and checks["saboteur"].p_value < 1e-9
    assert checks["saboteur"].agreements == 0 and checks["saboteur"].expected > 25
    assert not checks["coin"].anomalous and not checks["fan"].anomalous
    assert "honest-0" not in checks  # 12 decisive votes: below the 20 the test needs
    assert [name for name, check in checks.items() if check.anomalous] == ["saboteur"]


def test_the_test_equals_its_definition_with_votes_interleaved_and_each_fit_started_afresh():
    """The fast path (each client's votes found by one sort, each fit started from everyone's) against the
    definition written out: a mask per client and a fit from zero."""
    rng = np.random.default_rng(11)
    strengths = np.array([0.0, 0.5, 1.1, 1.9, 2.2])
    votes = simulated_votes(rng, strengths, honest_clients=15, per_client=30)
    add_client(votes, "saboteur", lambda i, j: strengths[i] < strengths[j], rng, strengths)
    order = rng.permutation(len(votes[0]))  # the clients' votes interleaved, in no particular order
    a, b, outcome, clients = (np.array(column)[order] for column in votes)
    for k in rng.choice(len(outcome), size=60, replace=False):
        outcome[k] = 0.5  # some ties
    clients = clients.tolist()
    found = hygiene.anomalous_voters(a, b, outcome, clients, len(strengths), min_votes=20, alpha=0.001, l2=0.01)
    wins, ties = ratings.tally(a, b, outcome, len(strengths))
    expected = []
    for name in sorted(set(clients)):
        mine = np.array([c == name for c in clients])
        decisive = mine & (outcome != 0.5)
        if decisive.sum() < 20:
            continue
        own = ratings.tally(a[mine], b[mine], outcome[mine], len(strengths))
        others = (wins - own[0], ties - own[1])
        expected.append(hygiene._check(name, others, a, b, outcome, decisive, 20, 0.001, 0.01))
    expected.sort(key=lambda check: (check.p_value, check.client))
    assert [(c.client, c.scored, c.agreements, c.anomalous) for c in found] == [
        (c.client, c.scored, c.agreements, c.anomalous) for c in expected
    ]
    assert [c.p_value for c in found] == pytest.approx([c.p_value for c in expected], rel=1e-9)
    assert found[0].client == "saboteur" and found[0].anomalous and len(found) == 16


def test_ties_and_pairs_nobody_else_rated_are_not_scored():
    a = np.array([0, 0, 1, 1] * 10)
    b = np.array([1, 1, 2, 2] * 10)
    outcome = np.array([0.5, 0.5, 0.0, 0.0] * 10)
    clients = ["lonely"] * 40  # the only voter: without it nothing is rated
    (check,) = hygiene.anomalous_voters(a, b, outcome, clients, 3, min_votes=20, alpha=0.001, l2=0.01)
    assert (check.scored, check.p_value, check.anomalous) == (0, 1.0, False)


def test_the_prompt_cap_keeps_a_fixed_sample_whatever_the_order():
    ids, keys = list(range(10)), ["same"] * 8 + ["other", "third"]
    left_out = hygiene.capped_votes(ids, keys, 3)
    assert len(left_out) == 5 and left_out <= set(range(8))
    assert hygiene.capped_votes(ids[::-1], keys[::-1], 3) == left_out
    assert hygiene.capped_votes(ids, keys, 8) == set()


# --- In the ratings and on the statistics page -------------------------------------------------------


@pytest.mark.django_db
@override_settings(ARENA_OUTLIER_MIN_VOTES=20)
def test_an_anomalous_voter_is_kept_as_data_left_out_of_the_ratings_and_listed(client, staff, variants, languages):
    base, one, _two = variants
    for n in range(12):  # twelve honest visitors prefer adapted-one
        honest = f"{n:x}".rjust(64, "0")
        vote(finished_battle(one, base, client=honest), "a")
        vote(finished_battle(base, one, client=honest), "b")
    for _n in range(25):
        vote(finished_battle(one, base, client=MALLORY), "b")
    found = selectors.vote_hygiene()
    assert [check.client for check in found.anomalous] == [MALLORY]
    assert Vote.objects.filter(client_hash=MALLORY).count() == 25  # kept
    assert PreferenceRecord.objects.filter(client_hash=MALLORY, deleted_at__isnull=True).count() == 25
    board = {row["variant"]: row for row in selectors.leaderboard("en")}
    assert board["adapted-one"]["votes"] == 24 and board["adapted-one"]["rating"] > board["base-model"]["rating"]
    client.force_login(staff)
    page = client.get("/arena-stats/").content.decode()
    assert 'id="arena-anomalous"' in page and MALLORY[:12] in page
    assert selectors.arena_statistics()["counted"] == 24


@pytest.mark.django_db
@override_settings(ARENA_PROMPT_CAP=3)
def test_a_high_frequency_prompt_counts_at_most_the_cap(variants, languages):
    base, one, _two = variants
    for n, prompt in enumerate(["Hello there", "hello there", "  Hello there ", "HELLO THERE", "Hello there"]):
        vote(finished_battle(one, base, client=f"{n:x}".rjust(64, "0"), prompt=prompt), "a")
    vote(finished_battle(one, base, client=BOB, prompt="Something else"), "a")
    board = {row["variant"]: row for row in selectors.leaderboard()}
    assert board["adapted-one"]["votes"] == 4  # 3 of the five "hello there" + the other prompt
    stats = selectors.arena_statistics()
    assert (stats["capped_votes"], stats["capped_prompts"], stats["counted"]) == (2, 1, 4)
    assert Vote.objects.count() == 6
