"""Which two variants meet in the next battle: the pairs whose rating difference is least known.

Pure functions; `services.battle_pair` feeds them the current leaderboard of the prompt's language.
A pair's weight is the variance of its rating difference, estimated from the bootstrap intervals
(`(width / 3.92)^2` per variant, the 95% interval of a normal being 3.92 standard deviations wide),
so a pair with a wide interval on either side is drawn more often than two settled variants. A
variant without votes counts as maximally uncertain. A share `explore` of draws is uniform over all
pairs so no pair is ever starved. The sides are shuffled, so neither variant is always "A".
"""

from itertools import combinations

import numpy as np

UNRATED_WIDTH = 1000.0  # Elo points: a variant never compared is treated as this uncertain


def pair_weights(widths: dict[int, float], *, explore: float = 0.1) -> tuple[list[tuple[int, int]], np.ndarray]:
    """All unordered pairs of the given variants and their probability of being drawn."""
    ids = sorted(widths)
    pairs = list(combinations(ids, 2))
    if not pairs:
        return pairs, np.zeros(0)
    variance = {i: (max(widths[i], 1e-6) / 3.92) ** 2 for i in ids}
    uncertainty = np.array([variance[i] + variance[j] for i, j in pairs])
    uniform = np.full(len(pairs), 1 / len(pairs))
    return pairs, explore * uniform + (1 - explore) * uncertainty / uncertainty.sum()


def draw_pair(widths: dict[int, float], rng: np.random.Generator, *, explore: float = 0.1) -> tuple[int, int]:
    pairs, weights = pair_weights(widths, explore=explore)
    if not pairs:
        raise ValueError("two variants are needed for a battle")
    first, second = pairs[rng.choice(len(pairs), p=weights)]
    return (first, second) if rng.random() < 0.5 else (second, first)


def interval_widths(candidates: list[int], rated: dict[int, tuple[float, float]]) -> dict[int, float]:
    """Interval width per candidate variant; `rated` maps variant id -> (ci_low, ci_high)."""
    widths = {}
    for variant in candidates:
        low_high = rated.get(variant)
        widths[variant] = UNRATED_WIDTH if low_high is None else max(low_high[1] - low_high[0], 1.0)
    return widths
