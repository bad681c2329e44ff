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


def test_bootstrap_intervals_contain_the_estimate_and_narrow_with_more_votes():
    few = counts(*[(A, B, 1)] * 6, *[(A, B, 0)] * 4, n=2)
    many = counts(*[(A, B, 1)] * 60, *[(A, B, 0)] * 40, n=2)
    board_few = {row.index: row for row in ratings.leaderboard(*few, anchor=B, rounds=200)}
    board_many = {row.index: row for row in ratings.leaderboard(*many, anchor=B, rounds=200)}
    for board in (board_few, board_many):
        assert board[A].ci_low <= board[A].rating <= board[A].ci_high
        assert board[B].rating == pytest.approx(1000)
    assert board_many[A].ci_high - board_many[A].ci_low < board_few[A].ci_high - board_few[A].ci_low
    assert board_many[A].votes == 100


def test_leaderboard_is_sorted_best_first_and_reproducible():
    wins, ties = counts((A, B, 1), (A, C, 1), (B, C, 1), (C, A, 1), (A, B, 1))
    first = ratings.leaderboard(wins, ties, anchor=C, rounds=50, l2=0.01, seed=3)
    again = ratings.leaderboard(wins, ties, anchor=C, rounds=50, l2=0.01, seed=3)
    assert [row.rating for row in first] == sorted((row.rating for row in first), reverse=True)
    assert first == again
