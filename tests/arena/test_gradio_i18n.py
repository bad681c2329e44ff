"""The arena speaks the interface languages: Gradio's static texts come from the Django catalogues (one
gr.I18n mapping), and what the handlers say follows the visitor's language cookie or Accept-Language."""

from concurrent.futures import ThreadPoolExecutor

import gradio as gr
import pytest
from django.utils import translation
from fastapi import FastAPI
from starlette.requests import Request
from starlette.testclient import TestClient

from webapp.arena import gradio_app
from webapp.arena.gradio_app import TEXTS, arena_translations, visitor_language


def german(message: str) -> str:
    with translation.override("de"):
        return translation.gettext(message)


def visitor(accept_language: str = "", cookie: str = "") -> gr.Request:
    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    if cookie:
        headers.append((b"cookie", f"django_language={cookie}".encode()))
    return gr.Request(Request({"type": "http", "method": "POST", "path": "/arena/", "headers": headers}))


def test_the_mapping_holds_every_interface_language_from_the_catalogues():
    mapping = arena_translations()
    assert set(mapping) == {"en", "de", "es", "ar", "zh-CN"}  # Gradio's page knows Simplified Chinese as zh-CN
    assert mapping["en"]["send"] == "Send" and mapping["de"]["send"] == german("Send") == "Senden"
    for language in ("de", "es", "ar", "zh-CN"):  # every static text is translated, none left English
        assert not [key for key in TEXTS if mapping[language][key] == mapping["en"][key]], language
    with translation.override("zh-hans"):
        assert mapping["zh-CN"]["prompt"] == translation.gettext("Your prompt (any language)")
    assert mapping["de"]["heading"] == f"# {german('Polyglot Feedback arena')}\n{german(TEXTS['intro'])}"
    assert (
        "%(rounds)s" not in mapping["de"]["leaderboard_help"] and "95-%-Bootstrap" in mapping["de"]["leaderboard_help"]
    )


def test_the_mounted_arena_hands_the_german_labels_to_gradio(db):
    app = FastAPI()
    gradio_app.mount_arena(app, path="/arena")
    with TestClient(app) as client:
        config = client.get("/arena/config").json()
    assert config["i18n_translations"]["de"]["prompt"] == german("Your prompt (any language)")
    prompt = next(c for c in config["components"] if c["props"].get("elem_id") == "prompt")
    assert '"key": "prompt"' in prompt["props"]["label"]  # a key that Gradio's page looks up


@pytest.mark.parametrize(
    "accept_language,cookie,expected",
    [
        ("de-DE,de;q=0.9,en;q=0.5", "", "de"),
        ("fr-FR, es;q=0.8", "", "es"),  # the best language we have
        ("zh-CN", "", "zh-hans"),
        ("ar-EG", "", "ar"),
        ("de", "es", "es"),  # the language chosen in the site's menu wins
        ("ja", "", "en"),
        ("", "", "en"),
    ],
)
def test_the_visitor_language(accept_language, cookie, expected):
    assert visitor_language(visitor(accept_language, cookie)) == expected


def test_without_a_request_the_default_language():
    assert visitor_language(None) == "en"


def test_a_refused_vote_is_told_in_the_visitors_language(db):
    with pytest.raises(gr.Error) as refused:
        gradio_app.cast_vote("a", "", "auto", visitor("de"))
    assert refused.value.message == german("Start a battle first.") != "Start a battle first."
    assert translation.get_language() == "en"  # the handler's language did not stay behind


def test_a_refused_battle_is_told_in_the_visitors_language(db):
    with pytest.raises(gr.Error) as refused:
        list(gradio_app.start_battle("   ", "auto", visitor("de-AT,de;q=0.8")))
    assert refused.value.message == german("Write a prompt first.") != "Write a prompt first."


def test_the_leaderboard_headers_and_plot_follow_the_visitor(db):
    table, plot = gradio_app.show_leaderboard("all", "plain", visitor("ar"))
    with translation.override("ar"):
        assert table["headers"][0] == translation.gettext("rank") != "rank"
        assert translation.gettext("No votes yet in this language.") in plot
    english, _plot = gradio_app.show_leaderboard("all")
    assert english["headers"] == ["rank", "model", "rating", "95% CI", "votes", "lineage"]


def test_each_step_of_a_stream_runs_in_the_visitors_language_whatever_thread_takes_it():
    """Gradio runs each step of a generator handler in some worker thread; the language is set per step."""

    def languages():
        for _ in range(4):
            yield translation.get_language()

    steps = gradio_app._steps(languages(), "de")
    with ThreadPoolExecutor(max_workers=2) as pool:
        seen = [pool.submit(next, steps).result() for _ in range(4)]
        left = {pool.submit(translation.get_language).result() for _ in range(4)}
    assert seen == ["de"] * 4 and left == {"en"}
