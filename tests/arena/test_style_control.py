"""Style control: the Bradley–Terry fit with style covariates (by hand and on simulated votes), its sandwich
interval against the bootstrap, the measures stored with each vote (base tokenizer, or words without one),
their backfill, and the style-controlled leaderboard through the API."""

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.arena.conftest import finished_battle
from webapp.arena import ratings, services, style_ratings
from webapp.arena.models import VoteStyle
from webapp.arena.style import WHITESPACE

SHORT = "The capital of France is Paris."
LONG = (
    "The capital of France is Paris. It has been the capital for centuries, and it is also by far the largest "
    "city in the country, with museums, parks and old streets."
)


def length_only_battles():
    """Two equal models; y answers long in 60 battles of 80, x in 20; the longer answer wins 3 times in 4.
    Each group is split evenly between the two positions, so the length feature has mean 0."""
    battles = []  # (y is side a, y answers long, the long answer wins)
    for y_long, n in ((True, 60), (False, 20)):
        for k in range(n):
            battles.append((k % 2 == 0, y_long, k < n * 3 // 4))
    return battles


def simulated(n_votes=20_000, seed=5, ties=0.0):
    rng = np.random.default_rng(seed)
    truth, beta = np.array([0.0, 0.5, -0.3, 0.9]), np.array([0.6, -0.4])
    a = rng.integers(0, 4, n_votes)
    b = (a + rng.integers(1, 4, n_votes)) % 4
    style = rng.normal(0, 1, (n_votes, 2))
    p = 1 / (1 + np.exp(-(truth[a] - truth[b] + style @ beta)))
    y = (rng.random(n_votes) < p).astype(float)
    y[rng.random(n_votes) < ties] = 0.5
    return style_ratings.Votes(a, b, y, style, ("length", "bold"), 4), truth, beta


def test_features_are_normalised_differences_standardised_and_constant_ones_dropped():
    side_a = {"length": np.array([3, 0, 1, 1]), "bold": np.zeros(4), "in_language": np.array([1, 1, 0, 1])}
    side_b = {"length": np.array([1, 0, 1, 3]), "bold": np.zeros(4), "in_language": np.array([1, 0, 1, 1])}
    for name in ("headers", "lists", "degenerate"):
        side_a[name] = side_b[name] = np.ones(4)
    matrix, names = style_ratings.features(side_a, side_b)
    assert names == ("length", "in_language")  # bold, headers, lists and degenerate never differ
    length = np.array([2 / 5, 0, 0, -2 / 5])  # (fA - fB) / (fA + fB + 1)
    assert matrix[:, 0] == pytest.approx((length - length.mean()) / length.std())
    flags = np.array([0, 1, -1, 0])  # fA - fB for a yes/no measure
    assert matrix[:, 1] == pytest.approx(flags / flags.std())


def test_without_style_features_the_fit_is_the_plain_fit():
    votes, _truth, _beta = simulated(n_votes=3000, ties=0.2)
    plain = ratings.fit(*ratings.tally(votes.a, votes.b, votes.y, 4), anchor=0, l2=0.01)
    bare = style_ratings.Votes(votes.a, votes.b, votes.y, np.zeros((3000, 0)), (), 4)
    assert style_ratings.fit(bare, anchor=0, l2=0.01) == pytest.approx(plain, abs=1e-9)


def test_fit_recovers_known_ratings_and_style_effects():
    votes, truth, beta = simulated()
    theta = style_ratings.fit(votes, anchor=0, l2=0.01)
    assert theta[:4] == pytest.approx(truth, abs=0.08)
    assert theta[4:] == pytest.approx(beta, abs=0.06)


def test_a_length_effect_alone_separates_the_plain_fit_but_not_the_style_controlled_one():
    battles = length_only_battles()
    a = np.array([0 if y_first else 1 for y_first, _long, _wins in battles])  # y is variant 0, x variant 1
    b = 1 - a
    long_a = np.array([y_long == y_first for y_first, y_long, _wins in battles])
    y = np.array([float(long_a[i] == battles[i][2]) for i in range(len(battles))])
    tokens_a, tokens_b = np.where(long_a, 30, 6), np.where(long_a, 6, 30)
    matrix, names = style_ratings.features({"length": tokens_a}, {"length": tokens_b})
    assert names == ("length",)
    plain = ratings.fit(*ratings.tally(a, b, y, 2), anchor=1, l2=0.01)
    assert plain[0] == pytest.approx(np.log(50 / 30), abs=0.01)  # y won 50 of 80
    theta = style_ratings.fit(style_ratings.Votes(a, b, y, matrix, names, 2), anchor=1, l2=0.01)
    assert abs(theta[0]) < 1e-3 and theta[2] > 0  # equal models; the longer answer is preferred
    assert theta[2] * np.abs(matrix[0, 0]) == pytest.approx(np.log(3), abs=1e-3)  # 3 wins in 4


def test_style_sandwich_interval_agrees_with_the_bootstrap():
    votes, _truth, _beta = simulated(n_votes=4000, seed=9, ties=0.1)
    theta = style_ratings.fit(votes, anchor=0, l2=0.01)
    sandwich_sd = np.sqrt(np.diag(style_ratings.sandwich(votes, theta, anchor=0, l2=0.01)))
    bootstrap_sd = style_ratings.bootstrap(votes, rounds=200, anchor=0, l2=0.01, start=theta).std(axis=0)
    assert sandwich_sd[0] == 0 and bootstrap_sd[0] == 0
    assert sandwich_sd[1:] == pytest.approx(bootstrap_sd[1:], rel=0.15)


# --- Through the database and the API ---------------------------------------------------------------------


def cast_length_only_votes(x, y):
    for y_first, y_long, long_wins in length_only_battles():
        answers = (LONG, SHORT) if y_long == y_first else (SHORT, LONG)
        battle = finished_battle(y, x, answers=answers) if y_first else finished_battle(x, y, answers=answers)
        long_side = "a" if answers[0] == LONG else "b"
        outcome = long_side if long_wins else {"a": "b", "b": "a"}[long_side]
        services.vote_cast(token=str(battle.token), outcome=outcome, client_hash=battle.client_hash)


@pytest.mark.django_db
def test_each_vote_stores_its_style_measures_in_words_without_a_base_model(variants, languages):
    base, one, _two = variants  # registered, but their folders do not exist: no tokenizer to load
    battle = finished_battle(one, base, answers=("# Title\n- **one**\n- two", SHORT))
    vote = services.vote_cast(token=str(battle.token), outcome="a", client_hash=battle.client_hash)
    style = VoteStyle.objects.get(vote=vote)
    assert style.tokenizer == WHITESPACE
    assert (style.tokens_a, style.headers_a, style.lists_a, style.bold_a) == (6, 1, 2, 1)
    assert (style.tokens_b, style.headers_b, style.in_language_b, style.degenerate_b) == (6, 0, True, False)


@pytest.mark.django_db
def test_lengths_are_counted_with_the_base_models_tokenizer(tiny_variants, languages):
    from ml.evaluation.repetition import token_ids
    from webapp.judging.fidelity import base_tokenizer

    base, adapter, _other = tiny_variants
    battle = finished_battle(adapter, base, answers=(LONG, SHORT))
    style = services.vote_cast(token=str(battle.token), outcome="b", client_hash=battle.client_hash).style
    assert style.tokenizer == "tiny-base"
    assert (style.tokens_a, style.tokens_b) == (
        len(token_ids(LONG, base_tokenizer())),
        len(token_ids(SHORT, base_tokenizer())),
    )


@pytest.mark.django_db
def test_arena_style_measures_the_votes_stored_before_it(variants, languages):
    base, one, _two = variants
    votes = [
        services.vote_cast(token=str(finished_battle(one, base).token), outcome="a", client_hash="c" * 64)
        for _n in range(3)
    ]
    VoteStyle.objects.filter(vote__in=votes[:2]).delete()
    call_command("arena_style")
    assert VoteStyle.objects.filter(vote__in=votes).count() == 3
    assert VoteStyle.objects.get(vote=votes[0]).tokens_a == 2  # "Answer A"


@pytest.mark.django_db
@override_settings(ARENA_MIN_VOTES=20)
def test_style_controlled_leaderboard_through_the_api(api, variants, languages):
    base, one, _two = variants
    cast_length_only_votes(base, one)
    plain = api(None).get("/api/v1/arena/leaderboard/?language=en").json()
    control = api(None).get("/api/v1/arena/leaderboard/?language=en&style=control").json()
    assert "style" not in plain and plain["ratings"][0]["variant"] == "adapted-one"
    assert plain["ratings"][0]["rating"] == pytest.approx(1000 + ratings.SCALE * np.log(50 / 30), abs=1)
    assert plain["ratings"][0]["ci_low"] > 1000  # the plain board separates them ...
    assert control["style"]["tokenizers"] == [WHITESPACE] and control["style"]["unmeasured_votes"] == 0
    assert set(control["style"]["coefficients"]) == {"length"} and control["style"]["coefficients"]["length"] > 0
    one_row = next(row for row in control["ratings"] if row["variant"] == "adapted-one")
    assert one_row["rating"] == pytest.approx(1000, abs=0.5)  # ... style control does not
    assert one_row["ci_method"] == "sandwich" and one_row["bootstrap"] is None and not one_row["provisional"]
    assert one_row["ci_low"] < 1000 < one_row["ci_high"]
    assert plain["votes_needed"] == [{"higher": "adapted-one", "lower": "base-model", "votes_needed": 0}]
    (separation,) = control["votes_needed"]  # equal ratings: (almost) no number of votes separates them
    assert separation["votes_needed"] is None or separation["votes_needed"] > 100_000
    booted = api(None).get("/api/v1/arena/leaderboard/?style=control&ci=bootstrap").json()["ratings"]
    row = next(row for row in booted if row["variant"] == "adapted-one")
    assert row["ci_method"] == "bootstrap" and (row["ci_low"], row["ci_high"]) == (
        row["bootstrap"]["low"],
        row["bootstrap"]["high"],
    )
    assert api(None).get("/api/v1/arena/leaderboard/?style=other").status_code == 400


@pytest.mark.django_db
def test_ratings_below_the_minimum_are_provisional_without_an_interval(api, variants, languages):
    base, one, _two = variants
    cast_length_only_votes(base, one)
    with override_settings(ARENA_MIN_VOTES=81):
        rows = api(None).get("/api/v1/arena/leaderboard/?language=en&style=control").json()["ratings"]
    assert all(row["provisional"] and row["ci_low"] is None and row["ci_high"] is None for row in rows)
    assert all(row["sandwich"]["low"] <= row["rating"] <= row["sandwich"]["high"] for row in rows)


@pytest.mark.django_db
@override_settings(ARENA_MIN_VOTES=20)
def test_the_arena_tab_and_the_staff_page_show_both_boards(client, staff, variants, languages):
    from webapp.arena import gradio_app

    base, one, _two = variants
    cast_length_only_votes(base, one)
    plain, plain_plot = gradio_app.show_leaderboard("en", "plain")
    control, control_plot = gradio_app.show_leaderboard("en", "control")
    assert plain["data"][0][1] == "adapted-one" and plain["data"][0][2] > 1080
    assert {row[1]: row[2] for row in control["data"]}["adapted-one"] == pytest.approx(1000, abs=0.5)
    assert 'id="board-style"' in control_plot and "length +" in control_plot and "board-style" not in plain_plot
    with override_settings(ARENA_MIN_VOTES=1000):
        provisional, _plot = gradio_app.show_leaderboard("en", "control")
    assert {row[3] for row in provisional["data"]} == {"provisional"}
    client.force_login(staff)
    page = client.get("/arena-stats/").content.decode()
    assert '<a href="?board=style">' in page and "bootstrap" in page
    styled = client.get("/arena-stats/?board=style").content.decode()
    assert '<a href="?board=plain">' in styled and "sandwich" in styled and "<code>length</code>" in styled


@pytest.mark.django_db
def test_arena_style_remeasures_word_counts_once_a_base_model_is_installed(tiny_variants, languages):
    base, adapter, _other = tiny_variants
    vote = services.vote_cast(
        token=str(finished_battle(adapter, base, answers=(LONG, SHORT)).token), outcome="a", client_hash="c" * 64
    )
    VoteStyle.objects.filter(vote=vote).update(tokenizer=WHITESPACE, tokens_a=1)
    call_command("arena_style")  # every vote has measures: nothing to do
    assert VoteStyle.objects.get(vote=vote).tokens_a == 1
    call_command("arena_style", "--remeasure")
    style = VoteStyle.objects.get(vote=vote)
    assert style.tokenizer == "tiny-base" and style.tokens_a > 1
