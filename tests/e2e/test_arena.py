"""The arena end to end: the real ASGI app (Django + Gradio) under uvicorn on loopback, driven with
gradio_client and once with a browser. Answers stream from tiny models through the local backend."""

import json
import urllib.request

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.e2e.server_process import ServerProcess
from webapp.arena.models import Battle, Vote
from webapp.feedback.models import PreferenceRecord
from webapp.feedback.services.languages import language_get_or_create
from webapp.modelstore.services import variant_set_enrolled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

PROMPT = "Tell me a short story about the sea and a lighthouse."


@pytest.fixture
def arena(tiny_variants):
    for code in ("en", "de"):
        language_get_or_create(code)
    for variant in tiny_variants:
        variant_set_enrolled(variant=variant, enrolled=True)
    return tiny_variants


class Servers:
    """uvicorn processes on the test database, with arena settings from the environment, and the
    gradio clients connected to them (closed first: their heartbeat streams hold uvicorn's shutdown)."""

    def __init__(self, tmp_path, monkeypatch):
        self.tmp_path, self.monkeypatch = tmp_path, monkeypatch
        self.servers: list[ServerProcess] = []
        self.clients: list[Client] = []

    def start(self, **env: str) -> ServerProcess:
        for name, value in {"ARENA_MAX_NEW_TOKENS": "16", **env}.items():
            self.monkeypatch.setenv(name, value)
        self.servers.append(ServerProcess(self.tmp_path / f"uvicorn-{len(self.servers)}.log"))
        return self.servers[-1]

    def client(self, server: ServerProcess) -> Client:
        self.clients.append(Client(f"{server.url}/arena/", verbose=False))
        return self.clients[-1]

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        for server in self.servers:
            server.stop()


@pytest.fixture
def servers(tmp_path, monkeypatch):
    running = Servers(tmp_path, monkeypatch)
    yield running
    running.stop()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return json.loads(reply.read())


def test_a_battle_streams_two_answers_and_one_vote_lands_as_a_preference(arena, servers):
    server = servers.start()
    client = servers.client(server)
    job = client.submit(PROMPT, "auto", api_name="/battle")
    updates = list(job)
    text_a, text_b, language, status = job.result()
    assert text_a and text_b and language == "en" and "complete" in status
    # Streamed: the answers grew over several updates before the final one.
    assert len({(a, b) for a, b, *_ in updates}) >= 3
    battle = Battle.objects.get()
    assert (battle.response_a, battle.response_b, battle.status) == (text_a, text_b, "ready")

    reveal = client.predict("auto", api_name="/vote_a")
    assert f"Model A was **{battle.variant_a.name}**" in reveal
    record = PreferenceRecord.objects.get()
    assert (record.source, record.outcome, record.model_a, record.response_a) == (
        "arena",
        "a",
        battle.variant_a.name,
        text_a,
    )
    with pytest.raises(AppError, match="already has a vote"):
        client.predict("auto", api_name="/vote_b")
    assert Vote.objects.count() == 1

    table, plot = client.predict("all", api_name="/leaderboard")
    assert {row[1] for row in table["data"]} == {battle.variant_a.name, battle.variant_b.name}
    assert "<svg" in plot
    ratings = get_json(f"{server.url}/api/v1/arena/leaderboard/?language=en")["ratings"]
    winner, loser = ratings
    assert winner["variant"] == battle.variant_a.name and winner["votes"] == loser["votes"] == 1
    assert winner["rating"] > loser["rating"]


def test_the_generation_limit_holds_across_two_server_processes(arena, servers):
    first = servers.start(ARENA_GENERATION_LIMIT="2", ARENA_MAX_NEW_TOKENS="4")
    second = servers.start(ARENA_GENERATION_LIMIT="2", ARENA_MAX_NEW_TOKENS="4")
    clients = [servers.client(server) for server in (first, second)]
    clients[0].predict("Hello, how are you today?", "en", api_name="/battle")
    clients[1].predict("Hello, how are you today?", "en", api_name="/battle")
    for client in clients:
        with pytest.raises(AppError, match="Too many answers"):
            client.predict("One more question, please.", "en", api_name="/battle")
    assert Battle.objects.count() == 2


@pytest.mark.browser
def test_the_arena_page_shows_the_notice_and_takes_a_vote(arena, servers, browser_page):
    server = servers.start()
    page = browser_page
    page.goto(f"{server.url}/arena")  # without the slash: redirected
    notice = page.locator("#data-notice")
    notice.wait_for(timeout=60_000)
    assert "may be used to train" in notice.inner_text()
    prompt = page.locator("#prompt textarea")
    assert notice.bounding_box()["y"] < prompt.bounding_box()["y"]
    prompt.fill("Wie koche ich Reis am besten?")
    page.click("#send")
    page.locator("#vote-b:not([disabled])").wait_for(timeout=120_000)
    page.click("#vote-b")
    page.locator("#result:has-text('Model A was')").wait_for(timeout=30_000)
    assert PreferenceRecord.objects.get().language_id == "de"  # detected
    page.locator("#vote-a[disabled]").wait_for(timeout=10_000)  # one vote per battle


def test_a_burst_beyond_the_queue_is_turned_away_while_the_site_keeps_answering(arena, servers):
    server = servers.start(ARENA_CONCURRENCY="1", ARENA_QUEUE_SIZE="2", ARENA_MAX_NEW_TOKENS="32")
    clients = [servers.client(server) for _ in range(6)]
    jobs = [
        client.submit(f"Question number {i}: what is the sea?", "en", api_name="/battle")
        for i, client in enumerate(clients)
    ]
    assert get_json(f"{server.url}/api/v1/arena/leaderboard/")["ratings"] == []  # Django answers meanwhile
    outcomes = []
    for job in jobs:
        try:
            job.result(timeout=120)
            outcomes.append("answered")
        except Exception as exc:  # noqa: BLE001 - the client's error types differ between refusals
            outcomes.append(str(exc))
    # One running and two waiting are answered; the rest joined while the first was still loading the
    # model and generating, and were refused at once instead of piling up.
    assert outcomes.count("answered") == 3, outcomes
    assert all("queue is full" in o.lower() for o in outcomes if o != "answered"), outcomes


@pytest.mark.browser
def test_a_german_browser_gets_the_arena_in_german(servers, browser_page):
    """Gradio's page shows the labels from the German catalogue to a browser set to German, and what the
    server says (here the refusal of an empty prompt) is German too."""
    from django.utils import translation

    from tests.e2e.conftest import csp_violations

    server = servers.start()
    context = browser_page.context.browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = csp_violations(page)
    page.goto(f"{server.url}/arena/")
    with translation.override("de"):
        send, prompt_label = translation.gettext("Send"), translation.gettext("Your prompt (any language)")
        leaderboard = translation.gettext("Leaderboard")
        refused = translation.gettext("Write a prompt first.")
    assert send == "Senden" and prompt_label != "Your prompt (any language)"
    page.locator("#send").wait_for(timeout=60_000)
    page.locator(f"#send:has-text('{send}')").wait_for(timeout=10_000)
    assert prompt_label in page.locator("#prompt").inner_text()
    assert page.get_by_role("tab", name=leaderboard).count() == 1
    page.click("#send")  # no prompt: the server refuses in the visitor's language
    page.get_by_text(refused).first.wait_for(timeout=30_000)
    context.close()
    assert not violations, violations


def platform_font(page, selector: str) -> str:
    """The font Chromium actually drew the element's text with (not the CSS stack it was asked for)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return max(fonts, key=lambda font: font["glyphCount"])["familyName"]


def battle_in_the_page(page, prompt: str, vote: str) -> None:
    page.locator("#prompt textarea").fill(prompt)
    page.click("#send")
    page.locator(f"#vote-{vote}:not([disabled])").wait_for(timeout=120_000)
    page.click(f"#vote-{vote}")
    page.locator(f"#vote-{vote}[disabled]").wait_for(timeout=30_000)


@pytest.mark.browser
def test_each_prompt_gets_its_own_language_and_arabic_is_laid_out_right_to_left(arena, servers, browser_page):
    language_get_or_create("ar")
    server = servers.start()
    page = browser_page
    page.goto(f"{server.url}/arena/")
    page.locator("#prompt textarea").wait_for(timeout=60_000)
    assert page.locator("#home-link a[href='/']").count() == 1  # a way back to the site
    assert platform_font(page, "#vote-a").startswith("Noto")  # the site's font, not Gradio's own

    battle_in_the_page(page, "ما هي أفضل طريقة لطهي الأرز حتى لا يلتصق؟", "a")
    answer = page.locator("#answer-a textarea")
    assert (answer.get_attribute("dir"), answer.get_attribute("lang")) == ("rtl", "ar")
    assert page.locator("#answer-b textarea").get_attribute("dir") == "rtl"

    # No language chosen: the German prompt is detected again, not stored as the Arabic battle's language.
    battle_in_the_page(page, "Wie koche ich Reis am besten, damit er nicht klebt?", "b")
    records = PreferenceRecord.objects.order_by("created_at")
    assert [record.language_id for record in records] == ["ar", "de"]
    assert [vote.battle.detected_language for vote in Vote.objects.order_by("created_at")] == ["ar", "de"]
    assert (answer.get_attribute("dir"), answer.get_attribute("lang")) == ("ltr", "de")
