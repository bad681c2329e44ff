"""The whole loop as one user story (webapp/pages/loop_story.py), with tiny models: the real ASGI app under
uvicorn (Django + the Gradio arena), a real Celery worker on the gpu, default and index queues, the
configured broker and database (PostgreSQL + Redis in CI's services run). Every link is checked:
ids, sources, lineage, ratings and exports."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.conftest import make_annotator
from tests.e2e.server_process import ServerProcess
from webapp.feedback.models import Annotation, Lease, PreferenceRecord
from webapp.modelstore.models import ModelVariant
from webapp.pages.loop_story import LANGUAGES, PROMPTS, LoopStory, prepare_accounts
from webapp.training.models import TrainingJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def app_server(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_MAX_NEW_TOKENS", "12")
    server = ServerProcess(tmp_path / "uvicorn.log")
    yield server
    server.stop()


def test_annotations_train_a_model_that_the_arena_compares_and_its_votes_train_the_next(
    tiny_variants, app_server, start_worker, monkeypatch
):
    base, adapter_a, _ = tiny_variants
    User.objects.create_superuser("admin", password="pw-admin")
    staff_token, annotators = prepare_accounts()
    start_worker(queues="gpu,default,index,sweep")
    lines = []
    story = LoopStory(
        base_url=app_server.url,
        staff_token=staff_token,
        annotator_tokens=annotators,
        base_model=base.name,
        first_round=[base.name, adapter_a.name],  # two models, so round 1 has a consistency table
        max_new_tokens=12,
        samples=4,  # random tiny models often answer with an empty string
        train_steps=4,
        battles=4,
        timeout=300,
        say=lines.append,
    )
    story.browser_annotator = rank_one_task_in_the_browser
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
    result = story.play()

    # 1-2: tasks from generation in three languages, every one ranked by both annotators.
    assert len(result.tasks) == len(PROMPTS) * len(LANGUAGES)
    ranked = Annotation.objects.filter(task__campaign_id=result.campaign)
    assert result.browser_annotations == 1
    assert ranked.count() == result.annotations + 1 == 2 * (len(result.tasks) + len(result.second_round_tasks))
    assert ranked.filter(annotator__username="loop-browser").count() == 1
    overall = result.review["agreement"][0]
    assert overall["tasks"] == len(result.tasks) + len(result.second_round_tasks) and overall["pairwise"] is not None
    assert result.review["consistency"], "no cross-lingual consistency rows"
    assert {row["group"] for row in result.review["consistency"]} <= set(PROMPTS)

    # 3: the first job trained on annotations and registered a variant with an evaluation.
    first = ModelVariant.objects.get(name=result.first_job["variant"])
    assert first.parent == base and set(first.lineage["data"]["by_source"]) == {"annotation"}
    assert first.metrics["evaluation"]["all"]["n"] > 0

    # 4: round 2 compares the new variant with the base.
    models = {item["model_name"] for task in result.second_round_tasks for item in task_items(task)}
    assert models == {base.name, first.name}

    # 5: every battle's vote is an arena preference record between the two enrolled models.
    votes = PreferenceRecord.objects.filter(source="arena")
    assert votes.count() == len(result.votes) == 4
    assert all({v.model_a, v.model_b} == {base.name, first.name} for v in votes)

    # 6: the second job selected annotations and arena votes: its snapshot lists the arena pairs by id.
    second_job = TrainingJob.objects.get(pk=result.second_job["id"])
    second = second_job.variant
    # An adapter trains on its parent's merged copy, which names the first variant as its parent.
    assert second.lineage["requested_parent"] == first.name and second.parent.parent == first
    assert set(second.lineage["data"]["by_source"]) == {"annotation", "arena"}
    snapshot_ids = {
        line.split("\t")[1]
        for line in (Path(settings.MODELS_STORE) / second.lineage["data"]["pair_ids"]).read_text().splitlines()
    }
    assert {v.external_id for v in votes if v.outcome in ("a", "b")} <= snapshot_ids

    # 7: the leaderboard rates both models; the exports hold the records of every source.
    assert {row["variant"] for row in result.leaderboard} == {base.name, first.name}
    assert sum(row["votes"] for row in result.leaderboard) == 2 * len(votes)
    pairs = result.exports["pairs"]
    assert {row["source"] for row in pairs} == {"annotation", "arena"}
    assert {row["id"] for row in pairs if row["source"] == "arena"} == {
        v.external_id for v in votes if v.outcome in ("a", "b")
    }
    assert {row["id"] for row in result.exports["dpo"]} == {row["id"] for row in pairs}
    assert result.exports["sft"] and all(row["completion"][0]["role"] == "assistant" for row in result.exports["sft"])
    assert len(result.exports["rankings"]) == len(result.tasks) + len(result.second_round_tasks)
    assert any("The leaderboard" in line for line in lines)


def rank_one_task_in_the_browser(story: LoopStory) -> int:
    """A third annotator ranks one task of the story's campaign on /annotate/ with the keyboard."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.server_process import CHROMIUM, CHROMIUM_ARGS

    user = make_annotator("loop-browser", list(LANGUAGES))
    user.set_password("pw-loop-browser")
    user.save()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        calls = api_calls(page)
        page.goto(f"{story.base_url}/accounts/login/")
        page.fill("#id_username", "loop-browser")
        page.fill("#id_password", "pw-loop-browser")
        page.click("main button[type=submit]")
        page.goto(f"{story.base_url}/annotate/?campaign={story.result.campaign}")
        page.wait_for_selector("#ranking .card:focus")
        # One task only: the page would lease the next one after submitting, holding a slot the API
        # annotators need, so further tasks/next calls are cut off.
        page.route("**/api/v1/tasks/next/", lambda route: route.abort())
        page.keyboard.press("ArrowDown")
        page.keyboard.press("1")
        # Wait in Playwright, not in a Python loop: the route handler above runs only while Playwright is called,
        # and a tasks/next left pending until the browser closes may still reach the server and lease a second
        # task, holding a slot an API annotator needs (seen on PostgreSQL as one ranking short).
        with page.expect_request(lambda request: request.url.endswith("/api/v1/tasks/next/")):
            with page.expect_response(lambda reply: "/annotations/" in reply.url and reply.request.method == "POST"):
                page.keyboard.press("Enter")
        page.wait_for_timeout(200)
        browser.close()
    leased = list(Lease.objects.filter(annotator=user).values_list("task_id", flat=True))
    ranked = list(Annotation.objects.filter(annotator=user).values_list("task_id", flat=True))
    # Rare, seen under load on PostgreSQL (also before the pool): what the page asked, to tell which call leased.
    assert not leased, f"the browser annotator holds a lease after it ranked: leased {leased}, ranked {ranked}, {calls}"
    return Annotation.objects.filter(annotator=user).count()


def api_calls(page) -> list[tuple]:
    """The page's API requests, responses (with their status) and failed requests, in order, as they happen."""
    calls: list[tuple] = []

    def note(kind: str, url: str, status: object = "") -> None:
        if "/api/v1/" in url:
            calls.append((kind, url.split("/api/v1/")[-1], status))

    page.on("request", lambda request: note(request.method, request.url))
    page.on("response", lambda reply: note("reply", reply.url, reply.status))
    page.on("requestfailed", lambda request: note("failed", request.url))
    return calls


def task_items(task_id: int) -> list[dict]:
    from webapp.feedback.models import TaskResponse

    items = TaskResponse.objects.filter(task_id=task_id).select_related("response__origin__variant")
    return [{"model_name": _origin_name(item.response)} for item in items]


def _origin_name(response) -> str:
    """The generating variant's name (modelstore.ResponseOrigin), else the stored model name."""
    origin = getattr(response, "origin", None)
    return origin.variant.name if origin is not None else response.model_name
