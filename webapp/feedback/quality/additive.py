"""The review statistics as sums over tasks: each is `finish(sum of per-task parts)`, so a summary can add
a task's part when it is annotated and subtract it when the task changes or goes (quality/summary.py),
instead of reading every annotation on each request. Pure functions, plain data in and out, like
agreement.py, whose definitions they reproduce exactly (tests/feedback/test_review_summary.py compares
them with the full recomputation there).

Parts are nested dicts with string keys and numeric leaves (JSON), summed by `add`:

* Krippendorff's alpha: the coincidence matrix o[c, k] of the task's units (response positions valued
  by two or more raters): for a unit with m values, each ordered pair of values from two different
  raters adds 1/(m - 1). The matrix is additive over units; its marginals n_c (what the ordinal distance
  needs) are sums of it, so `alpha_from_coincidences` finishes exactly as the `krippendorff` library does.
* Pairwise agreement: (agreeing comparisons, comparisons), overall and per annotator.
* Median seconds: a histogram of `seconds_bin` bins (see there for the bins and the error bound).
"""

from collections import Counter, defaultdict

import numpy as np

from webapp.feedback.quality.agreement import TaskRankings, _comparisons, _ranks

# Histogram bins of an annotation's seconds: 0.1 s wide below 60 s, 1 s below 600 s, 10 s below 3,600 s,
# one bin for 3,600 s and more (at most 1,440 bins per annotator and language). A value goes to the
# nearest bin centre, so the median read back is off by at most half a bin: 0.05 s below a minute (trust's
# speed factor reads it below 5 s, where its error is then at most 0.005), 0.5 s below 10 minutes, 5 s
# below an hour; exact for values on that grid (the client sends whole tenths); at or above an hour,
# 3,600 s.
_BINS = ((60.0, 0.1), (600.0, 1.0), (3600.0, 10.0))
_TOP = 3600.0


def seconds_bin(seconds: float) -> str:
    """The histogram key of a duration: the centre of its bin, as a string."""
    value = max(seconds, 0.0)
    for limit, width in _BINS:
        if value < limit:
            return f"{round(value / width) * width:.1f}"
    return f"{_TOP:.1f}"


def histogram_median(counts: dict[str, float]) -> float | None:
    """The median of a histogram {bin centre: count} as statistics.median takes it: the middle value, or
    the mean of the two middle ones. None for an empty histogram."""
    items = sorted((float(key), int(round(n))) for key, n in counts.items() if round(n) > 0)
    total = sum(n for _, n in items)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    values, seen = [], 0
    for value, n in items:
        while wanted and wanted[0] < seen + n:
            values.append(value)
            wanted.pop(0)
        seen += n
    return sum(values) / 2


def _key(c: float, k: float) -> str:
    return f"{c:g},{k:g}"


def coincidences(task: TaskRankings) -> dict[str, float]:
    """The coincidence matrix of one task's units (see the module docstring), {"c,k": count}."""
    ranks = [_ranks(ranking) for ranking in task.values()]
    width = max((len(r) for r in ranks), default=0)
    matrix: dict[str, float] = defaultdict(float)
    for position in range(width):
        values = Counter(r[position] for r in ranks if position < len(r))
        m = sum(values.values())
        if m < 2:
            continue
        for c, n_c in values.items():
            for k, n_k in values.items():
                pairs = n_c * n_k - (n_c if c == k else 0)
                if pairs:
                    matrix[_key(c, k)] += pairs / (m - 1)
    return dict(matrix)


def alpha_from_coincidences(matrix: dict[str, float]) -> float | None:
    """Ordinal alpha from a summed coincidence matrix: 1 - sum(o·d) / sum(e·d), with e the expected
    coincidences (n_c·n_k - [c = k]·n_c) / (n - 1) and d the ordinal distance (sum of n_g for g from c to
    k, minus (n_c + n_k) / 2) squared. None without pairable values or with a single value, as
    agreement.krippendorff_alpha_ordinal."""
    cells = {tuple(float(v) for v in key.split(",")): n for key, n in matrix.items() if n > 1e-9}
    domain = sorted({c for c, _ in cells} | {k for _, k in cells})
    if len(domain) < 2:
        return None
    index = {value: i for i, value in enumerate(domain)}
    o = np.zeros((len(domain), len(domain)))
    for (c, k), n in cells.items():
        o[index[c], index[k]] = n
    n_v = o.sum(axis=0)
    e = (np.outer(n_v, n_v) - np.diagflat(n_v)) / (n_v.sum() - 1)
    cumulative = np.concatenate([[0.0], np.cumsum(n_v)])
    lo, hi = (
        np.minimum.outer(range(len(domain)), range(len(domain))),
        np.maximum.outer(range(len(domain)), range(len(domain))),
    )
    d = (cumulative[hi + 1] - cumulative[lo] - (n_v[lo] + n_v[hi]) / 2) ** 2
    return float(1 - (o * d).sum() / (e * d).sum())


def comparison_counts(task: TaskRankings) -> tuple[int, int, dict[str, list[int]]]:
    """(agreeing comparisons, comparisons, {annotator: [agreeing, comparisons]}) of one task, as
    agreement.pairwise_agreement_rate and annotator_agreement count them."""
    same = total = 0
    people: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a, b, agrees in _comparisons([task]):
        same += agrees
        total += 1
        for who in (a, b):
            people[who][0] += agrees
            people[who][1] += 1
    return same, total, dict(people)


def add(target: dict, part: dict, sign: int = 1) -> dict:
    """target += sign·part, leaf by leaf (nested dicts of numbers); leaves that come to zero and dicts
    left empty are dropped, so a summary that lost every part of a key holds nothing for it."""
    for key, value in part.items():
        if isinstance(value, dict):
            inner = add(target.get(key) or {}, value, sign)
            if inner:
                target[key] = inner
            else:
                target.pop(key, None)
        else:
            total = target.get(key, 0) + sign * value
            if abs(total) < 1e-9:
                target.pop(key, None)
            else:
                target[key] = round(total) if isinstance(total, float) and abs(total - round(total)) < 1e-9 else total
    return target
