"""Calibrates the translation similarity check (ml/embedding/translation_check.py) on a parallel set.

    .venv/bin/python bench/translation_threshold.py                 # the default embedder (USE)
    .venv/bin/python bench/translation_threshold.py --model minilm  # any EMBEDDING_MODEL value

Data: bench/data/translation_pairs.jsonl holds 62 sentences (33 topics, 4 to 24 English words, 38
statements and 24 questions), each in nine languages (en de fr es it ru ar zh-Hans ja), and for each a
near-miss in the same nine languages: the same topic and wording with the meaning changed (`change`:
a number, a negation, a different entity, or another meaning).

Every ordered pair of two different languages the model was trained on gives, per sentence, three
kinds of candidate translation into the target language, scored by cosine against the source:
  true       the sentence's own translation: what the check must accept;
  different  the translation of every other sentence of the set: a pasted or misplaced translation;
  near miss  the near-miss: a careless or wrong translation that keeps the topic.

Threshold: the highest 0.01 step that keeps at least KEEP (95%) of the true translations, over all
pairs, so reviewers see few false alarms; a translation below it is flagged for review, never refused.
The same rule per target language shows whether one value fits every language. The balanced-accuracy
optimum (true against different) is printed beside it for reference, and so are a 90% interval of each
threshold over resamplings of the sentences and the rates by sentence length. Last, the thresholds are
applied to a set they were not chosen on: the 64 chat prompts of bench/data/parallel.jsonl.

Output: stdout and bench/results/translation_threshold.md (committed; the module's docstring quotes it).
"""

import argparse
import itertools
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import markdown_table, write_text  # noqa: E402

DATA = ROOT / "bench" / "data" / "translation_pairs.jsonl"
RESULT = ROOT / "bench" / "results" / "translation_threshold.md"
HELD_OUT = ROOT / "bench" / "data" / "parallel.jsonl"
LANGUAGES = ("en", "de", "fr", "es", "it", "ru", "ar", "zh-Hans", "ja")
KEEP = 0.95
KINDS = ("true", "different", "near miss")
BOOTSTRAP = 1000
LENGTH_BANDS = ((4, 7), (8, 12), (13, 30))  # English words


def load_rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def score(model: str) -> tuple[dict[tuple[str, str, str], np.ndarray], list[str], str]:
    """(kind, source, target) -> cosine scores, with the trained languages and the embedder's key."""
    from ml.embedding.embedders import load_embedder, supports

    embedder = load_embedder(model)
    rows = load_rows()
    trained = [language for language in LANGUAGES if supports(embedder, language) is not False]
    text = {language: embedder.encode([row["text"][language] for row in rows]) for language in trained}
    near = {language: embedder.encode([row["near_miss"][language] for row in rows]) for language in trained}
    others = ~np.eye(len(rows), dtype=bool)
    scores: dict[tuple[str, str, str], np.ndarray] = {}
    for source, target in itertools.permutations(trained, 2):
        matrix = text[source] @ text[target].T
        scores["true", source, target] = np.diag(matrix).copy()
        scores["different", source, target] = matrix[others]
        scores["near miss", source, target] = np.einsum("ij,ij->i", text[source], near[target])
    return scores, trained, embedder.key


def pooled(scores: dict, kind: str, target: str | None = None, source: str | None = None) -> np.ndarray:
    return np.concatenate(
        [
            values
            for (k, s, t), values in scores.items()
            if k == kind and (target is None or t == target) and (source is None or s == source)
        ]
    )


def keep_threshold(true: np.ndarray, keep: float = KEEP) -> float:
    """The highest 0.01 step at or below which at most 1 - keep of the true scores fall."""
    return math.floor(float(np.quantile(true, 1 - keep)) * 100) / 100


def balanced_optimum(true: np.ndarray, wrong: np.ndarray) -> tuple[float, float]:
    """(0.01 step maximising the mean of true-accept and wrong-flag rates, that mean)."""
    best = (0.0, 0.0)
    for step in range(0, 101):
        threshold = step / 100
        balanced = (np.mean(true >= threshold) + np.mean(wrong < threshold)) / 2
        if balanced > best[1]:
            best = (threshold, float(balanced))
    return best


def bootstrap_interval(scores: dict, target: str | None, rng: np.random.Generator) -> tuple[float, float]:
    """90% interval of the keep threshold into `target` (None: all targets), resampling sentences:
    a sentence's scores across language pairs move together, so pairs are not independent draws."""
    stacked = np.stack([values for (k, _, t), values in scores.items() if k == "true" and target in (None, t)])
    n = stacked.shape[1]
    draws = [keep_threshold(stacked[:, rng.integers(0, n, n)].ravel()) for _ in range(BOOTSTRAP)]
    low, high = np.quantile(draws, [0.05, 0.95])
    return float(low), float(high)


def length_rows(scores: dict, rows: list[dict], threshold: float) -> list[list[str]]:
    """True translations and near-misses by the English sentence's length."""
    words = np.array([len(row["text"]["en"].split()) for row in rows])
    table = []
    for low, high in LENGTH_BANDS:
        chosen = np.where((words >= low) & (words <= high))[0]
        true = np.concatenate([v[chosen] for (k, _, _), v in scores.items() if k == "true"])
        near = np.concatenate([v[chosen] for (k, _, _), v in scores.items() if k == "near miss"])
        table.append(
            [
                f"{low}-{high} words",
                str(len(chosen)),
                f"{np.median(true):.2f}",
                f"{np.quantile(true, 0.05):.2f}",
                pct(true >= threshold),
                f"{np.median(near):.2f}",
                pct(near < threshold),
            ]
        )
    return table


def pct(values: np.ndarray, digits: int = 0) -> str:
    return f"{100 * float(np.mean(values)):.{digits}f}%"


def figures_row(name: str, true: np.ndarray, different: np.ndarray, near: np.ndarray, threshold: float) -> list[str]:
    """Score percentiles, then the rates at the global `threshold` and at the row's own threshold."""
    own = keep_threshold(true)
    return [
        name,
        f"{np.median(true):.2f}",
        f"{np.quantile(true, 0.05):.2f}",
        f"{np.median(different):.2f}",
        f"{np.quantile(different, 0.95):.2f}",
        f"{different.max():.2f}",
        f"{np.median(near):.2f}",
        f"{np.quantile(near, 0.95):.2f}",
        pct(true >= threshold),
        pct(near < threshold),
        f"{own:.2f}",
        pct(true >= own),
        pct(different < own),
        pct(near < own),
    ]


COLUMNS = [
    "target",
    "true median",
    "true p5",
    "different median",
    "different p95",
    "different max",
    "near-miss median",
    "near-miss p95",
    "true accepted @THRESHOLD",
    "near-miss flagged @THRESHOLD",
    "own threshold",
    "true accepted @own",
    "different flagged @own",
    "near-miss flagged @own",
]


def report(model: str) -> str:
    scores, trained, key = score(model)
    true_all, different_all, near_all = (pooled(scores, kind) for kind in KINDS)
    threshold = keep_threshold(true_all)
    optimum, balanced = balanced_optimum(true_all, different_all)
    rows = load_rows()
    pairs = len(trained) * (len(trained) - 1)
    lines = [
        f"# Translation check threshold: {key}",
        "",
        f"{len(rows)} sentences in {len(trained)} trained languages ({' '.join(trained)}), {pairs} ordered "
        f"language pairs: {len(true_all):,} true translations, {len(different_all):,} translations of a "
        f"different sentence, {len(near_all):,} near-misses.",
        "",
        f"THRESHOLD = {threshold:.2f}: the highest 0.01 step keeping >= {KEEP:.0%} of all true translations "
        f"(balanced-accuracy optimum against different sentences: {optimum:.2f}, balanced accuracy {balanced:.3f}).",
        "`@THRESHOLD`: rates at that global value; `own threshold`: the same rule applied to the row alone, "
        "with its rates (`@own`). TARGET_THRESHOLDS are the own thresholds of the target rows below.",
        "",
        "## Any source language into each target",
        "",
    ]
    table = [figures_row("all", true_all, different_all, near_all, threshold)]
    for target in trained:
        table.append(
            figures_row(
                target,
                *(pooled(scores, kind, target=target) for kind in KINDS),
                threshold,
            )
        )
    own = ", ".join(f'"{target}": {keep_threshold(pooled(scores, "true", target=target)):.2f}' for target in trained)
    rng = np.random.default_rng(0)
    intervals = [
        [name, f"{low:.2f}-{high:.2f}"]
        for name, (low, high) in [("all", bootstrap_interval(scores, None, rng))]
        + [(target, bootstrap_interval(scores, target, rng)) for target in trained]
    ]
    lines += [
        markdown_table(COLUMNS, table),
        "",
        f"TARGET_THRESHOLDS = {{{own}}}",
        "",
        f"Own threshold, 90% interval over {BOOTSTRAP} resamplings of the sentences:",
        "",
        markdown_table(["target", "interval"], intervals),
        "",
        "## By sentence length (all pairs)",
        "",
        markdown_table(
            [
                "English length",
                "sentences",
                "true median",
                "true p5",
                "true accepted",
                "near-miss median",
                "near-miss flagged",
            ],
            length_rows(scores, rows, threshold),
        ),
        "",
        "## From English into each target",
        "",
    ]
    english = [
        figures_row(f"en -> {target}", *(pooled(scores, kind, target=target, source="en") for kind in KINDS), threshold)
        for target in trained
        if target != "en"
    ]
    lines += [markdown_table(["pair"] + COLUMNS[1:], english), "", "## Near-misses by kind of change", ""]
    by_change: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_change[row["change"]].append(index)
    change_rows = []
    for change, indexes in sorted(by_change.items()):
        near = np.concatenate([values[indexes] for (k, _, _), values in scores.items() if k == "near miss"])
        change_rows.append(
            [
                change,
                str(len(indexes)),
                f"{np.median(near):.2f}",
                f"{np.quantile(near, 0.05):.2f}",
                pct(near < threshold),
            ]
        )
    lines.append(markdown_table(["change", "sentences", "median", "p5", "flagged @THRESHOLD"], change_rows))
    targets = {target: keep_threshold(pooled(scores, "true", target=target)) for target in trained}
    lines += ["", *held_out(model, trained, targets, threshold)]
    return "\n".join(lines)


def held_out(model: str, trained: list[str], targets: dict[str, float], threshold: float) -> list[str]:
    """The thresholds applied to a set they were not chosen on: bench/data/parallel.jsonl, 64 chat
    prompts (bench/calibrate_similarity.py), in the languages it shares with the trained ones."""
    from ml.embedding.embedders import load_embedder

    rows = [json.loads(line) for line in HELD_OUT.read_text().splitlines() if line.strip()]
    languages = [language for language in trained if language in rows[0]]
    embedder = load_embedder(model)
    vectors = {language: embedder.encode([row[language] for row in rows]) for language in languages}
    topics = np.array([row["topic"] for row in rows])
    others = ~np.eye(len(rows), dtype=bool)
    same_topic = (topics[:, None] == topics[None, :]) & others
    found: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    for source, target in itertools.permutations(languages, 2):
        matrix = vectors[source] @ vectors[target].T
        true, own = np.diag(matrix), targets[target]
        for name in (target, "all"):
            found[name]["true"].append(true)
            found[name]["accepted @global"].append(true >= threshold)
            found[name]["accepted @target"].append(true >= own)
            found[name]["different"].append(matrix[others])
            found[name]["different flagged"].append(matrix[others] < own)
            found[name]["same topic flagged"].append(matrix[same_topic] < own)
    table = []
    for name in ["all", *languages]:
        parts = {kind: np.concatenate(values) for kind, values in found[name].items()}
        table.append(
            [
                name,
                f"{np.median(parts['true']):.2f}",
                f"{np.quantile(parts['true'], 0.05):.2f}",
                pct(parts["accepted @global"]),
                pct(parts["accepted @target"]),
                pct(parts["different flagged"], digits=1),
                f"{parts['different'].max():.2f}",
                pct(parts["same topic flagged"]),
            ]
        )
    columns = [
        "target",
        "true median",
        "true p5",
        "true accepted @THRESHOLD",
        "true accepted @TARGET_THRESHOLDS",
        "different flagged @TARGET_THRESHOLDS",
        "different max",
        "same topic flagged @TARGET_THRESHOLDS",
    ]
    return [
        "## Held out: the 64 chat prompts of bench/data/parallel.jsonl",
        "",
        f"{len(rows)} prompts in {' '.join(languages)}, chosen on none of them; `same topic`: a different prompt on "
        "the same topic. Each pair is judged at its target's threshold.",
        "",
        markdown_table(columns, table),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="an EMBEDDING_MODEL value (default: the bundled USE)")
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args()
    write_text(report(args.model), args.output)


if __name__ == "__main__":
    main()
