"""Vote hygiene, pure numpy/scipy (no Django): which clients vote against everyone else far more often than
chance, and which votes of a high-frequency prompt are left out of the ratings. The method is documented in
docs/operations.md ("Vote hygiene").

Anomalous voters. For each client with at least `min_votes` decisive votes (A or B better: a tie says
nothing about direction), the plain Bradley–Terry fit is made again without that client's votes, and each of
the client's decisive votes is scored: did the client pick the side that fit favours? A vote is not scored
when the other voters never rated one of its variants, or when the fit rates the two equal. If the client
voted like everyone else, a scored vote agrees with probability q = sigmoid(|r_a − r_b|) ≥ 1/2, so the
number of agreements K is stochastically at least Binomial(n, 1/2). The test is the exact one-sided
binomial test of K against 1/2, p = P(Binomial(n, 1/2) ≤ k), and a client with at least `min_votes`
scored votes is anomalous when p < alpha. It is conservative: it flags a client only for disagreeing with
the others more often than a coin would, whatever the true ratings are, so an honest voter with unusual
taste (who still agrees about half the time) is never flagged, and neither is a random clicker; a client
who votes for the weaker model on purpose is.

High-frequency prompts (FastChat's deduplication, fastchat/serve/monitor/deduplication.py, which caps
prompts above the 99.99th percentile of counts at that count with a seeded sample): a prompt seen in more
than `cap` counted votes counts `cap` of them. Which ones is a fixed pseudo-random sample, the `cap` votes
with the smallest sha256 of (prompt key, vote id), so it does not depend on the order votes are read in."""

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from scipy.stats import binom

from webapp.arena import ratings

MIN_DIFFERENCE = 1e-9  # ratings closer than this are equal: the fit favours neither side


@dataclass(frozen=True)
class ClientCheck:
    """One client's agreement test against the fit made without their votes."""

    client: str
    scored: int  # decisive votes compared with the fit
    agreements: int  # of those, how many picked the side the fit favours
    expected: float  # agreements expected had the client voted like the others (sum of q)
    p_value: float  # P(Binomial(scored, 1/2) <= agreements)
    anomalous: bool


def anomalous_voters(
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    clients: list[str],
    n: int,
    *,
    min_votes: int,
    alpha: float,
    l2: float,
) -> list[ClientCheck]:
    """The test for every client with at least `min_votes` decisive votes, most anomalous first. `a`, `b`
    are variant indexes below `n`, `outcome` 1 (a won), 0 (b won) or 0.5 (tie, both bad), `clients` the
    voter of each vote."""
    codes, inverse = np.unique(np.asarray(clients, dtype=object), return_inverse=True)
    decisive = outcome != 0.5
    counts = np.bincount(inverse[decisive], minlength=len(codes))
    wins, ties = ratings.tally(a, b, outcome, n)
    # Each fit without one client starts from the fit with everyone: the same optimum (the penalised likelihood
    # is strictly concave) in a step or two instead of a handful, which made the test most of a refit.
    everyone = ratings.fit(wins, ties, l2=l2)
    # Each client's votes, as indexes: one sort, not a pass over every vote per client.
    order = np.argsort(inverse, kind="stable")
    ends = np.cumsum(np.bincount(inverse, minlength=len(codes)))
    checks = []
    for c in np.flatnonzero(counts >= min_votes):
        mine = order[(ends[c - 1] if c else 0) : ends[c]]  # ascending: the client's votes in vote order
        own_wins, own_ties = ratings.tally(a[mine], b[mine], outcome[mine], n)
        others = (wins - own_wins, ties - own_ties)
        votes = mine[decisive[mine]]
        checks.append(_check(str(codes[c]), others, a, b, outcome, votes, min_votes, alpha, l2, everyone))
    return sorted(checks, key=lambda check: (check.p_value, check.client))


def _check(client, others, a, b, outcome, votes, min_votes, alpha, l2, start=None) -> ClientCheck:
    """`others`: the (wins, ties) tallies without the client; `votes`: the client's decisive votes (indexes, in
    vote order); `start`: where the fit starts (the fit with everyone)."""
    wins, ties = others
    r = ratings.fit(wins, ties, l2=l2, start=start)
    rated = (wins + wins.T + ties).sum(axis=1) > 0
    va, vb, won = a[votes], b[votes], outcome[votes] == 1
    difference = r[va] - r[vb]
    scored = rated[va] & rated[vb] & (np.abs(difference) > MIN_DIFFERENCE)
    agreements = int(((difference > 0) == won)[scored].sum())
    n_scored = int(scored.sum())
    p_value = float(binom.cdf(agreements, n_scored, 0.5)) if n_scored else 1.0
    return ClientCheck(
        client=client,
        scored=n_scored,
        agreements=agreements,
        expected=round(float(expit(np.abs(difference[scored])).sum()), 2),
        p_value=p_value,
        anomalous=n_scored >= min_votes and p_value < alpha,
    )


def capped_votes(ids: list[int], keys: list[str], cap: int) -> set[int]:
    """The ids of the votes left out so that no prompt key counts more than `cap` times."""
    by_key: dict[str, list[int]] = {}
    for vote, key in zip(ids, keys, strict=True):
        by_key.setdefault(key, []).append(vote)
    left_out: set[int] = set()
    for key, votes in by_key.items():
        if len(votes) > cap:
            ranked = sorted(votes, key=lambda vote: hashlib.sha256(f"{key}:{vote}".encode()).digest())
            left_out.update(ranked[cap:])
    return left_out
