"""Search shows each user only what the rest of the API shows them: an annotator finds texts in
their own languages only (prompts and responses), through the API, the related-items panel and
the id selector inside FAISS; reviewers and staff find everything."""

import pytest

from ml.embedding import vectors
from tests.conftest import client_for, make_annotator
from webapp.feedback.services import assignment, catalog
from webapp.retrieval import selectors, services
from webapp.retrieval.models import TextKind

pytestmark = pytest.mark.django_db

GERMAN = "Warum ist der Himmel blau?"


@pytest.fixture
def indexed(prompts, settings):
    """Every text a candidate, however far from the query: these tests are about who sees what, so
    they need hits in every language and kind, not only the similar ones."""
    settings.SEARCH_MIN_SCORE = 0.0
    settings.RELATED_MIN_SCORE = 0.0
    services.index_sync()
    return prompts


@pytest.fixture
def arabic_only(db):
    return make_annotator("ann-ar", ["ar"])


def _search(user, **params) -> dict:
    reply = client_for(user).get("/api/v1/search/", {"q": GERMAN, "k": 10, **params})
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_an_annotator_never_finds_texts_outside_their_languages(indexed, arabic_only):
    body = _search(arabic_only, language="de")
    assert body["results"] == [] and "only your languages (ar)" in body["warnings"][0]
    found = _search(arabic_only)["results"]
    assert found and {hit["language"] for hit in found} == {"ar"}
    assert {hit["kind"] for hit in found} == {"prompt", "response"}


def test_reviewers_and_staff_find_every_language(indexed, reviewer, staff):
    for user in (reviewer, staff):
        hits = _search(user, language="de")["results"]
        assert hits and {hit["language"] for hit in hits} == {"de"}
        assert len({hit["language"] for hit in _search(user, k=40)["results"]}) == 4


def test_the_filter_runs_inside_the_index_in_one_faiss_call(indexed, arabic_only, monkeypatch):
    calls = []
    real = vectors.search

    def spy(index, queries, k, **kwargs):
        calls.append(kwargs.get("allowed"))
        return real(index, queries, k, **kwargs)

    monkeypatch.setattr(vectors, "search", spy)
    hits = _search(arabic_only, k=3)["results"]
    assert len(hits) == 3 and len(calls) == 1
    allowed = {selectors.split_vector_id(int(i)) for i in calls[0]}
    assert allowed and all(kind in TextKind.values for kind, _ in allowed)
    arabic_ids = {(hit["kind"], hit["id"]) for hit in _search(arabic_only, k=40)["results"]}
    assert arabic_ids <= allowed


def test_related_items_show_an_annotator_only_their_other_languages(indexed, make_task):
    annotator = make_annotator("ann-de-ar", ["de", "ar"])
    task = make_task("Wann fährt der Zug nach Berlin ab?", annotator)
    results = client_for(annotator).get("/api/v1/search/related/", {"task": task.pk}).json()["results"]
    assert results and {hit["language"] for hit in results} == {"ar"}
    only_german = make_annotator("ann-only-de", ["de"])
    other = make_task("Wie setze ich mein Passwort zurück?", only_german)
    assert client_for(only_german).get("/api/v1/search/related/", {"task": other.pk}).json()["results"] == []


@pytest.fixture
def make_task(prompts):
    def make(text: str, annotator):
        campaign = catalog.campaign_create(name=f"c-{annotator.username}", languages=["de"], overlap=1)
        prompt = prompts[text]
        task = catalog.task_create(campaign=campaign, prompt=prompt, responses=list(prompt.responses.all()))
        assert assignment.tasks_next(user=annotator, campaign_id=campaign.pk) is not None
        return task

    return make
