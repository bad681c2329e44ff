"""The translation similarity check (ml/embedding/translation_check.py): which pairs it judges, how it
flags, and the calibrated thresholds on the real encoder."""

import json
from pathlib import Path

import numpy as np
import pytest

from ml.embedding import translation_check
from ml.embedding.embedders import USE_LANGUAGES, USE_NAME, load_embedder
from ml.embedding.translation_check import Check, check, checkable, similarity, threshold_for

ROOT = Path(__file__).resolve().parents[2]


class FakeEmbedder:
    """Looks each text up in a table of (unnormalised) vectors; records what it was asked."""

    version = "test"
    dim = 2

    def __init__(self, vectors: dict[str, list[float]], name: str = USE_NAME, languages=USE_LANGUAGES):
        self.vectors = vectors
        self.name = name
        self.languages = languages
        self.calls: list[list[str]] = []

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([self.vectors[text] for text in texts], dtype=np.float32)


def vector_at(cosine: float, scale: float = 1.0) -> list[float]:
    """A 2-d vector whose cosine with (1, 0) is `cosine`, of length `scale`."""
    return [scale * cosine, scale * float(np.sqrt(1 - cosine**2))]


def test_checkable_needs_both_languages_in_the_encoders_list():
    fake = FakeEmbedder({})
    assert checkable(fake, "en", "de") and checkable(fake, "zh-Hans", "ar") and checkable(fake, "pt-BR", "ja")
    assert not checkable(fake, "en", "sw") and not checkable(fake, "hi", "de") and not checkable(fake, "he", "yo")
    assert not checkable(FakeEmbedder({}, languages=None), "en", "de")  # an encoder of unknown languages


def test_similarity_is_the_cosine_of_normalised_embeddings():
    fake = FakeEmbedder({"a": [3.0, 0.0], "b": vector_at(0.5, scale=7.0), "c": [-2.0, 0.0]})
    assert similarity(fake, "a", "b") == pytest.approx(0.5, abs=1e-6)
    assert similarity(fake, "a", "a") == pytest.approx(1.0, abs=1e-6)
    assert similarity(fake, "a", "c") == pytest.approx(-1.0, abs=1e-6)
    with pytest.raises(ValueError, match="non-empty"):
        similarity(fake, "a", "  ")


def test_check_flags_below_the_target_languages_threshold_only():
    ja, en = threshold_for("ja"), threshold_for("en")
    assert ja < en  # the calibration's per-language difference: Japanese translations score lower
    between = (ja + en) / 2
    fake = FakeEmbedder(
        {"source": [1.0, 0.0], "good": vector_at(en + 0.02), "between": vector_at(between), "bad": vector_at(ja - 0.02)}
    )
    good = check(fake, "source", "de", "good", "en")
    assert good == Check(
        similarity=pytest.approx(en + 0.02, abs=1e-6), flagged=False, skipped_reason=None, threshold=en
    )
    assert check(fake, "source", "de", "between", "en").flagged  # below English's threshold ...
    assert not check(fake, "source", "de", "between", "ja").flagged  # ... above Japanese's
    bad = check(fake, "source", "en", "bad", "ja")
    assert bad.flagged and bad.similarity == pytest.approx(ja - 0.02, abs=1e-6) and bad.threshold == ja


def test_regional_and_uncalibrated_languages_use_their_primary_subtag_or_the_global_threshold():
    assert threshold_for("zh-Hans") == threshold_for("zh-Hant") == translation_check.TARGET_THRESHOLDS["zh"]
    assert threshold_for("pt-BR") == threshold_for("ko") == translation_check.THRESHOLD  # trained, not in the set


def test_languages_outside_the_encoders_list_are_skipped_without_embedding():
    fake = FakeEmbedder({})
    for source, target in (("en", "sw"), ("hi", "de")):
        result = check(fake, "text", source, "Maandishi", target)
        assert result.similarity is None and result.threshold is None and not result.flagged
        assert result.skipped_reason and "not trained on" in result.skipped_reason
    assert fake.calls == []


def test_an_encoder_the_threshold_was_not_calibrated_for_is_skipped():
    fake = FakeEmbedder({}, name="paraphrase-multilingual-MiniLM-L12-v2", languages=("en", "de"))
    result = check(fake, "Hello", "en", "Hallo", "de")
    assert result.similarity is None and not result.flagged
    assert "calibrated for use-multilingual-v3" in (result.skipped_reason or "")
    assert fake.calls == []


def test_the_committed_figures_name_the_thresholds_the_module_uses():
    """bench/results/translation_threshold.md is the bench's output; the module must match it."""
    text = (ROOT / "bench" / "results" / "translation_threshold.md").read_text()
    assert f"THRESHOLD = {translation_check.THRESHOLD:.2f}:" in text
    line = next(line for line in text.splitlines() if line.startswith("TARGET_THRESHOLDS = "))
    measured = {language.split("-")[0]: value for language, value in json.loads(line.split(" = ", 1)[1]).items()}
    assert measured == translation_check.TARGET_THRESHOLDS


def test_the_parallel_set_is_big_and_varied_enough():
    rows = [json.loads(line) for line in (ROOT / "bench" / "data" / "translation_pairs.jsonl").read_text().splitlines()]
    languages = {"en", "de", "fr", "es", "it", "ru", "ar", "zh-Hans", "ja"}
    assert len(rows) >= 60 and len({row["id"] for row in rows}) == len(rows)
    assert all(set(row["text"]) == set(row["near_miss"]) == languages for row in rows)
    assert all(row["text"][language] != row["near_miss"][language] for row in rows for language in languages)
    words = [len(row["text"]["en"].split()) for row in rows]
    assert min(words) >= 4 and max(words) <= 30
    assert {row["form"] for row in rows} == {"question", "statement"}
    assert {row["change"] for row in rows} == {"number", "negation", "entity", "meaning"}


def test_the_real_encoder_accepts_translations_and_flags_a_different_sentence():
    use = load_embedder("")
    pairs = [
        ("The museum is closed on Mondays.", "en", "Das Museum ist montags geschlossen.", "de"),
        ("Where is the nearest pharmacy?", "en", "最近的药店在哪里？", "zh-Hans"),
        ("Should I take this medicine with food?", "en", "هل يجب أن أتناول هذا الدواء مع الطعام؟", "ar"),
    ]
    for source, source_language, target, target_language in pairs:
        result = check(use, source, source_language, target, target_language)
        assert result.skipped_reason is None and not result.flagged, (target, result)
    wrong = check(use, pairs[0][0], "en", pairs[1][2], "zh-Hans")  # a translation of another sentence
    assert wrong.flagged and wrong.similarity is not None and wrong.similarity < 0.4, wrong
    assert check(use, pairs[0][0], "en", "Jumba la makumbusho limefungwa Jumatatu.", "sw").skipped_reason
