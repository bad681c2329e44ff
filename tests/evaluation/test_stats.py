"""Wilson intervals, the exact McNemar test and Newcombe's paired difference interval against figures
computed by hand or published."""

import math

import pytest

from ml.evaluation.stats import mcnemar_exact, paired_difference, wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # the usual textbook values
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (4, 4, 0.5101, 1.0),  # centre (1 + z²/8) / (1 + z²/4) = 0.7551, half z·sqrt(z²/64) / (1 + z²/4) = 0.2450
    ],
)
def test_wilson_interval(k, n, low, high):
    assert wilson(k, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_by_hand():
    # 4 of 5: centre (0.8 + z²/10) / (1 + z²/5), half z·sqrt(0.16/5 + z²/100) / (1 + z²/5), z = 1.96
    z2 = 1.96**2
    centre = (0.8 + z2 / 10) / (1 + z2 / 5)
    half = 1.96 * math.sqrt(0.032 + z2 / 100) / (1 + z2 / 5)
    assert (round(centre - half, 4), round(centre + half, 4)) == (0.3755, 0.9638)
    assert wilson(4, 5) == pytest.approx((0.3755, 0.9638), abs=5e-5)
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (0, 0, 1.0),  # no discordant prompt: no evidence
        (0, 3, 0.25),  # 2 x (1/2)^3
        (3, 0, 0.25),
        (1, 4, 0.375),  # 2 x (C(5,0) + C(5,1)) / 32 = 2 x 6/32
        (3, 3, 1.0),  # 2 x 42/64 > 1: capped
        (6, 16, 2 * 110056 / 2**22),  # C(22,0..6) = 1+22+231+1540+7315+26334+74613 = 110056
    ],
)
def test_exact_mcnemar(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, rel=1e-12)


def test_mcnemar_refuses_negative_counts():
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def series(both: int, only_a: int, only_b: int, neither: int) -> tuple[list[bool], list[bool]]:
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return a, b


def test_newcombe_paired_interval_matches_the_published_example():
    # Cavo et al. (2012) as in Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables"
    # (2017), chapter 8: a = 59, b = 6, c = 16, d = 80; Newcombe square-and-add -0.0621 (-0.1186 to -0.0046).
    d = paired_difference(*series(59, 6, 16, 80))
    assert (d.n, d.both, d.only_a, d.only_b, d.neither) == (161, 59, 6, 16, 80)
    assert d.estimate == pytest.approx(-10 / 161)
    assert (round(d.estimate, 4), round(d.ci_low, 4), round(d.ci_high, 4)) == (-0.0621, -0.1186, -0.0046)
    assert d.p_value == pytest.approx(2 * 110056 / 2**22)


def test_newcombe_without_correlation_is_the_square_and_add_of_the_wilson_intervals():
    # a = 2, b = 2, c = 0, d = 1: ad - bc = 2 <= n/2 = 2.5, so phi = 0 and the interval is
    # 0.4 -/+ sqrt((p1 - l1)^2 + (u2 - p2)^2) with p1 = 4/5, p2 = 2/5.
    d = paired_difference(*series(2, 2, 0, 1))
    l1, u1 = wilson(4, 5)
    l2, u2 = wilson(2, 5)
    assert d.estimate == pytest.approx(0.4)
    assert d.ci_low == pytest.approx(0.4 - math.hypot(0.8 - l1, u2 - 0.4))
    assert d.ci_high == pytest.approx(0.4 + math.hypot(u1 - 0.8, 0.4 - l2))


def test_identical_series_have_no_difference_but_an_interval():
    d = paired_difference(*series(7, 0, 0, 3))
    assert d.estimate == 0.0 and d.ci_low < 0.0 < d.ci_high
    assert d.p_value == 1.0
    assert paired_difference([True] * 5, [False] * 5).ci_high <= 1.0
    empty = paired_difference([], [])
    assert (empty.n, empty.ci_low, empty.ci_high) == (0, -1.0, 1.0)
    with pytest.raises(ValueError):
        paired_difference([True], [])
