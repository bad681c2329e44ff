"""Intervals and tests over counts of in-language answers.

* `wilson(k, n)`: the 95% Wilson score interval of a proportion (the same formula as
  `ml.training.evaluate.wilson`, except that n = 0 gives the uninformative (0, 1)).
* `mcnemar_exact(b, c)`: the exact McNemar test of two variants answering the same prompts: under the
  null hypothesis each of the b + c discordant prompts (exactly one variant in-language) is equally
  likely to favour either, so min(b, c) is Binomial(b + c, 1/2); the two-sided p-value is
  min(1, 2 P(X <= min(b, c))), and 1 when there is no discordant prompt.
* `paired_difference(a, b)`: the difference in the share of successes between two paired series
  (variant A's fidelity minus B's over the same prompts) with Newcombe's hybrid score interval for paired
  data (Newcombe 1998, "Improved confidence intervals for the difference between binomial proportions
  based on paired data", Statistics in Medicine 17, method 10): the Wilson intervals of both shares,
  squared and added, corrected by the estimated correlation phi of the pairs. phi =
  (ad - bc - n/2) / sqrt(product of the four margins) when ad - bc > n/2, 0 when 0 <= ad - bc <= n/2,
  (ad - bc) / sqrt(...) when negative, 0 when a margin is empty; a = both succeed, b = only A, c = only
  B, d = neither. Unlike a Wald interval on the paired differences it keeps its coverage near 0 and 1
  and has a width when there are few discordant pairs. The bounds stay within [-1, 1]."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact bounds where rounding would miss them
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (b: only A, c: only B)."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts cannot be negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(math.comb(n, k) for k in range(min(b, c) + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


@dataclass(frozen=True)
class PairedDifference:
    n: int
    both: int  # a: both series succeed
    only_a: int  # b
    only_b: int  # c
    neither: int  # d
    estimate: float  # share(A) - share(B) = (b - c) / n
    ci_low: float
    ci_high: float

    @property
    def p_value(self) -> float:
        """The exact McNemar test of the same pairs."""
        return mcnemar_exact(self.only_a, self.only_b)


def paired_difference(a: Sequence[bool], b: Sequence[bool], z: float = Z95) -> PairedDifference:
    if len(a) != len(b):
        raise ValueError("paired series must have the same length")
    n = len(a)
    both = sum(x and y for x, y in zip(a, b, strict=True))
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    neither = n - both - only_a - only_b
    if n == 0:
        return PairedDifference(0, 0, 0, 0, 0, 0.0, -1.0, 1.0)
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson(both + only_a, n, z)
    l2, u2 = wilson(both + only_b, n, z)
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    cross = both * neither - only_a * only_b
    if margins == 0 or 0 <= cross <= n / 2:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(margins)
    else:
        phi = cross / math.sqrt(margins)
    estimate = p1 - p2
    low = estimate - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = estimate + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return PairedDifference(n, both, only_a, only_b, neither, estimate, max(-1.0, low), min(1.0, high))
