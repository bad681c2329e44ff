"""Bradley–Terry maths against hand-computed cases, and the bootstrap intervals."""

import math

import numpy as np
import pytest

from webapp.arena import ratings

A, B, C = 0, 1, 2


def counts(*games: tuple[int, int, float], n: int = 3):
    a, b, outcome = (np.array(column) for column in zip(*games, strict=True))
    return ratings.tally(a, b, outcome.astype(float), n)


def elo(r: np.ndarray) -> np.ndarray:
    return ratings.BASE_RATING + ratings.SCALE * r


def test_chain_of_comparisons_gives_the_hand_computed_ratings():
    # A beat B twice and lost once; B beat C twice and lost once; A and C never met. On a tree of
    # comparisons each edge is fitted alone: r_A - r_B = r_B - r_C = ln 2, i.e. 400 * log10(2) points.
    wins, ties = counts((A, B, 1), (A, B, 1), (A, B, 0), (B, C, 1), (C, B, 0), (B, C, 0))
    rating = elo(ratings.fit(wins, ties, anchor=C))
    step = 400 * math.log10(2)
    assert rating == pytest.approx([1000 + 2 * step, 1000 + step, 1000], abs=1e-6)
    assert step == pytest.approx(120.41, abs=0.01)


def test_a_tie_counts_as_half_a_win_for_each_side():
    # 1 win and 2 ties for A against B is 2 wins to 1: the same fit as two wins and one loss.
    with_ties = counts((A, B, 1), (A, B, 0.5), (B, A, 0.5), n=2)
    decided = counts((A, B, 1), (A, B, 1), (A, B, 0), n=2)
    assert ratings.fit(*with_ties, anchor=B) == pytest.approx(ratings.fit(*decided, anchor=B), abs=1e-9)
    assert elo(ratings.fit(*with_ties, anchor=B))[A] == pytest.approx(1000 + 400 * math.log10(2), abs=1e-6)


def test_balanced_results_rate_everyone_equally():
    wins, ties = counts((A, B, 1), (B, A, 1), (B, C, 1), (C, B, 1), (A, C, 0.5))
    assert elo(ratings.fit(wins, ties, anchor=A)) == pytest.approx([1000, 1000, 1000], abs=1e-6)


def test_without_an_anchor_the_mean_is_1000():
    wins, ties = counts((A, B, 1), (A, B, 1), (A, B, 0), (B, C, 1))
    for l2 in (0.0, 0.01):
        assert elo(ratings.fit(wins, ties, l2=l2)).mean() == pytest.approx(1000, abs=1e-6)


def test_a_small_penalty_keeps_an_undefeated_variant_finite():
    wins, ties = counts((A, B, 1), (A, B, 1), n=2)
    r = ratings.fit(wins, ties, anchor=B, l2=0.01)
    assert np.isfinite(r).all() and r[A] > 1


def test_fit_recovers_known_strengths_from_simulated_votes():
    rng = np.random.default_rng(7)
    truth = np.array([0.0, 0.5, -0.3, 1.0])
    a = rng.integers(0, 4, 20_000)
    b = (a + rng.integers(1, 4, 20_000)) % 4
    p = 1 / (1 + np.exp(-(truth[a] - truth[b])))
    outcome = (rng.random(20_000) < p).astype(float)
    r = ratings.fit(*ratings.tally(a, b, outcome, 4), anchor=0)
    assert r == pytest.approx(truth, abs=0.1)


def percentile_interval(wins, ties, anchor, rounds=200, seed=0):
    point = ratings.fit(wins, ties, anchor=anchor)
    samples = ratings.bootstrap(wins, ties, rounds=rounds, anchor=anchor, seed=seed, start=point)
    return point, np.percentile(samples, [2.5, 97.5], axis=0)


def test_bootstrap_intervals_contain_the_estimate_and_narrow_with_more_votes():
    few = counts(*[(A, B, 1)] * 6, *[(A, B, 0)] * 4, n=2)
    many = counts(*[(A, B, 1)] * 60, *[(A, B, 0)] * 40, n=2)
    point_few, (low_few, high_few) = percentile_interval(*few, anchor=B)
    point_many, (low_many, high_many) = percentile_interval(*many, anchor=B)
    assert low_few[A] <= point_few[A] <= high_few[A] and low_many[A] <= point_many[A] <= high_many[A]
    assert low_few[B] == high_few[B] == 0  # the anchor does not move
    assert high_many[A] - low_many[A] < high_few[A] - low_few[A]


def test_bootstrap_is_reproducible():
    wins, ties = counts((A, B, 1), (A, C, 1), (B, C, 1), (C, A, 1), (A, B, 1))
    first = ratings.bootstrap(wins, ties, rounds=50, anchor=C, l2=0.01, seed=3)
    assert (first == ratings.bootstrap(wins, ties, rounds=50, anchor=C, l2=0.01, seed=3)).all()


def test_sandwich_matches_the_bootstrap_on_simulated_votes():
    rng = np.random.default_rng(11)
    truth = np.array([0.0, 0.4, -0.2, 0.8])
    a = rng.integers(0, 4, 5000)
    b = (a + rng.integers(1, 4, 5000)) % 4
    outcome = (rng.random(5000) < 1 / (1 + np.exp(-(truth[a] - truth[b])))).astype(float)
    outcome[rng.random(5000) < 0.15] = 0.5
    wins, ties = ratings.tally(a, b, outcome, 4)
    point = ratings.fit(wins, ties, anchor=0, l2=0.01)
    sandwich_sd = np.sqrt(np.diag(ratings.sandwich(wins, ties, point, anchor=0, l2=0.01)))
    bootstrap_sd = ratings.bootstrap(wins, ties, rounds=400, anchor=0, l2=0.01, start=point).std(axis=0)
    assert sandwich_sd[0] == 0 and bootstrap_sd[0] == 0
    assert sandwich_sd[1:] == pytest.approx(bootstrap_sd[1:], rel=0.12)
    # where the model holds, the sandwich is close to the inverse information; ties shrink it a little
    model_sd = np.sqrt(np.diag(ratings.covariance(wins, ties, point, anchor=0, l2=0.01)))
    assert sandwich_sd[1:] == pytest.approx(model_sd[1:], rel=0.12)


def test_votes_needed_follows_the_documented_formula_on_a_hand_case():
    # difference 0.2, variance 0.02 after 100 votes: separation needs 1.96^2 * 0.02 / 0.2^2 = 1.9208 times
    # the votes, i.e. 92.08 more: 93
    assert ratings.votes_needed(0.2, 0.02, 100, z=1.96) == 93
    assert ratings.votes_needed(-0.2, 0.02, 100, z=1.96) == 93  # the sign does not matter
    assert ratings.votes_needed(0.5, 0.02, 100) == 0  # already apart: 1.96 * 0.141 < 0.5
    assert ratings.votes_needed(0.0, 0.02, 100) is None  # equal ratings never separate
    assert ratings.votes_needed(0.2, 0.02, 0) is None
