"""The battle's language is detected afresh for each prompt unless the visitor chose one for that prompt:
what the arena shows after a battle (its stored language) is that battle's, not a choice for the next one."""

import pytest

from webapp.arena import gradio_app, services
from webapp.arena.gradio_app import AUTO, language_for_prompt, remember_choice, text_direction
from webapp.feedback.services.languages import language_get_or_create

GERMAN = "Wie koche ich Reis am besten, damit er nicht klebt?"
ARABIC = "ما هي أفضل طريقة لطهي الأرز حتى لا يلتصق؟"


@pytest.fixture
def arena_languages(languages):
    return [*languages, language_get_or_create("ar")]


def test_two_battles_in_a_row_with_no_choice_are_stored_in_their_own_languages(arena_languages, variants):
    code = services.battle_language_choice(prompt=GERMAN, shown=None)
    first = services.battle_start(prompt=GERMAN, client_hash="c" * 64, language_code=code)
    assert first.language_id == "de"
    # the arena now shows "de" for the German prompt; the visitor writes an Arabic one and chooses nothing
    code = services.battle_language_choice(
        prompt=ARABIC, shown=first.language_id, sent_prompt=first.prompt, sent_language=first.language_id
    )
    assert code is None
    second = services.battle_start(prompt=ARABIC, client_hash="c" * 64, language_code=code)
    assert (second.language_id, second.detected_language) == ("ar", "ar")


@pytest.mark.parametrize(
    "prompt,shown,sent_prompt,sent_language,expected",
    [
        (ARABIC, None, "", "", None),  # nothing chosen
        (ARABIC, "de", GERMAN, "de", None),  # the last battle's language, shown for another prompt
        (ARABIC, "ar", GERMAN, "de", "ar"),  # chosen for this prompt
        (ARABIC, "de", "", "", "de"),  # chosen before any battle (even a wrong one: the visitor's call)
        (f"  {GERMAN} ", "de", GERMAN, "de", "de"),  # the same prompt again: the same battle's language
    ],
)
def test_only_a_language_chosen_for_the_prompt_counts_as_a_choice(prompt, shown, sent_prompt, sent_language, expected):
    assert (
        services.battle_language_choice(
            prompt=prompt, shown=shown, sent_prompt=sent_prompt, sent_language=sent_language
        )
        == expected
    )


def test_the_dropdown_goes_back_to_auto_for_a_new_prompt_but_keeps_a_choice():
    sent = {"prompt": GERMAN, "language": "de"}
    assert language_for_prompt(GERMAN, "de", sent) == "de"
    assert language_for_prompt(ARABIC, "de", sent) == AUTO
    assert language_for_prompt(ARABIC, AUTO, sent) == AUTO
    # picked in the dropdown while writing the Arabic prompt: a choice, kept when it is sent
    assert remember_choice(ARABIC, "ar", sent) == {}
    assert language_for_prompt(ARABIC, "ar", {}) == "ar"


def test_a_correction_after_a_battle_belongs_to_that_battle():
    sent = remember_choice(GERMAN, "nl", {"prompt": GERMAN, "language": "de"})
    assert sent == {"prompt": GERMAN, "language": "nl"}
    assert language_for_prompt(ARABIC, "nl", sent) == AUTO  # the next prompt is detected again


def test_arabic_texts_are_laid_out_right_to_left_with_their_language(arena_languages):
    prompt, answer_a, answer_b = text_direction("ar")
    for update in (prompt, answer_a, answer_b):
        assert update["rtl"] is True and update["html_attributes"].lang == "ar"
    prompt, answer_a, _answer_b = text_direction("de")
    assert prompt["rtl"] is False and answer_a["html_attributes"].lang == "de"
    prompt, answer_a, _answer_b = text_direction(AUTO)
    assert prompt["rtl"] is False and prompt["html_attributes"] is None
    assert answer_a == {"__type__": "update"}  # the last battle's answers keep their direction


def test_the_arena_page_links_back_to_the_site_and_uses_its_font():
    translations = gradio_app.arena_translations()
    assert translations["en"]["home_link"] == "[Home](/)"
    assert translations["de"]["home_link"] == "[Start](/)"
    assert gradio_app.arena_theme().font.startswith("system-ui, 'Noto Sans'")
    assert ':lang(ar), :lang(fa), :lang(ur) { font-family: "Noto Naskh Arabic"' in gradio_app.arena_css()
