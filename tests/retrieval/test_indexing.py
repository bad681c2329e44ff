"""Indexing services: sync, incremental batches, deletes, edits, atomic rebuild, crash recovery,
model mismatch, IVF above the threshold, and the after-commit batching of saved texts."""

import json

import pytest
from django.db import transaction

from ml.embedding import vectors
from webapp.errors import Conflict
from webapp.feedback.models import Prompt
from webapp.feedback.services import catalog
from webapp.jobs.models import JobStatus
from webapp.retrieval import indexfiles, selectors, services, signals
from webapp.retrieval.models import Embedding, IndexBuild, SearchIndex, vector_id

pytestmark = pytest.mark.django_db


def top(query: str, **filters) -> list[tuple[str, int]]:
    return [(hit["kind"], hit["id"]) for hit in selectors.search_texts(query=query, **filters)["results"]]


def index_ids() -> set[int]:
    row = SearchIndex.objects.get()
    return set(vectors.index_ids(vectors.read_index(indexfiles.absolute(row))).tolist())


def test_sync_embeds_every_text_and_search_crosses_languages(prompts):
    result = services.index_sync()
    assert result["embedded"] == 3 * len(prompts) and result["added"] == 3 * len(prompts)
    german = prompts["Wann fährt der Zug nach Berlin ab?"]
    assert top("What time does the train for Berlin depart?", languages=["de"], kinds=["prompt"], k=1) == [
        ("prompt", german.pk)
    ]
    hit = selectors.search_texts(query="recipe for soup with vegetables", languages=["ar"], k=1)["results"][0]
    assert hit["text"] == "أعطني وصفة لحساء الخضار." and hit["group"] == "g-soup" and hit["warning"] is None
    assert Embedding.objects.filter(indexed=False).count() == 0
    assert services.index_sync() == {"embedded": 0, "removed": 0, "remaining": 0, "added": 0}  # nothing left to do


def test_a_limited_sync_embeds_one_chunk_and_says_how_many_are_left(prompts):
    total = 3 * len(prompts)
    first = services.index_sync(limit=5)
    assert (first["embedded"], first["remaining"]) == (5, total - 5)
    assert Embedding.objects.count() == 5 and len(index_ids()) == 5  # the chunk is searchable already
    rest = services.index_sync(limit=total)
    assert (rest["embedded"], rest["remaining"]) == (total - 5, 0) and len(index_ids()) == total


def test_incremental_batch_adds_new_texts_and_edits_replace_their_vector(prompts):
    services.index_sync()
    new = catalog.prompt_create(content="¿Cuántas calorías tiene una manzana?", language="es")
    assert top("How many calories are in an apple?", languages=["es"]) == []
    assert services.index_texts(items=[("prompt", new.pk)])["added"] == 1
    assert top("How many calories are in an apple?", languages=["es"], k=1) == [("prompt", new.pk)]

    catalog.prompt_edit(prompt=new, content="El museo está cerrado los lunes.")  # in place: no task uses it
    services.index_texts(items=[("prompt", new.pk)])
    assert top("The museum is closed on Mondays.", languages=["es"], k=1) == [("prompt", new.pk)]
    assert SearchIndex.objects.get().vector_count == 3 * len(prompts) + 1  # replaced, not added twice


def test_deleted_texts_leave_results_at_once_and_the_index_after(prompts, isolated_store):
    services.index_sync()
    gone = prompts["How do I reset my password?"]
    catalog.prompt_delete(prompt=gone)  # a soft delete: an UPDATE, no signal
    found = top("reset my password", k=5)
    assert ("prompt", gone.pk) not in found and ("prompt", prompts["Wie setze ich mein Passwort zurück?"].pk) in found
    assert vector_id("prompt", gone.pk) in isolated_store  # queued for removal by the search
    services.index_forget(vector_ids=isolated_store)
    assert vector_id("prompt", gone.pk) not in index_ids()
    responses = list(gone.responses.values_list("pk", flat=True))
    services.index_sync()  # its responses were deleted with it (those the search met are gone already)
    assert not {vector_id("response", pk) for pk in responses} & index_ids()


def test_rebuild_builds_aside_and_swaps_atomically(prompts, monkeypatch):
    services.index_sync()
    old = SearchIndex.objects.get()
    before = top("Why is the sky blue?", k=3)
    seen_during_build = []
    real_build = vectors.build_index

    def build_and_search(*args, **kwargs):
        built = real_build(*args, **kwargs)
        # The new index exists but is not live: searches still read the old folder.
        seen_during_build.append((SearchIndex.objects.get().folder, top("Why is the sky blue?", k=3)))
        return built

    monkeypatch.setattr(vectors, "build_index", build_and_search)
    job = services.index_build_create(user=None)
    with pytest.raises(Conflict):
        services.index_build_create(user=None)  # one rebuild at a time
    services.index_build_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert seen_during_build == [(old.folder, before)]
    row = SearchIndex.objects.get()
    assert row.folder != old.folder and row.generation > old.generation and row.built_at
    assert not indexfiles.absolute(old).exists()
    assert top("Why is the sky blue?", k=3) == before
    assert job.result["vectors"] == 3 * len(prompts) and "IndexFlatIP" in job.result["index"]


def test_vectors_stored_before_a_crash_are_applied_by_the_next_batch(prompts):
    services.index_sync()
    text = catalog.prompt_create(content="Турист потерял паспорт в аэропорту.", language="ru")
    services.embeddings_store(
        embedder=selectors.current_embedder(), kind="prompt", rows=[(text.pk, text.text, text.content_hash)]
    )  # ...and the worker died before writing the index file
    assert ("prompt", text.pk) not in top("A tourist lost his passport at the airport", k=3)
    services.index_texts(items=[])  # any later batch applies what is stored but not indexed
    assert top("A tourist lost his passport at the airport", k=1) == [("prompt", text.pk)]


def test_a_lost_or_inconsistent_index_file_is_reconciled_from_stored_vectors(prompts):
    services.index_sync()
    row = SearchIndex.objects.get()
    folder = indexfiles.absolute(row)
    expected = index_ids()
    manifest = json.loads((folder / vectors.MANIFEST_FILE).read_text())
    (folder / vectors.MANIFEST_FILE).write_text(json.dumps({**manifest, "count": manifest["count"] + 3}))
    services.index_texts(items=[])
    assert index_ids() == expected and vectors.Manifest.read(folder).count == len(expected)

    (folder / vectors.INDEX_FILE).unlink()
    indexfiles.remove_folder(folder)
    assert selectors.search_texts(query="sky", k=1)["results"] == []  # no file: nothing, not stale results
    services.index_texts(items=[])
    assert index_ids() == expected


def test_a_corrupt_stored_vector_is_dropped_and_embedded_again(prompts):
    services.index_sync()
    victim = Embedding.objects.filter(kind="prompt").first()
    Embedding.objects.filter(pk=victim.pk).update(vector=b"\0" * len(bytes(victim.vector)), indexed=False)
    services.index_texts(items=[])
    assert not Embedding.objects.filter(pk=victim.pk).exists()
    assert services.index_sync()["embedded"] == 1
    assert vector_id(victim.kind, victim.object_id) in index_ids()


def test_an_index_built_by_another_model_is_refused(prompts):
    services.index_sync()
    SearchIndex.objects.update(model_key="paraphrase-multilingual-MiniLM-L12-v2@hub")
    with pytest.raises(Conflict, match="built by paraphrase-multilingual"):
        selectors.search_texts(query="sky")
    with pytest.raises(Conflict, match="names model"):
        selectors.search_texts(query="sky", model="all-MiniLM-L6-v2@x")


def test_a_large_flat_index_is_rebuilt_as_ivf(prompts, settings):
    settings.SEARCH_FLAT_MAX = 10
    services.index_sync()
    job = IndexBuild.objects.get(status=JobStatus.QUEUED)  # scheduled by the sync that outgrew flat
    services.index_build_run(job.pk)
    row = SearchIndex.objects.get()
    assert row.params["kind"] == "ivf" and row.params["nlist"] >= 1 and row.params["trained_on"] == 3 * len(prompts)
    german = prompts["Wann fährt der Zug nach Berlin ab?"]
    assert top("When does the train to Berlin leave?", languages=["de"], kinds=["prompt"], k=1) == [
        ("prompt", german.pk)
    ]


def test_saved_texts_are_sent_in_one_batch_after_commit_and_never_after_rollback(
    db, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SEARCH_INDEX_ON_SAVE = True
    sent = []
    monkeypatch.setattr(signals._Batch, "send", lambda self: sent.append(sorted(self.items)))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            a = catalog.prompt_create(content="one", language="en")
            b = catalog.prompt_create(content="two", language="en")
            r = catalog.response_create(prompt=a, content="three")
    assert sent == [sorted([("prompt", a.pk), ("prompt", b.pk), ("response", r.pk)])]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            catalog.prompt_create(content="rolled back", language="en")
            raise RuntimeError
    assert sent == [] and not Prompt.objects.filter(text="rolled back").exists()
