"""Bradley–Terry ratings by maximum likelihood, on the Elo scale, with bootstrap intervals.

Pure numpy/scipy; no Django. The model: P(i beats j) = 1 / (1 + exp(-(r_i - r_j))) with r in natural
units, shown as `1000 + SCALE * r` where SCALE = 400 / ln 10 (so 400 points are 10:1 odds). One
variant, the anchor, is fixed at r = 0 (1000 points); without an anchor the mean is 1000.

Votes are aggregated per ordered pair before fitting, so the cost of a fit depends on the number of
variants, not of votes:
* `wins[i, j]`: votes where i beat j; `ties[i, j]` (symmetric): tie or both-bad votes between them.
* A tie counts as two half-weight outcomes: half a win for each side (`W = wins + ties / 2`).

The log-likelihood, `sum_ij W_ij log sigmoid(r_i - r_j)`, is concave; Newton's method with the exact
Hessian converges in a handful of steps. `l2` adds `-(l2 / 2) * |r|^2`: zero gives the exact MLE (which
does not exist when a variant won or lost every game); the leaderboard uses a tiny value so such
variants get large but finite ratings instead of a failed fit.

Bootstrap: resampling the N votes with replacement is the same as drawing the counts of the
(pair, outcome) cells from Multinomial(N, observed cell frequencies), which costs O(cells) per round.
"""

import math

import numpy as np
from scipy.special import expit, log_expit

SCALE = 400 / math.log(10)
BASE_RATING = 1000.0
Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def tally(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Count matrices from vote arrays: `a`, `b` variant indexes, `outcome` 1 (a won), 0 (b won),
    0.5 (tie or both bad)."""
    wins = np.zeros((n, n))
    ties = np.zeros((n, n))
    np.add.at(wins, (a[outcome == 1], b[outcome == 1]), 1)
    np.add.at(wins, (b[outcome == 0], a[outcome == 0]), 1)
    tied = outcome == 0.5
    np.add.at(ties, (a[tied], b[tied]), 1)
    np.add.at(ties, (b[tied], a[tied]), 1)
    return wins, ties


def fit(
    wins: np.ndarray, ties: np.ndarray, *, anchor: int | None = None, l2: float = 0.0, start: np.ndarray | None = None
) -> np.ndarray:
    """Ratings in natural units (anchor at 0, or mean 0 without one)."""
    weights = wins + ties / 2
    return _newton(weights, anchor=anchor, l2=l2, start=start)


def _newton(weights: np.ndarray, *, anchor: int | None, l2: float, start: np.ndarray | None) -> np.ndarray:
    n = weights.shape[0]
    games = weights + weights.T
    free = np.array([i for i in range(n) if i != (anchor if anchor is not None else 0)])
    if anchor is None and l2 > 0:
        free = np.arange(n)  # the penalty identifies the scale's origin
    r = np.zeros(n) if start is None else start.copy()
    if anchor is not None:
        r -= r[anchor]
    objective = _objective(weights, l2, r)
    for _ in range(100):
        p = expit(r[:, None] - r[None, :])
        gradient = (weights - games * p).sum(axis=1) - l2 * r
        information = games * p * (1 - p)
        hessian = np.diag(information.sum(axis=1)) - information + l2 * np.eye(n)
        g, h = gradient[free], hessian[np.ix_(free, free)]
        if np.max(np.abs(g), initial=0.0) < 1e-9 * max(1.0, games.sum()):
            break
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        r, objective = _line_search(weights, l2, r, free, step, objective)
    if anchor is None and l2 == 0:
        r -= r.mean()
    return r


def _objective(weights: np.ndarray, l2: float, r: np.ndarray) -> float:
    return float((weights * log_expit(r[:, None] - r[None, :])).sum() - l2 / 2 * (r @ r))


def _line_search(weights, l2, r, free, step, objective) -> tuple[np.ndarray, float]:
    """Backtracking: Newton's full step is taken near the optimum; far from it (or with separated
    data, where the MLE is at infinity) the step is halved until the likelihood improves."""
    for _ in range(30):
        candidate = r.copy()
        candidate[free] += step
        value = _objective(weights, l2, candidate)
        if value >= objective - 1e-12 * abs(objective):
            return candidate, value
        step = step / 2
    return r, objective


def covariance(
    wins: np.ndarray, ties: np.ndarray, r: np.ndarray, *, anchor: int | None = None, l2: float = 0.0
) -> np.ndarray:
    """Approximate covariance of fitted ratings (natural units): the inverse of the observed
    information, i.e. of the negative Hessian of the penalised log-likelihood at `r`, the anchor held
    fixed (its row and column are zero). Unlike a percentile interval it does not collapse when a pair
    has a single vote (every bootstrap round then redraws that same vote)."""
    n = len(r)
    free = [i for i in range(n) if i != anchor]
    result = np.zeros((n, n))
    result[np.ix_(free, free)] = np.linalg.pinv(_information(wins, ties, r, l2)[np.ix_(free, free)])
    return result


def sandwich(
    wins: np.ndarray, ties: np.ndarray, r: np.ndarray, *, anchor: int | None = None, l2: float = 0.0
) -> np.ndarray:
    """The sandwich (robust) covariance of fitted ratings, `H^-1 J H^-1`, in closed form: `H` the observed
    information (as in `covariance`), `J` the sum over votes of the outer products of each vote's score
    (the gradient of its log-likelihood). A vote between i and j with result y for i (1, 0, or 1/2 for a
    tie) has score `(y - p_ij) (e_i - e_j)`, so `J` needs only the counts: per pair,
    `M_ij = wins_ij (1 - p_ij)^2 + wins_ji p_ij^2 + ties_ij (1/2 - p_ij)^2`, `J = diag(M 1) - M`.
    Where the model fits, `J` is close to `H` and this is close to `covariance`; ties and a misfit widen it.
    The anchor is held fixed (zero row and column)."""
    p = expit(r[:, None] - r[None, :])
    scores = wins * (1 - p) ** 2 + wins.T * p**2 + ties * (0.5 - p) ** 2
    n = len(r)
    free = [i for i in range(n) if i != anchor]
    outer = np.diag(scores.sum(axis=1)) - scores
    inverse = np.linalg.pinv(_information(wins, ties, r, l2)[np.ix_(free, free)])
    result = np.zeros((n, n))
    result[np.ix_(free, free)] = inverse @ outer[np.ix_(free, free)] @ inverse
    return result


def _information(wins: np.ndarray, ties: np.ndarray, r: np.ndarray, l2: float) -> np.ndarray:
    weights = wins + ties / 2
    games = weights + weights.T
    p = expit(r[:, None] - r[None, :])
    information = games * p * (1 - p)
    return np.diag(information.sum(axis=1)) - information + l2 * np.eye(len(r))


def votes_needed(difference: float, variance: float, votes: int, *, z: float = Z95) -> int | None:
    """More votes, in the current mix of pairs, until the 95% interval of a rating difference excludes 0.

    The variance of a fitted difference falls as 1/N with the number of votes N, so after m more votes it
    is `variance * N / (N + m)`; separation needs `z * sqrt(that) < |difference|`, hence
    `m = ceil(N * (z^2 * variance / difference^2 - 1))`, 0 when already separated. None when the
    difference is 0 (no number of votes separates two equal ratings) or nothing is known yet."""
    if votes <= 0 or difference == 0 or not np.isfinite(variance):
        return None
    return max(0, math.ceil(votes * (z * z * variance / difference**2 - 1) - 1e-9))


def bootstrap(
    wins: np.ndarray,
    ties: np.ndarray,
    *,
    rounds: int,
    anchor: int | None = None,
    l2: float = 0.0,
    seed: int = 0,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """`rounds` x n ratings (natural units), each fitted on votes resampled with replacement."""
    n = wins.shape[0]
    upper = np.triu_indices(n, 1)
    cells = np.concatenate([wins.ravel(), ties[upper]])
    total = int(round(cells.sum()))
    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, n))
    if total == 0:
        samples[:] = 0.0
        return samples
    draws = rng.multinomial(total, cells / cells.sum(), size=rounds)
    for k, draw in enumerate(draws):
        w = draw[: n * n].reshape(n, n).astype(float)
        t = np.zeros((n, n))
        t[upper] = draw[n * n :]
        t += t.T
        samples[k] = fit(w, t, anchor=anchor, l2=l2, start=start)
    return samples


def to_elo(r: float) -> float:
    return BASE_RATING + SCALE * float(r)
