"""Bradley–Terry with style covariates ("style control", LMArena's method), with sandwich and bootstrap
intervals. Pure numpy/scipy; no Django.

The model, for a vote between a and b with style features `s` (one row per vote):
`P(a beats b) = sigmoid(r_a - r_b + s . beta)`. The ratings `r` are what the plain fit (ratings.py) rates,
now with the style differences between the two answers held fixed; `beta` says how much each style
feature moves a vote on its own. The log-likelihood is that of a logistic regression with soft labels
(a win 1, a loss 0, a tie or both bad 1/2: half a win for each side, as in the plain fit).

Features (`features`): for counts (length, headers, list items, bold spans) `(fA - fB) / (fA + fB + 1)`;
for yes/no measures (answered in the prompt's language, degenerate) `fA - fB`; each column then
standardised to mean 0 and standard deviation 1 (so a coefficient is log-odds per standard deviation),
and a column with zero variance dropped (nothing to learn from it, and it would make the fit singular).

Penalty: the ratings keep the plain fit's small ridge (`l2 / 2 * |r|^2`); the style coefficients are not
penalised. Newton's method with the exact Hessian, whose blocks are aggregated so a step costs
O(votes * features^2): the rating block per pair of variants (bincount), the cross block per variant,
the style block as `S^T diag(q) S`. The products go through `einsum`, not BLAS: they are too small
to gain from BLAS's threads, which on a busy machine lose several times over to waiting.

Intervals: the sandwich `H^-1 J H^-1` (H the observed information, J the sum of outer products of the
votes' scores, both in closed form), and optionally the bootstrap (votes resampled with replacement as
multinomial weights, each round warm-started at the fit)."""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

COUNT_FEATURES = ("length", "headers", "lists", "bold")
FLAG_FEATURES = ("in_language", "degenerate")


@dataclass(frozen=True)
class Votes:
    """One row per vote: variant indexes `a`, `b`, result `y` for a (1, 0, 1/2), standardised style
    features (votes x k) and their names."""

    a: np.ndarray
    b: np.ndarray
    y: np.ndarray
    style: np.ndarray
    names: tuple[str, ...]
    n: int


def features(side_a: dict[str, np.ndarray], side_b: dict[str, np.ndarray]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Standardised feature columns (votes x k) from each side's raw measures, and the names kept."""
    columns, names = [], []
    for name in (name for name in (*COUNT_FEATURES, *FLAG_FEATURES) if name in side_a):
        fa, fb = side_a[name].astype(float), side_b[name].astype(float)
        column = (fa - fb) / (fa + fb + 1) if name in COUNT_FEATURES else fa - fb
        sd = column.std()
        if sd > 1e-12:
            columns.append((column - column.mean()) / sd)
            names.append(name)
    votes = len(next(iter(side_a.values()))) if side_a else 0
    return (np.column_stack(columns) if columns else np.zeros((votes, 0))), tuple(names)


class _Design:
    """The fixed parts of the model for one set of votes, and its aggregated products. Sums per variant
    go through the ordered pair of each vote (one bincount into n x n cells, then rows minus columns)."""

    def __init__(self, votes: Votes, anchor: int | None, l2: float) -> None:
        self.votes, self.l2, self.n, self.k = votes, l2, votes.n, votes.style.shape[1]
        self.pair = votes.a * votes.n + votes.b
        self.free = np.array([i for i in range(self.n) if i != anchor] + list(range(self.n, self.n + self.k)))
        if anchor is None and l2 == 0:
            self.free = self.free[1:]  # the ratings' origin: fixed by variant 0, then moved to a mean of 0

    def logits(self, theta: np.ndarray) -> np.ndarray:
        r, beta = theta[: self.n], theta[self.n :]
        d = (r[:, None] - r[None, :]).ravel()[self.pair]
        return d + np.einsum("vk,k->v", self.votes.style, beta) if self.k else d

    def objective(self, theta: np.ndarray, d: np.ndarray, weights: np.ndarray) -> float:
        # y log s(d) + (1 - y) log s(-d) = y d + log s(-d)
        r = theta[: self.n]
        return float(np.einsum("v,v->", weights, self.votes.y * d + log_expit(-d)) - self.l2 / 2 * (r @ r))

    def by_variant(self, values: np.ndarray) -> np.ndarray:
        """Sum of `values` with + for side a and - for side b, per variant."""
        cells = np.bincount(self.pair, values, self.n * self.n).reshape(self.n, self.n)
        return cells.sum(axis=1) - cells.sum(axis=0)

    def gradient(self, theta: np.ndarray, weights: np.ndarray, p: np.ndarray) -> np.ndarray:
        residual = weights * (self.votes.y - p)
        g_r = self.by_variant(residual) - self.l2 * theta[: self.n]
        return np.concatenate([g_r, np.einsum("vk,v->k", self.votes.style, residual)])

    def outer(self, c: np.ndarray) -> np.ndarray:
        """`X^T diag(c) X` for the design X = [e_a - e_b | s], from its blocks."""
        n, s = self.n, self.votes.style
        q = np.bincount(self.pair, c, n * n).reshape(n, n)
        q = q + q.T
        top_left = np.diag(q.sum(axis=1)) - q
        weighted = c[:, None] * s
        top_right = np.column_stack([self.by_variant(column) for column in weighted.T]) if self.k else np.zeros((n, 0))
        return np.block([[top_left, top_right], [top_right.T, np.einsum("vi,vj->ij", s, weighted)]])

    def information(self, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
        h = self.outer(weights * p * (1 - p))
        h[: self.n, : self.n] += self.l2 * np.eye(self.n)
        return h


def fit(
    votes: Votes,
    *,
    anchor: int | None = None,
    l2: float = 0.0,
    weights: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """`theta` = ratings (n, natural units; anchor at 0, or mean 0 without one) then the k coefficients."""
    design = _Design(votes, anchor, l2)
    weights = np.ones(len(votes.y)) if weights is None else weights
    theta = np.zeros(design.n + design.k) if start is None else start.copy()
    if anchor is not None:
        theta[: design.n] -= theta[anchor]
    free = design.free
    d = design.logits(theta)
    objective = design.objective(theta, d, weights)
    for _ in range(100):
        p = expit(d)
        g = design.gradient(theta, weights, p)[free]
        if np.max(np.abs(g), initial=0.0) < 1e-9 * max(1.0, weights.sum()):
            break
        h = design.information(p, weights)[np.ix_(free, free)]
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        theta, d, objective = _line_search(design, weights, theta, free, step, objective)
        if d is None:
            break
    if anchor is None and l2 == 0:
        theta[: design.n] -= theta[: design.n].mean()
    return theta


def _line_search(design, weights, theta, free, step, objective):
    """Newton's full step near the optimum; halved until the likelihood improves far from it. Returns
    logits None when no step improves (converged to rounding)."""
    for _ in range(30):
        candidate = theta.copy()
        candidate[free] += step
        d = design.logits(candidate)
        value = design.objective(candidate, d, weights)
        if value >= objective - 1e-12 * abs(objective):
            return candidate, d, value
        step = step / 2
    return theta, None, objective


def sandwich(votes: Votes, theta: np.ndarray, *, anchor: int | None = None, l2: float = 0.0) -> np.ndarray:
    """Covariance of `theta` (ratings then coefficients), `H^-1 J H^-1`; the anchor's row and column zero."""
    design = _Design(votes, anchor, l2)
    weights = np.ones(len(votes.y))
    p = expit(design.logits(theta))
    free = design.free
    inverse = np.linalg.pinv(design.information(p, weights)[np.ix_(free, free)])
    outer = design.outer((votes.y - p) ** 2)[np.ix_(free, free)]
    result = np.zeros((len(theta), len(theta)))
    result[np.ix_(free, free)] = inverse @ outer @ inverse
    return result


def bootstrap(
    votes: Votes, *, rounds: int, anchor: int | None = None, l2: float = 0.0, seed: int = 0, start: np.ndarray
) -> np.ndarray:
    """`rounds` x len(theta) fits, each on the votes resampled with replacement (the same standardised
    features: the resampling is of votes, not of the standardisation)."""
    rng = np.random.default_rng(seed)
    total = len(votes.y)
    samples = np.empty((rounds, len(start)))
    for k in range(rounds):
        weights = np.bincount(rng.integers(0, total, total), minlength=total).astype(float)
        samples[k] = fit(votes, anchor=anchor, l2=l2, weights=weights, start=start)
    return samples
