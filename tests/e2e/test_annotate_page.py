"""The annotator workspace in a real browser (Debian's Chromium) against the app under uvicorn:
invitation, login, ranking by keyboard alone and by dragging, ties, rationale; right-to-left text;
XSS payloads that must not run; a network error that keeps the ranking; accessibility with axe-core."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests.conftest import make_annotator
from tests.e2e.conftest import browser_login, wait_until
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Annotation, Task
from webapp.feedback.services import catalog

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]


def card_positions(page) -> list[int]:
    return [int(p) for p in page.eval_on_selector_all("#ranking .card", "cards => cards.map(c => c.dataset.position)")]


def focused_position(page) -> int:
    return int(page.evaluate("document.activeElement.dataset.position"))


def focus_card(page, position: int) -> None:
    """Move keyboard focus to a card with the arrow keys only."""
    order = card_positions(page)
    steps = order.index(position) - order.index(focused_position(page))
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert focused_position(page) == position


def prompt_of(page) -> str:
    return page.inner_text("#prompt")


def test_an_invited_annotator_ranks_by_keyboard_and_by_dragging_with_a_tie_and_a_rationale(
    staff, live_app, browser_page
):
    campaign, tasks = campaign_with_tasks(n_tasks=2, overlap=1, language="de", name="Hilfsbereitschaft")
    page = browser_page
    # Staff invite the annotator from the team page.
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/team/")
    page.fill("#id_username", "mila")
    page.check("#id_languages input[value=de]")
    page.click("main form button[type=submit]")
    link = page.input_value("#invitation-url")
    page.click("header button:text('Log out')")

    # The annotator accepts the invitation, then logs out and in again.
    page.goto(link)
    page.fill("#id_password", "Ranking-is-fun-42")
    page.fill("#id_password_again", "Ranking-is-fun-42")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_app.url}/annotate/")
    page.click("header button:text('Log out')")
    page.goto(f"{live_app.url}/accounts/login/")
    page.fill("#id_username", "mila")
    page.fill("#id_password", "Ranking-is-fun-42")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_app.url}/annotate/")

    # Task 1, keyboard only: stored position 2 to rank 1, then 0 to rank 2; Enter submits.
    page.wait_for_selector("#ranking .card")
    first_prompt = prompt_of(page)
    first_display = card_positions(page)
    assert page.evaluate("document.activeElement.classList.contains('card')")
    page.keyboard.press("Enter")  # not ranked yet: refused with a message, nothing stored
    assert "order first" in page.inner_text("#status") and Annotation.objects.count() == 0
    focus_card(page, 2)
    page.keyboard.press("1")
    focus_card(page, 0)
    page.keyboard.press("2")
    assert card_positions(page) == [2, 0, 1]
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    focus_card(page, 1)
    page.keyboard.press("Enter")
    wait_until(
        page,
        f"!document.getElementById('task').hidden && document.getElementById('prompt').innerText !== {first_prompt!r}",
    )
    assert "Submitted" in page.inner_text("#status")  # the notice outlives the next task's arrival

    # Task 2 by dragging: the last card to the top, then the second card tied with it by its button.
    second_display = card_positions(page)
    page.drag_and_drop(f"#ranking .card[data-position='{second_display[2]}']", "#ranking .card:first-child")
    dragged = card_positions(page)
    assert dragged[0] == second_display[2]
    page.click(f"#ranking .card[data-position='{dragged[1]}'] .tie")
    assert "tied" in page.inner_text(f"#ranking .card[data-position='{dragged[1]}'] .rank")
    page.fill("#rationale", "Klar und höflich; die dritte Antwort weicht aus.")
    page.check("input[value=all_bad]")
    page.uncheck("input[value=all_bad]")
    page.click("#submit")
    page.wait_for_selector("#empty:not([hidden])")
    assert "No task needs you right now" in page.inner_text("#empty")

    mila = User.objects.get(username="mila")
    first_task = Task.objects.get(prompt__text=first_prompt)
    second_task = next(t for t in tasks if t.pk != first_task.pk)
    one = Annotation.objects.get(task=first_task, annotator=mila)
    two = Annotation.objects.get(task=second_task, annotator=mila)
    assert one.ranking == [[2], [0], [1]] and one.display_order == first_display and one.seconds > 0
    assert two.ranking == [sorted(dragged[:2]), [dragged[2]]] and two.display_order == second_display
    assert two.rationale == "Klar und höflich; die dritte Antwort weicht aus." and two.flags == []
    assert Annotation.objects.count() == 2
    wait_until(page, "document.getElementById('progress').innerText.includes('2 done today')", timeout=10)


XSS = {
    "prompt": "ما هي عاصمة مصر؟ <script>window.__xss = 'prompt'</script> [اضغط](javascript:window.__xss='link')",
    "response": "القاهرة. <img src=x onerror=\"window.__xss = 'img'\"> <svg onload=\"alert('svg')\">",
}


def test_arabic_renders_right_to_left_xss_stays_text_errors_keep_the_ranking_and_axe_is_clean(live_app, browser_page):
    annotator = make_annotator("amal", ["ar"])
    annotator.set_password("pw-amal")
    annotator.save()
    campaign = catalog.campaign_create(
        name="عربي", guidelines="**رتّب** الإجابات <script>window.__xss='guide'</script>", languages=["ar"], overlap=1
    )
    prompt = catalog.prompt_create(content=XSS["prompt"], language="ar")
    responses = [
        catalog.response_create(prompt=prompt, content=XSS["response"]),
        catalog.response_create(prompt=prompt, content="القاهرة هي عاصمة مصر وأكبر مدنها."),
        catalog.response_create(prompt=prompt, content="```python\nprint('مرحبا')\n```"),
    ]
    task = catalog.task_create(campaign=campaign, prompt=prompt, responses=responses)
    page = browser_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_app.url}/accounts/login/")
    page.fill("#id_username", "amal")
    page.fill("#id_password", "pw-amal")
    page.click("main button[type=submit]")
    page.wait_for_selector("#ranking .card")
    page.click("summary")  # open the guidelines too

    assert page.evaluate("getComputedStyle(document.getElementById('prompt')).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('#ranking .card .text')).direction") == "rtl"
    assert "<script>window.__xss = 'prompt'</script>" in prompt_of(page)  # shown as text
    assert "<img src=x onerror" in page.inner_text("#ranking .card[data-position='0']")
    assert page.evaluate("window.__xss") is None and dialogs == []
    assert page.locator("a[href^='javascript']").count() == 0 and page.locator("#ranking img, #prompt img").count() == 0

    # Accessibility of the ranking page: no serious or critical violation.
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.screenshot(path=str(ROOT / "docs" / "img" / "annotate-rtl.png"), full_page=True)

    # A network error keeps the ranking on the page and says so; the retry (a double click) stores one.
    page.focus("#ranking .card:first-child")
    focus_card(page, 1)
    page.keyboard.press("1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("t")
    ranked = card_positions(page)
    page.route("**/annotations/", lambda route: route.abort())
    page.click("#submit")
    page.wait_for_selector("#status.error")
    assert "Could not reach the server" in page.inner_text("#status") and card_positions(page) == ranked
    page.unroute("**/annotations/")
    page.dblclick("#submit")
    page.wait_for_selector("#empty:not([hidden])")
    (stored,) = Annotation.objects.filter(task=task)
    assert stored.ranking == [sorted(ranked[:2]), [ranked[2]]]
    assert page.evaluate("window.__xss") is None and dialogs == []


def test_the_related_panel_shows_other_groups_in_other_languages_and_consensus_only_after_submit(
    live_app, browser_page
):
    from webapp.feedback.services import assignment
    from webapp.retrieval.services import index_sync

    german = make_annotator("greta", ["de", "en"])  # related items only in her languages
    german.set_password("pw-greta")
    german.save()
    english = make_annotator("eddie", ["en"])
    de_campaign = catalog.campaign_create(name="Brot", languages=["de"], overlap=1)
    en_campaign = catalog.campaign_create(name="Bread", languages=["en"], overlap=1, annotators=[english])

    def task(campaign, text, language, group, answers):
        prompt = catalog.prompt_create(content=text, language=language, group=group)
        responses = [catalog.response_create(prompt=prompt, content=a) for a in answers]
        return catalog.task_create(campaign=campaign, prompt=prompt, responses=responses)

    task(de_campaign, "Wie bleibt Brot länger frisch?", "de", "bread", ["Im Brotkasten.", "Im Kühlschrank."])
    catalog.prompt_create(content="How do I keep bread fresh for longer?", language="en", group="bread")
    settled = task(
        en_campaign, "What is the best way to store bread?", "en", "store", ["In a bread box.", "In the fridge."]
    )
    assignment.tasks_next(user=english)
    assignment.annotation_submit(user=english, task_id=settled.pk, ranking=[[0], [1]])
    index_sync()

    page = browser_page
    page.goto(f"{live_app.url}/accounts/login/")
    page.fill("#id_username", "greta")
    page.fill("#id_password", "pw-greta")
    page.click("main button[type=submit]")
    page.wait_for_selector("#related .pf-related-item")
    panel = page.inner_text("#related")
    assert "What is the best way to store bread?" in panel  # another group, another language
    assert "How do I keep bread fresh for longer?" not in panel  # the prompt's own translation group
    assert "In a bread box." not in panel  # no consensus before submitting: it would anchor the ranking
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#related-previous .pf-related-consensus")
    assert "In a bread box." in page.inner_text("#related-previous")
