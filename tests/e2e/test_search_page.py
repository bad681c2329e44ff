"""Search end to end: texts saved through the app are indexed by a real worker on queue `index`;
/search/ and the related-items panel in Chromium."""

import pytest
from django.db import transaction

from tests.conftest import client_for
from tests.e2e.conftest import browser_login, wait_until
from tests.e2e.worker_process import wait_for
from webapp.feedback.services import assignment, catalog
from webapp.jobs.models import JobStatus
from webapp.retrieval import services
from webapp.retrieval.models import IndexBuild, SearchIndex

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

TEXTS = [
    ("en", "When does the train to Berlin leave?", "g-train"),
    ("de", "Wann fährt der Zug nach Berlin ab?", "g-train"),
    ("zh-Hans", "去柏林的火车什么时候出发？", ""),
    ("ar", "لماذا السماء زرقاء؟", ""),
    ("ru", "Почему небо голубое?", ""),
    ("en", "<img src=x onerror=alert(1)> Why is the sky blue?", ""),
]


@pytest.fixture
def store(settings, tmp_path, monkeypatch):
    """Worker, server and test share one MODELS_STORE of this test's own."""
    folder = tmp_path / "models_store"
    settings.MODELS_STORE = folder
    monkeypatch.setenv("MODELS_STORE", str(folder))
    return folder


def create_texts() -> dict[str, object]:
    with transaction.atomic():
        made = {}
        for language, text, group in TEXTS:
            prompt = catalog.prompt_create(content=text, language=language, group=group)
            for k in range(2):
                catalog.response_create(prompt=prompt, content=f"{text} — answer {k}")
            made[text] = prompt
    return made


def vector_count() -> int:
    row = SearchIndex.objects.first()
    return row.vector_count if row else 0


def test_a_real_worker_indexes_saved_texts_forgets_deleted_ones_and_rebuilds(store, staff, start_worker):
    start_worker()
    prompts = create_texts()  # one transaction: its texts go out as one batch after commit
    wait_for(lambda: vector_count() == 3 * len(TEXTS), timeout=120, what="the batch to be indexed")
    api = client_for(staff)
    hits = api.get("/api/v1/search/", {"q": "What time is the train to Berlin?", "language": "zh-Hans"}).json()
    assert hits["results"][0]["id"] == prompts["去柏林的火车什么时候出发？"].pk

    gone = prompts["Почему небо голубое?"]
    catalog.prompt_delete(prompt=gone)  # no signal: the search filters it and queues its removal
    results = api.get("/api/v1/search/", {"q": "Why is the sky blue?", "k": 20}).json()["results"]
    assert gone.pk not in [r["id"] for r in results if r["kind"] == "prompt"]
    wait_for(lambda: vector_count() < 3 * len(TEXTS), timeout=60, what="the deleted prompt to leave the index")

    before = SearchIndex.objects.get().folder
    job_id = api.post("/api/v1/search/index/builds/").json()["id"]
    wait_for(
        lambda: IndexBuild.objects.get(pk=job_id).status in (JobStatus.SUCCEEDED, JobStatus.FAILED),
        timeout=120,
        what="the rebuild",
    )
    job = IndexBuild.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert SearchIndex.objects.get().folder != before and vector_count() == 3 * (len(TEXTS) - 1)


@pytest.mark.browser
def test_search_page_and_related_panel_in_the_browser(store, staff, live_app, browser_page, settings):
    settings.SEARCH_INDEX_ON_SAVE = False
    prompts = create_texts()
    services.index_sync()
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/search/")
    page.fill("#search-form input[name=q]", "Why is the sky blue?")
    page.select_option("#search-form select[name=kind]", "prompt")
    page.click("#search-form button")
    first = page.wait_for_selector("#search-results li.hit")
    texts = page.locator("#search-results .hit-text").all_inner_texts()
    assert "<img src=x onerror=alert(1)> Why is the sky blue?" in texts  # shown as text, never as markup
    assert page.locator("#search-results img").count() == 0
    assert first.query_selector(".hit-text").get_attribute("dir") == "auto"
    assert set(texts[:3]) >= {"لماذا السماء زرقاء؟", "Почему небо голубое?"}
    arabic = page.locator("#search-results .hit-text", has_text="لماذا السماء زرقاء؟").first
    assert arabic.get_attribute("lang") == "ar"  # its own font stack (:lang(ar) in base.css)
    assert "q=Why+is+the+sky+blue%3F" in page.url and "kind=prompt" in page.url  # the search can be linked

    # A link with ?q= opens with the form filled in and the search run.
    page.goto(f"{live_app.url}/search/?q=Why+is+the+sky+blue%3F&kind=prompt&k=2")
    wait_until(page, "document.querySelectorAll('#search-results li.hit').length === 2")
    assert page.input_value("#search-form input[name=q]") == "Why is the sky blue?"
    assert page.inner_text("#search-status") == ""  # the loading notice is gone once results arrive

    page.select_option("#search-form select[name=language]", ["ar"])
    page.click("#search-form button")
    wait_until(page, "document.querySelectorAll('#search-results li.hit').length === 1")
    assert page.inner_text("#search-results .hit-text") == "لماذا السماء زرقاء؟"

    # The panel, mounted the way the annotator page does it, for a task the staff member holds.
    german = prompts["Wann fährt der Zug nach Berlin ab?"]
    campaign = catalog.campaign_create(name="c", languages=["de"], overlap=1)
    task = catalog.task_create(campaign=campaign, prompt=german, responses=list(german.responses.all()))
    assignment._try_lease(staff, task.pk)
    page.evaluate("() => { const d = document.createElement('div'); d.id = 'related'; document.body.append(d); }")
    page.add_script_tag(url=f"{live_app.url}/static/retrieval/related.js")
    page.evaluate(f"() => PFRelated.mount(document.getElementById('related'), {task.pk}, {{submitted: false}}).ready")
    items = page.locator("#related .pf-related-text").all_inner_texts()
    assert items[0] == "去柏林的火车什么时候出发？" and "When does the train to Berlin leave?" not in items
    assert "Consensus is shown after you submit." in page.inner_text("#related")
