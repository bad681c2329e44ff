"""Which language a prompt is in: py3langid (its model ships inside the package, so it works offline),
restricted to the languages the store knows (`feedback.Language`). The visitor can correct it."""

import functools

from py3langid.langid import MODEL_FILE, LanguageIdentifier


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, candidates: list[str]) -> str | None:
    """The most probable of `candidates` (BCP-47 codes), or None when py3langid knows none of them.

    py3langid answers with ISO 639-1 codes, matched to a candidate's primary subtag (`zh` ->
    `zh-Hans`; the first candidate in sorted order when several share it). Ranking every language and
    keeping the best allowed one gives the same answer as `set_languages(...)` followed by `classify`,
    without mutating the shared identifier, so concurrent requests need no lock."""
    by_primary: dict[str, str] = {}
    for code in sorted(candidates):
        by_primary.setdefault(code.split("-")[0].lower(), code)
    if not text.strip() or not by_primary:
        return None
    for language, _probability in _identifier().rank(text):
        if language in by_primary:
            return by_primary[language]
    return None
