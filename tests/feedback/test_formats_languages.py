"""Languages as the published datasets write them (webapp/feedback/formats/languages.py): names, ISO 639-3
codes and tags all map to the store's BCP-47 tags; the code wins over the name; an unknown one is an error."""

import pytest

from webapp.feedback.formats.languages import language_from_value, language_tag
from webapp.feedback.formats.parsing import LineError


@pytest.mark.parametrize(
    "code, tag",
    [
        ("por", "pt"),
        ("swh", "sw"),
        ("ary", "ary"),
        ("arb", "ar"),
        ("deu", "de"),
        ("pt_br", "pt-BR"),
        ("zh-hans", "zh-Hans"),
        ("EN", "en"),
        ("cmn", "zh"),
    ],
)
def test_codes_and_tags_map_to_canonical_tags(code, tag):
    assert language_tag(code=code) == tag


@pytest.mark.parametrize(
    "name, tag", [("Portuguese", "pt"), ("Moroccan Arabic", "ary"), ("Swahili", "sw"), ("German", "de")]
)
def test_names_map_to_tags(name, tag):
    assert language_tag(name=name) == tag and language_from_value(name) == tag


def test_the_code_wins_over_the_name():
    assert language_tag(code="por", name="English") == "pt"


@pytest.mark.parametrize("kwargs", [{"code": "xyz-!"}, {"code": "und"}, {"name": "Elvish"}, {}, {"code": 7}])
def test_an_unknown_or_missing_language_is_an_error(kwargs):
    with pytest.raises(LineError):
        language_tag(**kwargs)
