"""Leaderboard maths: our Bradley–Terry fit + bootstrap vs scikit-learn's logistic regression, then the
style-controlled fit (webapp/arena/style_ratings.py) against the plain one.

    .venv/bin/python bench/leaderboard.py [--votes 100000] [--variants 20] [--rounds 100] [--quick] [--repeats 5]

Synthetic votes among `--variants` variants with known strengths (10% ties). Ours (webapp/arena/ratings.py)
aggregates the votes into per-pair counts, fits by Newton's method and bootstraps by drawing the
counts from a multinomial. The baseline is the textbook route: one row per vote (a tie as two rows of
weight 1/2), `LogisticRegression(C=inf, fit_intercept=False)` (`penalty=None` is deprecated since
scikit-learn 1.8; C=inf is the same unpenalised fit), the bootstrap resampling rows and refitting. Both
fix variant 0 at 1000. The run fails unless the two point estimates agree within 1 rating point.
`--quick` times the baseline's bootstrap on 10 rounds and scales it to `--rounds` (marked in the table).

Style control: the same votes get raw style measures per answer (tokens, headers, list items, bold, in the
prompt's language, degenerate; the variants differ in how long and how Markdown-heavy they write, and length
and language move the votes). Timed in `--repeats` interleaved rounds, medians reported: (A) the plain fit +
its `--rounds` bootstrap, (B) the style-controlled fit + its sandwich intervals (features built from the
raw measures included), (C) B + the style-controlled `--rounds` bootstrap (`?style=control&ci=bootstrap`).
Goals: B / A <= 3, C <= 10 s. The baseline for style control is scikit-learn on one row per vote with the
style columns (ties as two half-weight rows), its bootstrap timed on 3 rounds and scaled. The machine's load
(1-minute load average, and CPUs) is printed with the table, since these figures move with it.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import markdown_table, write_table, write_text  # noqa: E402
from webapp.arena import ratings, style_ratings  # noqa: E402

L2 = 0.01  # the leaderboard's ridge on the ratings (webapp.arena.selectors.RATING_L2)


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


def synthetic_style(a, b, n_variants: int, seed: int = 2):
    """Raw style measures of both answers, per vote, and the outcome they push towards."""
    rng = np.random.default_rng(seed)
    verbosity = rng.normal(0, 0.4, n_variants)  # some variants write longer, with more Markdown
    sides = []
    for side in (a, b):
        tokens = rng.lognormal(5 + verbosity[side], 0.5)
        sides.append(
            {
                "length": np.round(tokens),
                "headers": rng.poisson(np.exp(verbosity[side])),
                "lists": rng.poisson(3 * np.exp(verbosity[side])),
                "bold": rng.poisson(2 * np.exp(verbosity[side])),
                "in_language": (rng.random(len(side)) < 0.9).astype(float),
                "degenerate": (rng.random(len(side)) < 0.05).astype(float),
            }
        )
    push = (
        0.3 * (sides[0]["length"] - sides[1]["length"]) / (sides[0]["length"] + sides[1]["length"] + 1) * 4
        + 0.8 * (sides[0]["in_language"] - sides[1]["in_language"])
        - 0.6 * (sides[0]["degenerate"] - sides[1]["degenerate"])
    )
    return sides, push


def style_votes(n_votes: int, n_variants: int, seed: int = 0):
    """Votes whose outcomes depend on the variants' strengths and on the answers' style."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 0.6, n_variants)
    a = rng.integers(0, n_variants, n_votes)
    b = (a + rng.integers(1, n_variants, n_votes)) % n_variants
    sides, push = synthetic_style(a, b, n_variants)
    p_a = 1 / (1 + np.exp(-(strength[a] - strength[b] + push)))
    outcome = (rng.random(n_votes) < p_a).astype(float)
    outcome[rng.random(n_votes) < 0.1] = 0.5
    return a, b, outcome, sides


def plain_with_bootstrap(a, b, outcome, n: int, rounds: int) -> float:
    start = time.perf_counter()
    wins, ties = ratings.tally(a, b, outcome, n)
    point = ratings.fit(wins, ties, anchor=0, l2=L2)
    ratings.bootstrap(wins, ties, rounds=rounds, anchor=0, l2=L2, start=point)
    return time.perf_counter() - start


def style_with_sandwich(a, b, outcome, sides, n: int) -> tuple[float, np.ndarray, style_ratings.Votes]:
    start = time.perf_counter()
    matrix, names = style_ratings.features(*sides)
    votes = style_ratings.Votes(a, b, outcome, matrix, names, n)
    theta = style_ratings.fit(votes, anchor=0, l2=L2)
    style_ratings.sandwich(votes, theta, anchor=0, l2=L2)
    return time.perf_counter() - start, theta, votes


def style_bootstrap(votes, theta, rounds: int) -> float:
    start = time.perf_counter()
    style_ratings.bootstrap(votes, rounds=rounds, anchor=0, l2=L2, start=theta)
    return time.perf_counter() - start


def sklearn_style(votes: style_ratings.Votes, rounds: int) -> tuple[np.ndarray, float, float]:
    """scikit-learn on one row per vote with the style columns; (theta, fit seconds, bootstrap seconds for
    `rounds` rounds)."""
    from sklearn.linear_model import LogisticRegression

    def one(pick):
        x, y, weight = design(votes.a[pick], votes.b[pick], votes.y[pick], votes.n)
        decided = votes.y[pick] != 0.5
        tied = ~decided
        style = votes.style[pick]
        x = np.hstack([x, np.vstack([style[decided], style[tied], style[tied]])])
        model = LogisticRegression(C=np.inf, fit_intercept=False, max_iter=1000)
        model.fit(x, y, sample_weight=weight)
        return np.concatenate([[0.0], model.coef_[0]])

    start = time.perf_counter()
    theta = one(np.arange(len(votes.y)))
    fitted = time.perf_counter() - start
    rng = np.random.default_rng(1)
    for _ in range(rounds):
        one(rng.integers(0, len(votes.y), len(votes.y)))
    return theta, fitted, time.perf_counter() - start - fitted


def style_control(args) -> None:
    a, b, outcome, sides = style_votes(args.votes, args.variants)
    plain, style, boot = [], [], []
    for _ in range(args.repeats):  # interleaved, so a change in the machine's load hits all three alike
        plain.append(plain_with_bootstrap(a, b, outcome, args.variants, args.rounds))
        seconds, theta, votes = style_with_sandwich(a, b, outcome, sides, args.variants)
        style.append(seconds)
        boot.append(seconds + style_bootstrap(votes, theta, args.rounds))
    base_rounds = 3
    base_theta, base_fit, base_boot = sklearn_style(votes, base_rounds)
    base_total = base_fit + base_boot * args.rounds / base_rounds
    gap = float(np.max(np.abs(ratings.SCALE * (theta[: args.variants] - base_theta[: args.variants]))))
    a_s, b_s, c_s = (float(np.median(times)) for times in (plain, style, boot))
    load = os.getloadavg()[0]
    title = (
        f"Style control: {args.votes:,} votes among {args.variants} variants, {len(votes.names)} style features "
        f"({', '.join(votes.names)}), {args.rounds} bootstrap rounds; medians of {args.repeats} interleaved "
        f"rounds, seconds; load average {load:.1f} on {os.cpu_count()} CPUs. Goals: B / A <= 3 "
        f"(it is {b_s / a_s:.2f}), C <= 10 s (it is {c_s:.2f} s). Largest rating difference from scikit-learn's "
        f"fit (unpenalised): {gap:.2g} points. Style coefficients: "
        + ", ".join(f"{name} {value:+.3f}" for name, value in zip(votes.names, theta[args.variants :], strict=True))
    )
    rows = [
        ["A: plain fit + bootstrap", f"{a_s:.3f}", "", "1.00"],
        ["B: style-controlled fit + sandwich", f"{b_s:.3f}", f"{base_fit:.3f}", f"{b_s / a_s:.2f}"],
        [
            "C: B + style-controlled bootstrap",
            f"{c_s:.3f}",
            f"{base_total:.1f} (scaled from 3 rounds)",
            f"{c_s / a_s:.2f}",
        ],
    ]
    columns = ["step", "ours, seconds", "scikit-learn, seconds", "ours / A"]
    write_text(f"{title}\n\n" + markdown_table(columns, rows), ROOT / "var" / "bench" / "leaderboard_style.md")
    if gap >= 2:
        raise SystemExit(f"style-controlled ratings disagree with scikit-learn's by {gap:.3f} points (limit 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--variants", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="time the baseline's bootstrap on 10 rounds, scaled")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds of the style-control timings")
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
    style_control(args)


if __name__ == "__main__":
    main()
