"""Which two variants meet in the next battle: the pairs whose rating difference is least known.

Pure functions; `services.battle_pair` feeds them the current fit for the prompt's language. A pair
is drawn with probability proportional to the variance of its estimated rating difference,
`Var(r_i - r_j) = C_ii + C_jj - 2 C_ij` with C the fit's covariance (`ratings.covariance`), so a
pair involving a variant with few or lopsided votes is drawn more often than two settled variants. A
variant without votes gets `unrated` (the prior's variance: what the fit would give it). A share
`explore` of draws is uniform over all pairs, so no pair is ever starved, and the sides are shuffled,
so neither variant is always "A".
"""

from itertools import combinations

import numpy as np


def difference_variances(
    candidates: list[int], rated: list[int], cov: np.ndarray, *, unrated: float
) -> dict[tuple[int, int], float]:
    """Variance of the rating difference of every pair of candidates; `rated` names cov's rows."""
    index = {variant: k for k, variant in enumerate(rated)}

    def var(i: int) -> float:
        return cov[index[i], index[i]] if i in index else unrated

    variances = {}
    for i, j in combinations(sorted(candidates), 2):
        covariance = cov[index[i], index[j]] if i in index and j in index else 0.0
        variances[(i, j)] = max(var(i) + var(j) - 2 * covariance, 0.0)
    return variances


def pair_weights(variances: dict[tuple[int, int], float], *, explore: float = 0.1):
    """The pairs and their probability of being drawn."""
    pairs = list(variances)
    if not pairs:
        return pairs, np.zeros(0)
    uncertainty = np.array([variances[pair] for pair in pairs])
    uniform = np.full(len(pairs), 1 / len(pairs))
    if uncertainty.sum() <= 0:
        return pairs, uniform
    return pairs, explore * uniform + (1 - explore) * uncertainty / uncertainty.sum()


def draw_pair(
    variances: dict[tuple[int, int], float], rng: np.random.Generator, *, explore: float = 0.1
) -> tuple[int, int]:
    pairs, weights = pair_weights(variances, explore=explore)
    if not pairs:
        raise ValueError("two variants are needed for a battle")
    first, second = pairs[rng.choice(len(pairs), p=weights)]
    return (first, second) if rng.random() < 0.5 else (second, first)
