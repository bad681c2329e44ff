"""in_language on hand-made sentences in Latin, Arabic, CJK, Cyrillic and Devanagari script: the right
language, English drift counted as a miss, macrolanguages, the table of relatives, not measurable tags."""

import pytest

from ml.evaluation import language
from ml.evaluation.language import RELATIVES, detect, in_language, language_key, measurable

RIGHT = [
    ("Die Hauptstadt von Deutschland ist Berlin.", "de"),
    ("La capitale d'Italia è Roma e la città è molto antica.", "it"),
    ("De hoofdstad van Nederland is Amsterdam.", "nl"),
    ("عاصمة مصر هي القاهرة وهي مدينة كبيرة.", "ar"),
    ("北京是中国的首都，也是一座历史悠久的城市。", "zh-Hans"),
    ("東京は日本の首都で、とても大きな都市です。", "ja"),
    ("Москва — столица России и самый большой город страны.", "ru"),
    ("भारत की राजधानी नई दिल्ली है।", "hi"),
    ("The weather is nice today.", "en"),
]


@pytest.mark.parametrize(("text", "tag"), RIGHT)
def test_an_answer_in_the_expected_language_is_in_language(text, tag):
    assert in_language(text, tag) is True


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("The capital of Germany is Berlin.", "de"),
        ("The capital of Egypt is Cairo.", "ar"),
        ("Beijing is the capital of China.", "zh-Hans"),
        ("Moscow is the capital of Russia.", "ru"),
        ("Delhi is the capital of India.", "hi"),
    ],
)
def test_english_drift_is_a_miss(text, tag):
    assert detect(text) == "en"
    assert in_language(text, tag) is False


def test_another_language_of_the_same_script_is_a_miss():
    assert in_language("北京是中国的首都，也是一座历史悠久的城市。", "ja") is False  # Chinese for Japanese
    assert in_language("東京は日本の首都で、とても大きな都市です。", "zh-Hans") is False
    assert in_language("Die Hauptstadt von Deutschland ist Berlin.", "nl") is False
    assert in_language("Москва — столица России и самый большой город страны.", "hi") is False


@pytest.mark.parametrize(
    ("tag", "key"),
    [("zh-Hans", "zh"), ("zh-Hant", "zh"), ("cmn", "zh"), ("yue", "zh"), ("ary", "ar"), ("arz", "ar")]
    + [("nb", "no"), ("nn", "no"), ("id", "ms"), ("hr", "sh"), ("sr-Cyrl", "sh"), ("iw", "he"), ("de-AT", "de")],
)
def test_tags_compare_at_the_macrolanguage_level(tag, key):
    assert language_key(tag) == key


def test_macrolanguage_members_count_as_in_language():
    assert in_language("北京是中國的首都，也是一座歷史悠久的城市。", "zh-Hant") is True
    assert in_language("北京是中国的首都，也是一座历史悠久的城市。", "zh-Hant") is True  # the script is not compared
    assert in_language("القاهرة مدينة قديمة وجميلة.", "ary") is True  # Modern Standard Arabic for Moroccan
    assert in_language("Hovedstaden i Norge er Oslo.", "nb") is True  # py3langid says "no"


@pytest.mark.parametrize(
    ("text", "tag", "detected"),
    [
        ("de kat is op die dak en die hond", "nl", "af"),
        ("La capital de España es Madrid.", "es", "ext"),
        ("La ciutat és molt bonica i la gent és amable.", "it", "ca"),
        ("नमस्ते", "hi", "sa"),
    ],
)
def test_a_relative_the_detector_confuses_counts_as_in_language(text, tag, detected):
    assert detect(text) == detected
    assert detected in RELATIVES[language_key(tag)]
    assert in_language(text, tag) is True


def test_the_table_of_relatives_is_one_way_and_never_names_english():
    assert in_language("de kat is op die dak en die hond", "de") is False  # af is Dutch's relative only
    assert in_language("La capital de España es Madrid.", "fr") is False
    assert all("en" not in accepted for expected, accepted in RELATIVES.items() if expected != "en")


def test_english_never_counts_even_if_the_table_listed_it(monkeypatch):
    monkeypatch.setitem(language.RELATIVES, "de", frozenset({"en"}))
    assert in_language("The capital of Germany is Berlin.", "de") is False


@pytest.mark.parametrize("tag", ["mi", "haw", "sm", "chr"])
def test_a_language_py3langid_lacks_is_not_measurable(tag):
    assert not measurable(tag)
    assert in_language("Kei te pēhea koe?", tag) is None
    assert in_language("The weather is nice today.", tag) is None  # not even English is a miss


@pytest.mark.parametrize("text", ["", "   \n", "12 345", "!!! ???", "ok"])
def test_text_without_language_is_a_miss(text):
    assert detect(text) is None
    assert in_language(text, "de") is False


def test_a_tag_that_is_no_tag_is_an_error():
    with pytest.raises(ValueError, match="not a BCP-47"):
        in_language("Hallo", "not a tag")
