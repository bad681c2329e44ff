"""Leaderboard maths: our Bradley–Terry fit + bootstrap vs scikit-learn's logistic regression.

    .venv/bin/python bench/leaderboard.py [--votes 100000] [--variants 20] [--rounds 100] [--quick]

Synthetic votes among `--variants` variants with known strengths (10% ties). Ours (webapp/arena/ratings.py)
aggregates the votes into per-pair counts, fits by Newton's method and bootstraps by drawing the
counts from a multinomial. The baseline is the textbook route: one row per vote (a tie as two rows of
weight 1/2), `LogisticRegression(C=inf, fit_intercept=False)` (`penalty=None` is deprecated since
scikit-learn 1.8; C=inf is the same unpenalised fit), the bootstrap resampling rows and refitting. Both
fix variant 0 at 1000. The run fails unless the two point estimates agree within 1 rating point.
`--quick` times the baseline's bootstrap on 10 rounds and scales it to `--rounds` (marked in the table).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_table  # noqa: E402
from webapp.arena import ratings  # noqa: E402


def synthetic_votes(n_votes: int, n_variants: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 0.6, n_variants)
    a = rng.integers(0, n_variants, n_votes)
    b = (a + rng.integers(1, n_variants, n_votes)) % n_variants
    p_a = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    outcome = (rng.random(n_votes) < p_a).astype(float)
    outcome[rng.random(n_votes) < 0.1] = 0.5
    return a, b, outcome


def ours(a, b, outcome, n: int, rounds: int) -> tuple[np.ndarray, float, float]:
    start = time.perf_counter()
    wins, ties = ratings.tally(a, b, outcome, n)
    point = ratings.fit(wins, ties, anchor=0)
    fit_seconds = time.perf_counter() - start
    ratings.bootstrap(wins, ties, rounds=rounds, anchor=0, start=point)
    return point, fit_seconds, time.perf_counter() - start


def design(a, b, outcome, n: int):
    """One row per decided vote (+1 for A, -1 for B, variant 0's column dropped), a tie as two rows."""
    decided = outcome != 0.5
    tied = ~decided
    rows_a = np.concatenate([a[decided], a[tied], a[tied]])
    rows_b = np.concatenate([b[decided], b[tied], b[tied]])
    y = np.concatenate([outcome[decided], np.ones(tied.sum()), np.zeros(tied.sum())])
    weight = np.concatenate([np.ones(decided.sum()), np.full(2 * tied.sum(), 0.5)])
    x = np.zeros((len(y), n))
    x[np.arange(len(y)), rows_a] += 1
    x[np.arange(len(y)), rows_b] -= 1
    return x[:, 1:], y, weight


def sklearn_fit(x, y, weight) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression  # imported once by main, before the clock starts

    model = LogisticRegression(C=np.inf, fit_intercept=False, max_iter=1000)
    model.fit(x, y, sample_weight=weight)
    return np.concatenate([[0.0], model.coef_[0]])


def baseline(a, b, outcome, n: int, rounds: int) -> tuple[np.ndarray, float, float]:
    start = time.perf_counter()
    point = sklearn_fit(*design(a, b, outcome, n))
    fit_seconds = time.perf_counter() - start
    rng = np.random.default_rng(1)
    for _ in range(rounds):
        pick = rng.integers(0, len(a), len(a))
        sklearn_fit(*design(a[pick], b[pick], outcome[pick], n))
    return point, fit_seconds, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--variants", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="time the baseline's bootstrap on 10 rounds, scaled")
    args = parser.parse_args()
    import sklearn.linear_model  # noqa: F401  (its import time is not the baseline's fit time)

    a, b, outcome = synthetic_votes(args.votes, args.variants)
    our_point, our_fit, our_total = ours(a, b, outcome, args.variants, args.rounds)
    base_rounds = 10 if args.quick else args.rounds
    base_point, base_fit, base_total = baseline(a, b, outcome, args.variants, base_rounds)
    base_boot = (base_total - base_fit) * args.rounds / base_rounds
    gap = float(np.max(np.abs(ratings.SCALE * (our_point - base_point))))

    scaled = " (scaled from 10 rounds)" if args.quick else ""
    title = (
        f"Leaderboard: {args.votes:,} votes among {args.variants} variants, {args.rounds} bootstrap rounds; "
        f"ours (webapp/arena/ratings.py) vs scikit-learn LogisticRegression{scaled}, seconds. "
        f"Largest rating difference between the two fits: {gap:.2g} points; "
        f"ours is {(base_fit + base_boot) / our_total:,.0f}x faster with the bootstrap."
    )
    rows = [
        ("fit, seconds", our_fit, base_fit),
        (f"fit + {args.rounds} bootstrap rounds, seconds", our_total, base_fit + base_boot),
    ]
    write_table(title, rows, ROOT / "var" / "bench" / "leaderboard.md", digits=3)
    if gap >= 1:
        raise SystemExit(f"ratings disagree by {gap:.3f} points (limit 1)")


if __name__ == "__main__":
    main()
