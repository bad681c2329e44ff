"""Battles go where the ratings are least certain, per language."""

from collections import Counter

import numpy as np
import pytest

from tests.arena.conftest import finished_battle
from webapp.arena import ratings, sampling, services
from webapp.feedback.services.languages import language_get_or_create


def test_an_uncertain_pair_is_drawn_measurably_more_often_than_a_settled_one():
    # 1 vs 2 is settled (small variance of the difference); 3 is new.
    variances = sampling.difference_variances([1, 2, 3], [1, 2], np.array([[0.01, 0.0], [0.0, 0.01]]), unrated=1.0)
    rng = np.random.default_rng(0)
    drawn = Counter(tuple(sorted(sampling.draw_pair(variances, rng))) for _ in range(3000))
    assert drawn[(1, 3)] > 5 * drawn[(1, 2)]
    assert drawn[(2, 3)] > 5 * drawn[(1, 2)]
    assert drawn[(1, 2)] > 0  # exploration: no pair is starved


def test_the_variance_of_a_difference_accounts_for_covariance():
    cov = np.array([[2.0, 1.5], [1.5, 2.0]])
    assert sampling.difference_variances([7, 8], [7, 8], cov, unrated=9.0) == {(7, 8): pytest.approx(1.0)}
    assert sampling.difference_variances([7, 9], [7, 8], cov, unrated=9.0) == {(7, 9): pytest.approx(11.0)}


def test_sides_are_shuffled():
    rng = np.random.default_rng(1)
    firsts = Counter(sampling.draw_pair({(1, 2): 1.0}, rng)[0] for _ in range(400))
    assert 150 < firsts[1] < 250


def test_one_variant_cannot_battle():
    with pytest.raises(ValueError):
        sampling.draw_pair({}, np.random.default_rng())


def test_covariance_shrinks_with_votes_and_a_single_vote_stays_uncertain():
    one = ratings.tally(np.array([0]), np.array([1]), np.array([1.0]), 2)
    many = ratings.tally(np.zeros(100, int), np.ones(100, int), np.tile([1.0, 0.0], 50), 2)
    var_one = ratings.covariance(*one, ratings.fit(*one, anchor=1, l2=0.01), anchor=1, l2=0.01)[0, 0]
    var_many = ratings.covariance(*many, ratings.fit(*many, anchor=1), anchor=1)[0, 0]
    assert var_many == pytest.approx(4 / 100, rel=1e-6)  # 1 / (n p (1 - p)) at p = 1/2
    assert var_one > 50 * var_many


@pytest.mark.django_db
def test_battles_in_a_language_favour_its_least_known_pairs(variants, languages):
    base, one, two = variants
    for outcome in ["a", "b"] * 40:  # base vs one is settled in German only
        services.vote_cast(
            token=str(finished_battle(one, base, language="de").token), outcome=outcome, client_hash="c" * 64
        )
    rng = np.random.default_rng(2)
    german = Counter(
        frozenset(v.name for v in services.battle_pair(language=language_get_or_create("de"), rng=rng))
        for _ in range(400)
    )
    english = Counter(
        frozenset(v.name for v in services.battle_pair(language=language_get_or_create("en"), rng=rng))
        for _ in range(400)
    )
    settled = frozenset({"base-model", "adapted-one"})
    assert german[settled] < 40  # about the 10% exploration share's third
    assert 90 < english[settled] < 180  # nothing known in English: every pair alike
