"""The search API, the annotator panel's rules and staff's translation links, through HTTP."""

import pytest

from tests.conftest import client_for, make_annotator
from webapp.feedback.models import Prompt, Task
from webapp.feedback.services import assignment, catalog
from webapp.retrieval import services
from webapp.retrieval.models import LinkDecision, TranslationLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def indexed(prompts):
    services.index_sync()
    return prompts


def test_search_answers_the_documented_shape_best_first(indexed, annotator):
    reply = client_for(annotator).get("/api/v1/search/", {"q": "Why is the sky blue?", "k": 4})
    assert reply.status_code == 200
    results = reply.json()["results"]
    assert len(results) == 4 and set(results[0]) >= {"id", "kind", "text", "language", "group", "score"}
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert {r["text"] for r in results[:3]} >= {"天空为什么是蓝色的？", "لماذا السماء زرقاء؟"}


def test_search_filters_by_languages_and_kind(indexed, annotator):
    reply = client_for(annotator).get("/api/v1/search/?q=sky+colour&language=ar,zh-hans&kind=prompt&k=10")
    results = reply.json()["results"]
    assert (
        results and {r["language"] for r in results} <= {"ar", "zh-Hans"} and {r["kind"] for r in results} == {"prompt"}
    )


def test_results_in_languages_the_model_was_not_trained_on_carry_a_warning(indexed, reviewer):
    swahili = catalog.prompt_create(content="Kwa nini anga ni la buluu?", language="sw")
    services.index_texts(items=[("prompt", swahili.pk)])
    # USE scores Swahili too low for the floor (bench/calibrate_similarity.py): this test lowers it.
    params = {"q": "Why is the sky blue?", "language": "sw", "min_score": 0}
    body = client_for(reviewer).get("/api/v1/search/", params).json()
    assert body["results"][0]["id"] == swahili.pk and "not trained on sw" in body["results"][0]["warning"]
    assert any("sw" in w for w in body["warnings"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "query is empty"),
        ({"q": "   "}, "query is empty"),
        ({"q": "x" * 2001}, "limit is 2000"),
        ({"q": "sky", "k": 0}, "k must be between"),
        ({"q": "sky", "k": "many"}, "valid integer"),
        ({"q": "sky", "kind": "image"}, "Unknown kind"),
        ({"q": "sky", "language": "xx-nope"}, "Unknown language"),
    ],
)
def test_bad_search_input_gets_a_clear_400(indexed, annotator, params, message):
    reply = client_for(annotator).get("/api/v1/search/", params)
    assert reply.status_code == 400 and message in str(reply.json())


def test_search_needs_a_login(indexed):
    assert client_for(None).get("/api/v1/search/", {"q": "sky"}).status_code in (401, 403)


# --- the annotator panel ------------------------------------------------------------------------
def leased_task(indexed, annotator, text: str) -> Task:
    prompt = indexed[text]
    campaign = catalog.campaign_create(name=f"c-{prompt.pk}", languages=[prompt.language_id], overlap=2)
    task = catalog.task_create(campaign=campaign, prompt=prompt, responses=list(prompt.responses.all()))
    assignment._try_lease(annotator, task.pk)
    return task


def settle(prompt: Prompt, users) -> Task:
    """A task of `prompt` ranked by `users`, response 1 first."""
    campaign = catalog.campaign_create(name=f"settled-{prompt.pk}", languages=[prompt.language_id], overlap=3)
    task = catalog.task_create(campaign=campaign, prompt=prompt, responses=list(prompt.responses.order_by("pk")))
    for user in users:
        assignment._try_lease(user, task.pk)
        assignment.annotation_submit(user=user, task_id=task.pk, ranking=[[1], [0]])
    return task


def test_panel_shows_other_languages_never_the_own_group_and_consensus_only_after_submit(indexed, reviewer):
    annotator_de = make_annotator("ann-de-zh", ["de", "en", "zh-Hans"])  # related items only in their languages
    task = leased_task(indexed, annotator_de, "Wann fährt der Zug nach Berlin ab?")
    chinese = indexed["去柏林的火车什么时候出发？"]
    settle(chinese, [reviewer])
    api = client_for(annotator_de)
    body = api.get("/api/v1/search/related/", {"task": task.pk}).json()
    ids = [r["id"] for r in body["results"]]
    assert body["hidden"] is False and body["submitted"] is False
    assert indexed["When does the train to Berlin leave?"].pk not in ids  # same translation group
    assert all(r["language"] != "de" and r["kind"] == "prompt" for r in body["results"])
    assert ids[0] == chinese.pk and all(r["consensus"] is None for r in body["results"])

    assignment.annotation_submit(user=annotator_de, task_id=task.pk, ranking=[[0], [1]])
    after = api.get("/api/v1/search/related/", {"task": task.pk}).json()
    best = chinese.responses.order_by("pk")[1]
    assert after["submitted"] is True and after["results"][0]["consensus"]["response_id"] == best.pk
    assert after["results"][0]["consensus"]["text"] == best.text


def test_panel_is_hidden_for_gold_items(indexed, annotator_de):
    task = leased_task(indexed, annotator_de, "Wann fährt der Zug nach Berlin ab?")
    Task.objects.filter(pk=task.pk).update(gold_position=0)
    body = client_for(annotator_de).get("/api/v1/search/related/", {"task": task.pk}).json()
    assert body == {"task": task.pk, "hidden": True, "submitted": False, "results": []}


def test_panel_refuses_tasks_the_annotator_neither_holds_nor_annotated(indexed, annotator_de, annotator):
    task = leased_task(indexed, annotator_de, "Wann fährt der Zug nach Berlin ab?")
    reply = client_for(annotator).get("/api/v1/search/related/", {"task": task.pk})
    assert reply.status_code == 403 and "working on" in reply.json()["detail"]
    assert client_for(annotator).get("/api/v1/search/related/", {"task": 999999}).status_code == 404
    assert client_for(annotator).get("/api/v1/search/related/", {"task": "x"}).status_code == 400


# --- staff: translation links, duplicates, rebuilds ----------------------------------------------
def test_staff_confirm_or_reject_suggested_translation_links(indexed, staff, annotator):
    assert client_for(annotator).get("/api/v1/search/translation-links/").status_code == 403
    api = client_for(staff)
    pairs = api.get("/api/v1/search/translation-links/", {"threshold": 0.7}).json()["results"]
    password = {indexed["How do I reset my password?"].pk, indexed["Wie setze ich mein Passwort zurück?"].pk}
    assert any({p["a"]["id"], p["b"]["id"]} == password for p in pairs)
    assert all(p["a"]["language"] != p["b"]["language"] for p in pairs)
    assert all(not (p["a"]["group"] and p["a"]["group"] == p["b"]["group"]) for p in pairs)  # never already grouped

    a, b = sorted(password)
    reply = api.post("/api/v1/search/translation-links/", {"prompt_a": b, "prompt_b": a, "decision": "confirmed"})
    assert reply.status_code == 200 and reply.json()["group"] == f"link-{a}"
    assert set(Prompt.objects.filter(pk__in=password).values_list("group", flat=True)) == {f"link-{a}"}
    sky = {indexed["لماذا السماء زرقاء؟"].pk, indexed["Why is the sky blue?"].pk}
    api.post("/api/v1/search/translation-links/", {"prompt_a": min(sky), "prompt_b": max(sky), "decision": "rejected"})
    assert TranslationLink.objects.get(prompt_a=min(sky)).decision == LinkDecision.REJECTED
    again = api.get("/api/v1/search/translation-links/", {"threshold": 0.7}).json()["results"]
    assert not any({p["a"]["id"], p["b"]["id"]} in (password, sky) for p in again)
    bad = api.post("/api/v1/search/translation-links/", {"prompt_a": a, "prompt_b": a, "decision": "confirmed"})
    assert bad.status_code == 400 and "itself" in bad.json()["detail"]


def test_staff_see_near_duplicates_in_one_language(indexed, staff):
    copy = catalog.prompt_create(content="The museum is closed every Monday.", language="en")
    services.index_texts(items=[("prompt", copy.pk)])
    pairs = client_for(staff).get("/api/v1/search/duplicates/", {"threshold": 0.85}).json()["results"]
    assert {pairs[0]["a"]["id"], pairs[0]["b"]["id"]} == {copy.pk, indexed["The museum is closed on Mondays."].pk}


def test_staff_queue_a_rebuild_and_read_the_status(indexed, staff, annotator):
    assert client_for(annotator).post("/api/v1/search/index/builds/").status_code == 403
    reply = client_for(staff).post("/api/v1/search/index/builds/")
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    assert client_for(staff).post("/api/v1/search/index/builds/").status_code == 409
    status = client_for(annotator).get("/api/v1/search/index/").json()
    assert (
        status["vectors"] == 3 * len(indexed) and status["pending_vectors"] == 0 and "ar" in status["model_languages"]
    )


# --- training data near a target language -----------------------------------------------------------
def test_training_data_can_keep_the_pairs_nearest_to_a_target_language(indexed, reviewer):
    from webapp.training.data import DataSpec

    settled = [indexed[text] for text in ("When does the train to Berlin leave?", "Why is the sky blue?")]
    for prompt in settled + [indexed["The museum is closed on Mondays."]]:
        settle(prompt, [reviewer])
    everything = {row["prompt"][0]["content"] for row in DataSpec.from_params({}).rows("dpo")}
    assert everything == {p.text for p in settled} | {"The museum is closed on Mondays."}
    near = DataSpec.from_params({"near_language": "zh-hans", "near_top": 2})
    assert near.near_language == "zh-Hans"
    assert {row["prompt"][0]["content"] for row in near.rows("dpo")} == {p.text for p in settled}
    assert {row["prompt"][0]["content"] for row in near.rows("sft")} == {p.text for p in settled}
    with pytest.raises(Exception, match="near_top must be a positive"):
        DataSpec.from_params({"near_language": "de"})
