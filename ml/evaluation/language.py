"""Is an answer in the language it was asked in?

`in_language(text, tag)` answers with three values:

* `True`: py3langid (classifying over **all** its languages, never a restricted set) names the expected
  language, compared at the macrolanguage level, or a close relative listed in `RELATIVES` for it;
* `False`: it names another language, English included (English is never accepted when it is not the
  expected language, whatever the table says), or the text has no language in it (empty, blank,
  digits or punctuation only: py3langid then has no feature to go on, or answers `zxx`);
* `None`: **not measurable**: py3langid knows no language of this macrolanguage (e.g. `mi`, `haw`,
  `sm`). Such answers are reported apart and never counted as hits or misses.

Comparing at the macrolanguage level: a tag is reduced to `language_key(tag)`: langcodes' standard form
(deprecated codes replaced: `iw` -> `he`, `tl` -> `fil`, `sh` -> `sr-Latn`), its primary language subtag,
then that language's ISO 639-3 macrolanguage from langcodes' data (the IANA registry). So `zh-Hans`,
`zh-Hant`, `cmn`, `yue` and `wuu` are all `zh`; `ar`, `arb`, `ary` (Moroccan) and `arz` (Egyptian) are
`ar`; `nb`, `nn` and `no` are `no`; `id` and `zsm` are `ms` (Indonesian and Malaysian are the two
standard registers of Malay, and py3langid splits short texts between them almost evenly); `hr`, `bs`
and `sr` (either script) are `sh`. The script is not compared: a Traditional Chinese answer to a
`zh-Hans` prompt counts as in-language.

`RELATIVES` (expected key -> detector keys also accepted) lists the neighbours py3langid 0.4 picks on
short or broken text of the expected language; each was seen ranked first or second on plain sentences
(e.g. "de kat is op die dak" -> af, "La capital de España es Madrid." -> ext, "नमस्ते" -> sa). Every
other language counts as a miss. Keep the table small: each entry hides a real language switch."""

import functools
import unicodedata

import langcodes
from langcodes.data_dicts import MACROLANGUAGES
from langcodes.tag_parser import LanguageTagError
from py3langid.langid import MODEL_FILE, RAW_FLOOR, LanguageIdentifier

NO_LANGUAGE = "zxx"  # py3langid's label for text without linguistic content
ENGLISH = "en"

RELATIVES: dict[str, frozenset[str]] = {
    # Romance: the detector's regional labels (Venetian, Ligurian, Extremaduran, Aragonese, Walloon),
    # Occitan, Catalan and Galician on short Italian, Spanish, Portuguese and French sentences.
    "it": frozenset({"oc", "ca", "gl", "vec", "lij"}),
    "es": frozenset({"ext", "an", "gl", "ca"}),
    "pt": frozenset({"gl", "ext"}),
    "gl": frozenset({"pt"}),
    "fr": frozenset({"oc", "wa"}),
    # West Germanic: Afrikaans and Frisian for Dutch, Luxembourgish for German.
    "nl": frozenset({"af", "fy"}),
    "af": frozenset({"nl"}),
    "de": frozenset({"lb"}),
    # Scandinavian: Norwegian (nb, nn) and Danish share most short sentences.
    "no": frozenset({"da"}),
    "da": frozenset({"no"}),
    # Nigerian Pidgin wins on some short plain English.
    "en": frozenset({"pcm"}),
    # Devanagari: Nepali, Marathi and Sanskrit on short Hindi (greetings, one-line answers).
    "hi": frozenset({"ne", "mr", "sa"}),
    # Cyrillic: Macedonian and Bulgarian on short Russian without ы/э.
    "ru": frozenset({"mk", "bg"}),
}


def language_key(tag: str) -> str:
    """The macrolanguage-level key of a BCP-47 tag or a py3langid label (`zh-Hans` -> `zh`, `ary` ->
    `ar`, `nb` -> `no`). Raises ValueError for a tag langcodes cannot parse."""
    try:
        language = langcodes.Language.get(langcodes.standardize_tag(tag)).language
    except LanguageTagError as exc:
        raise ValueError(f"not a BCP-47 language tag: {tag!r}") from exc
    if not language:
        raise ValueError(f"not a BCP-47 language tag: {tag!r}")
    return MACROLANGUAGES.get(language, language)


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE)


@functools.cache
def detectable_keys() -> frozenset[str]:
    """The language keys py3langid can name (142 labels in 0.4, fewer keys once macrolanguages merge)."""
    return frozenset(language_key(label) for label in _identifier().labels) - {NO_LANGUAGE}


def measurable(tag: str) -> bool:
    return language_key(tag) in detectable_keys()


def detect(text: str) -> str | None:
    """The key of the language py3langid finds in `text`, or None when there is no language in it."""
    if not any(unicodedata.category(c).startswith("L") for c in text):
        return None
    label, score = _identifier().classify(text)
    if score <= RAW_FLOOR or label == NO_LANGUAGE:  # no feature matched: its answer is arbitrary
        return None
    return language_key(label)


def in_language(text: str, tag: str) -> bool | None:
    """True / False as above, None when `tag` is not measurable (see the module's docstring)."""
    expected = language_key(tag)
    if expected not in detectable_keys():
        return None
    found = detect(text)
    if found is None:
        return False
    if found == expected:
        return True
    if found == ENGLISH:
        return False
    return found in RELATIVES.get(expected, frozenset())
