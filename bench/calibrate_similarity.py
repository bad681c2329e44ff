"""Similarity floors for search and the related-items panel, calibrated on a parallel set.

    .venv/bin/python bench/calibrate_similarity.py                 # the default embedder (USE)
    .venv/bin/python bench/calibrate_similarity.py --model minilm  # any EMBEDDING_MODEL value

Data: bench/data/parallel.jsonl holds 64 prompts of the kind people send a chat model (science, cooking,
travel, health, code, history, ...), each in nine languages (en de fr es ar zh-Hans ja hi sw), with a
`topic` (20 topics hold two different prompts, such as keeping and storing bread; the other 24 prompts
have a topic of their own) and a short English keyword `query`. bench/data/nonsense.txt holds 32 garbage
queries (keyboard mash, random syllables, symbols, mixed scripts).

Cosine scores (every embedder returns L2-normalised rows) of texts in two different languages:
  translation  the same prompt: what search must find;
  same topic   two different prompts on one topic: a useful related item (the panel never shows the
               prompt's own translation group);
  unrelated    prompts on different topics: the noise the panel showed;
  nonsense     each garbage query's best match among the set and 1,200 generated distractors
               (tests/retrieval/parallel.py, ten languages);
  keyword      each keyword query against its prompt in the other trained languages.
Languages the model was not trained on (hi and sw for USE) are reported apart and left out of the
floors: their translations score below nonsense, so no floor separates them.

Floors (SEARCH_MIN_SCORE and RELATED_MIN_SCORE, docs/operations.md):
  search   the 99th percentile of the nonsense best-match scores, rounded up to the next 0.05;
  related  the lowest score, in 0.01 steps, above which at least 95% of the different-prompt pairs share
           a topic (precision), rounded up to the next 0.05.
Both are then checked by simulating the search (nonsense and keyword queries, k = 10) and the panel
(each prompt's 5 nearest other prompts in other languages). Tables: stdout and var/bench/calibration.md.
"""

import argparse
import itertools
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import markdown_table, write_text  # noqa: E402

DATA = ROOT / "bench" / "data"
LANGUAGES = ("en", "de", "fr", "es", "ar", "zh-Hans", "ja", "hi", "sw")
LATIN_SCRIPT = {"en", "de", "fr", "es", "sw"}
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
SEARCH_PERCENTILE = 99
RELATED_PRECISION = 0.95
PANEL_K = 5
SEARCH_K = 10


@dataclass
class Embedded:
    rows: list[dict]
    vectors: dict[str, np.ndarray]  # language -> one row per prompt
    trained: tuple[str, ...]
    nonsense: list[str]
    nonsense_vectors: np.ndarray
    distractors: np.ndarray
    queries: np.ndarray

    @property
    def topics(self) -> np.ndarray:
        return np.array([row["topic"] for row in self.rows])


def load_set() -> tuple[list[dict], list[str]]:
    rows = [json.loads(line) for line in (DATA / "parallel.jsonl").read_text().splitlines() if line.strip()]
    nonsense = [line for line in (DATA / "nonsense.txt").read_text().splitlines() if line.strip()]
    return rows, nonsense


def embed(model: str) -> tuple[Embedded, str]:
    from ml.embedding.embedders import load_embedder, supports
    from tests.retrieval.parallel import distractors

    embedder = load_embedder(model)
    rows, nonsense = load_set()
    vectors = {language: embedder.encode([row[language] for row in rows]) for language in LANGUAGES}
    trained = tuple(language for language in LANGUAGES if supports(embedder, language) is not False)
    embedded = Embedded(
        rows=rows,
        vectors=vectors,
        trained=trained,
        nonsense=nonsense,
        nonsense_vectors=embedder.encode(nonsense),
        distractors=embedder.encode([text for _, text in distractors(1200)]),
        queries=embedder.encode([row["query"] for row in rows]),
    )
    return embedded, embedder.key


# --- score distributions ---------------------------------------------------------------------------
def family(a: str, b: str, trained: tuple[str, ...]) -> str:
    if a not in trained or b not in trained:
        return "with an untrained language"
    latin = (a in LATIN_SCRIPT) + (b in LATIN_SCRIPT)
    return {2: "Latin-Latin", 1: "Latin-other script", 0: "other-other script"}[latin]


def pair_scores(data: Embedded) -> dict[tuple[str, str], np.ndarray]:
    """(category, family) -> scores of every unordered pair of texts in two different languages."""
    topics = data.topics
    same_topic = (topics[:, None] == topics[None, :]) & ~np.eye(len(topics), dtype=bool)
    unrelated = topics[:, None] != topics[None, :]
    found: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    for a, b in itertools.combinations(LANGUAGES, 2):
        scores = data.vectors[a] @ data.vectors[b].T
        pair_family = family(a, b, data.trained)
        found["translation", pair_family].append(np.diag(scores))
        found["same topic", pair_family].append(scores[same_topic])
        found["unrelated", pair_family].append(scores[unrelated])
    return {key: np.concatenate(parts) for key, parts in found.items()}


def trained_only(scores: dict[tuple[str, str], np.ndarray], category: str) -> np.ndarray:
    parts = [v for (c, f), v in scores.items() if c == category and f != "with an untrained language"]
    return np.concatenate(parts)


def corpus(data: Embedded, languages: tuple[str, ...]) -> np.ndarray:
    return np.concatenate([data.vectors[language] for language in languages])


def untrained(data: Embedded) -> tuple[str, ...]:
    return tuple(language for language in LANGUAGES if language not in data.trained)


def nonsense_best(data: Embedded) -> tuple[np.ndarray, np.ndarray]:
    """Each nonsense query's best score among trained-language texts (set + distractors), and among
    the untrained languages' texts."""
    known = np.concatenate([corpus(data, data.trained), data.distractors])
    best_known = (data.nonsense_vectors @ known.T).max(axis=1)
    others = untrained(data)
    best_other = (data.nonsense_vectors @ corpus(data, others).T).max(axis=1) if others else np.zeros(0)
    return best_known, best_other


def keyword_scores(data: Embedded) -> np.ndarray:
    """Each English keyword query against its own prompt in every other trained language."""
    others = [language for language in data.trained if language != "en"]
    return np.concatenate([np.einsum("ij,ij->i", data.queries, data.vectors[language]) for language in others])


# --- floors ---------------------------------------------------------------------------------------
def round_up(value: float, step: float = 0.05) -> float:
    return round(math.ceil(round(value / step, 6)) * step, 2)


def precision_above(same_topic: np.ndarray, unrelated: np.ndarray, floor: float) -> float:
    useful, noise = int((same_topic >= floor).sum()), int((unrelated >= floor).sum())
    return useful / (useful + noise) if useful + noise else 1.0


def related_floor(same_topic: np.ndarray, unrelated: np.ndarray) -> tuple[float, float]:
    """(lowest 0.01 step with precision >= RELATED_PRECISION, its precision)."""
    for step in range(0, 101):
        floor = step / 100
        precision = precision_above(same_topic, unrelated, floor)
        if precision >= RELATED_PRECISION:
            return floor, precision
    return 1.0, 1.0


# --- simulations -----------------------------------------------------------------------------------
def simulate_panel(data: Embedded, floor: float) -> tuple[float, float, float, int]:
    """For each prompt in each trained language, its PANEL_K nearest other prompts in other trained
    languages at or above `floor`: (share of shown items on the same topic, share of prompts with a
    same-topic prompt that show one, share of prompts without one that show nothing, items shown)."""
    topics = data.topics
    n = len(topics)
    everything = corpus(data, data.trained)
    language_of = np.repeat(np.arange(len(data.trained)), n)
    prompt_of = np.tile(np.arange(n), len(data.trained))
    has_partner = ((topics[:, None] == topics[None, :]).sum(axis=1)) > 1
    shown = useful = partner_found = empty_alone = 0
    for li, language in enumerate(data.trained):
        scores = data.vectors[language] @ everything.T
        for i in range(n):
            candidates = np.where((language_of != li) & (prompt_of != i), scores[i], -np.inf)
            top = [j for j in np.argsort(-candidates)[:PANEL_K] if candidates[j] >= floor]
            same = sum(topics[prompt_of[j]] == topics[i] for j in top)
            shown, useful = shown + len(top), useful + same
            partner_found += bool(has_partner[i] and same)
            empty_alone += bool(not has_partner[i] and not top)
    prompts = len(data.trained) * n
    with_partner = int(has_partner.sum()) * len(data.trained)
    return useful / max(shown, 1), partner_found / with_partner, empty_alone / (prompts - with_partner), shown


def simulate_search(data: Embedded, floor: float) -> tuple[float, float, float]:
    """(mean hits of a nonsense query among trained-language texts + distractors, share of nonsense
    queries with any hit, share of keyword queries whose own prompt, in any other trained language, is
    among the SEARCH_K hits)."""
    known = np.concatenate([corpus(data, data.trained), data.distractors])
    nonsense = np.sort(data.nonsense_vectors @ known.T, axis=1)[:, -SEARCH_K:]
    hits = (nonsense >= floor).sum(axis=1)
    n = len(data.rows)
    others = tuple(language for language in data.trained if language != "en")
    pool = np.concatenate([corpus(data, others), data.distractors])
    prompt_of = np.concatenate([np.tile(np.arange(n), len(others)), np.full(len(data.distractors), -1)])
    scores = data.queries @ pool.T
    found = 0
    for i in range(n):
        top = np.argsort(-scores[i])[:SEARCH_K]
        found += any(prompt_of[j] == i and scores[i, j] >= floor for j in top)
    return float(hits.mean()), float((hits > 0).mean()), found / n


# --- tables ----------------------------------------------------------------------------------------
def distribution_row(label: str, values: np.ndarray) -> list[str]:
    cells = [f"{np.percentile(values, p):.2f}" for p in PERCENTILES]
    return [label, f"{len(values):,}", *cells, f"{values.max():.2f}"]


def distributions_table(data: Embedded, scores: dict, best_known: np.ndarray, best_other: np.ndarray) -> str:
    rows = []
    for category in ("translation", "same topic", "unrelated"):
        rows.append(distribution_row(f"**{category}**, trained languages", trained_only(scores, category)))
        for pair_family in ("Latin-Latin", "Latin-other script", "other-other script", "with an untrained language"):
            if (category, pair_family) in scores:
                rows.append(distribution_row(f"{category}: {pair_family}", scores[category, pair_family]))
    rows.append(distribution_row("**nonsense** → best match, trained languages + 1,200 distractors", best_known))
    if len(best_other):
        rows.append(distribution_row(f"nonsense → best match among {'/'.join(untrained(data))} texts", best_other))
    rows.append(distribution_row("**keyword query** (en) → its prompt, other trained languages", keyword_scores(data)))
    columns = ["scores", "n", *(f"p{p}" for p in PERCENTILES), "max"]
    return markdown_table(columns, rows)


def floors_table(search: float, best_known: np.ndarray, related: float, related_at: tuple[float, float]) -> str:
    rule_search = (
        f"p{SEARCH_PERCENTILE} of nonsense best match = {np.percentile(best_known, SEARCH_PERCENTILE):.3f} "
        f"(max {best_known.max():.3f}), rounded up to 0.05"
    )
    rule_related = (
        f"lowest score with ≥ {RELATED_PRECISION:.0%} of different-prompt pairs above it on the same topic = "
        f"{related_at[0]:.2f} (precision {related_at[1]:.3f}), rounded up to 0.05"
    )
    rows = [
        ["`SEARCH_MIN_SCORE`", rule_search, f"{search:.2f}"],
        ["`RELATED_MIN_SCORE`", rule_related, f"{related:.2f}"],
    ]
    return markdown_table(["floor", "rule", "value"], rows, text_columns=2)


def effects_table(data: Embedded, scores: dict, search: float, related: float) -> str:
    translations, same, noise = (trained_only(scores, c) for c in ("translation", "same topic", "unrelated"))
    floors = sorted({0.0, 0.3, search, 0.45, related})
    rows = []
    for floor in floors:
        mean_hits, any_hit, keyword_found = simulate_search(data, floor)
        panel_precision, partner, empty, _ = simulate_panel(data, floor)
        mark = " (search)" if floor == search else " (related)" if floor == related else ""
        rows.append(
            [
                f"{floor:.2f}{mark}",
                f"{(translations >= floor).mean():.3f}",
                f"{(same >= floor).mean():.3f}",
                f"{(noise >= floor).mean():.4f}",
                f"{any_hit:.2f} ({mean_hits:.2f})",
                f"{keyword_found:.2f}",
                f"{panel_precision:.2f}",
                f"{partner:.2f}",
                f"{empty:.2f}",
            ]
        )
    columns = [
        "floor",
        "translations kept",
        "same-topic kept",
        "unrelated kept",
        "nonsense queries with a hit (mean hits)",
        "keyword queries finding their prompt",
        "panel: items on topic",
        "panel: partner shown",
        "panel: empty when none",
    ]
    return markdown_table(columns, rows)


def main(model: str = "", out: Path = ROOT / "var" / "bench" / "calibration.md") -> tuple[float, float]:
    data, key = embed(model)
    scores = pair_scores(data)
    best_known, best_other = nonsense_best(data)
    search = round_up(float(np.percentile(best_known, SEARCH_PERCENTILE)))
    related_at = related_floor(trained_only(scores, "same topic"), trained_only(scores, "unrelated"))
    related = round_up(related_at[0])
    text = "\n\n".join(
        [
            f"Similarity calibration, {key}: {len(data.rows)} prompts x {len(LANGUAGES)} languages "
            f"(trained: {' '.join(data.trained)}), {len(data.nonsense)} nonsense queries",
            distributions_table(data, scores, best_known, best_other),
            floors_table(search, best_known, related, related_at),
            f"Effect of a floor (trained languages; search k = {SEARCH_K}, panel k = {PANEL_K}):",
            effects_table(data, scores, search, related),
        ]
    )
    write_text(text, out)
    return search, related


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="an EMBEDDING_MODEL value; empty: the bundled USE")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "calibration.md")
    args = parser.parse_args()
    main(args.model, args.out)
