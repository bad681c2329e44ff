"""Battles go where the ratings are least certain."""

from collections import Counter

import numpy as np
import pytest

from webapp.arena import sampling


def test_an_uncertain_pair_is_drawn_measurably_more_often_than_a_settled_one():
    # Variants 1 and 2 are settled (narrow intervals); 3 is new (wide interval).
    widths = {1: 20.0, 2: 20.0, 3: 300.0}
    rng = np.random.default_rng(0)
    drawn = Counter(tuple(sorted(sampling.draw_pair(widths, rng))) for _ in range(3000))
    assert drawn[(1, 3)] > 5 * drawn[(1, 2)]
    assert drawn[(2, 3)] > 5 * drawn[(1, 2)]
    assert drawn[(1, 2)] > 0  # exploration: no pair is starved


def test_probabilities_follow_the_variance_of_the_difference():
    pairs, weights = sampling.pair_weights({1: 39.2, 2: 39.2, 3: 78.4}, explore=0.0)
    variance = dict(zip(pairs, weights, strict=True))
    # sd 10, 10, 20: variances of the differences 200, 500, 500.
    assert variance[(1, 2)] == pytest.approx(200 / 1200)
    assert variance[(1, 3)] == pytest.approx(500 / 1200)


def test_sides_are_shuffled():
    rng = np.random.default_rng(1)
    firsts = Counter(sampling.draw_pair({1: 50.0, 2: 50.0}, rng)[0] for _ in range(400))
    assert 150 < firsts[1] < 250


def test_unrated_variants_count_as_most_uncertain():
    widths = sampling.interval_widths([1, 2, 3], {1: (990.0, 1010.0), 2: (950.0, 1100.0)})
    assert widths == {1: 20.0, 2: 150.0, 3: sampling.UNRATED_WIDTH}


def test_one_variant_cannot_battle():
    with pytest.raises(ValueError):
        sampling.draw_pair({1: 10.0}, np.random.default_rng())
