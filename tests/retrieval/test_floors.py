"""Similarity floors through the HTTP API, with the real default embedder: search returns nothing for
a nonsense query (and says why) but still finds a translation; the related-items panel shows nothing
rather than noise, and a prompt on the same topic when there is one. The prompts come from the
calibration set that chose the floors (bench/data/parallel.jsonl, bench/calibrate_similarity.py)."""

import json
from pathlib import Path

import pytest

from ml.embedding import vectors
from tests.conftest import client_for, make_annotator
from webapp.feedback.services import assignment, catalog
from webapp.retrieval import services

pytestmark = pytest.mark.django_db

PARALLEL = Path(__file__).resolve().parents[2] / "bench" / "data" / "parallel.jsonl"
ROWS = {row["id"]: row for row in map(json.loads, PARALLEL.read_text().splitlines())}
# (calibration id, languages): each id is its own translation group.
CORPUS = [
    ("bread-keep", ("de", "en")),
    ("bread-store", ("en",)),  # another prompt on the same topic
    ("git-undo", ("en", "zh-Hans")),
    ("mona-lisa", ("es", "ar")),
    ("earthquakes", ("de",)),
    ("celsius", ("fr",)),
    ("ocean-salt", ("ja",)),
]
NONSENSE = ["asdfghjkl", "blorf mipta zandu kelo", "#$%^&*()_+", "ж漢ب ק x9 ☃ ñ"]


@pytest.fixture
def corpus(db) -> dict[tuple[str, str], object]:
    made = {}
    for row_id, languages in CORPUS:
        for language in languages:
            made[row_id, language] = catalog.prompt_create(
                content=ROWS[row_id][language], language=language, group=row_id
            )
    services.index_sync()
    return made


@pytest.fixture
def panel_annotator(db):
    return make_annotator("ann-panel", ["de", "en", "fr", "es", "ar", "zh-Hans", "ja"])


def search(user, **params) -> dict:
    reply = client_for(user).get("/api/v1/search/", params)
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_a_nonsense_query_finds_nothing_and_says_why(corpus, annotator, settings):
    for query in NONSENSE:
        body = search(annotator, q=query)
        assert body["results"] == [] and body["floor"] == settings.SEARCH_MIN_SCORE, query
        assert any(w.startswith("No text is similar enough to this query") for w in body["warnings"]), query


def test_a_query_in_another_language_finds_its_translation_and_nothing_unrelated(corpus, annotator):
    body = search(annotator, q=ROWS["git-undo"]["de"], k=10)
    found = {(hit["kind"], hit["id"]) for hit in body["results"]}
    assert found == {("prompt", corpus["git-undo", "en"].pk), ("prompt", corpus["git-undo", "zh-Hans"].pk)}
    assert not [w for w in body["warnings"] if "similar enough" in w]


def test_a_script_may_lower_the_floor_for_one_query_between_0_and_1(corpus, annotator):
    body = search(annotator, q=NONSENSE[0], k=5, min_score=0)
    assert body["results"] and body["floor"] == 0 and all(hit["score"] >= 0 for hit in body["results"])
    for bad in ("1.5", "-0.1", "high", "nan"):
        reply = client_for(annotator).get("/api/v1/search/", {"q": "bread", "min_score": bad})
        assert reply.status_code == 400 and "min_score" in str(reply.json()), bad


def test_search_looks_past_deleted_texts_above_the_floor_and_stops_at_it(corpus, reviewer, monkeypatch):
    copies = [catalog.prompt_create(content=f"Keep bread fresh: tip {n}", language="en") for n in range(40)]
    services.index_sync()
    for copy in copies:
        catalog.prompt_delete(prompt=copy)  # still in the index, filtered at query time
    calls = []
    real = vectors.search

    def spy(index, queries, k, **kwargs):
        calls.append(k)
        return real(index, queries, k, **kwargs)

    monkeypatch.setattr(vectors, "search", spy)
    hits = search(reviewer, q="keep bread fresh tip", k=1)["results"]  # a reviewer's search has no id selector
    assert [hit["id"] for hit in hits] == [corpus["bread-keep", "en"].pk] and len(calls) == 2  # 32 deleted first
    calls.clear()
    assert search(reviewer, q=NONSENSE[0], k=1)["results"] == [] and len(calls) == 1  # the rest scores lower


def related(user, corpus, key: tuple[str, str]) -> list[dict]:
    prompt = corpus[key]
    campaign = catalog.campaign_create(name=f"c-{prompt.pk}", languages=[prompt.language_id], overlap=1)
    responses = [catalog.response_create(prompt=prompt, content=f"Antwort {k}.") for k in range(2)]
    task = catalog.task_create(campaign=campaign, prompt=prompt, responses=responses)
    assignment._try_lease(user, task.pk)
    reply = client_for(user).get("/api/v1/search/related/", {"task": task.pk})
    assert reply.status_code == 200, reply.content
    return reply.json()["results"]


def test_the_related_panel_shows_nothing_rather_than_unrelated_prompts(corpus, panel_annotator):
    assert related(panel_annotator, corpus, ("earthquakes", "de")) == []


def test_the_related_panel_shows_a_prompt_on_the_same_topic_in_another_language(corpus, panel_annotator, settings):
    results = related(panel_annotator, corpus, ("bread-keep", "de"))
    assert [hit["id"] for hit in results] == [corpus["bread-store", "en"].pk]  # never its own group's English
    assert results[0]["score"] >= settings.RELATED_MIN_SCORE
