"""The contribute flows of /annotate/ in a real browser, at desktop size (keyboard) and phone size (iPhone 13
emulation, taps): write in Arabic (right to left) with a draft that survives a network failure and a reload,
and the contributor's own figures after it; edit in Chinese with the live count of characters changed and the
server's refusal shown as it words it; verify with a vote and a reason; translate (source and target named, the
target's direction); reply (the conversation turn by turn, as text). At phone size each page also holds no
horizontal scroll, 44 px targets and no serious axe violation."""

import pytest

from tests.conftest import make_annotator
from tests.e2e.phone import assert_phone_sized
from webapp.feedback.models import Contribution, Verdict
from webapp.feedback.services import assignment, catalog, contributing

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture(params=["desktop", "phone"])
def sized(request):
    """(page, phone?) for each size: the desktop drives the keyboard, the phone taps."""
    phone = request.param == "phone"
    return request.getfixturevalue("phone_page" if phone else "browser_page"), phone


def login(page, base_url: str, username: str, campaign=None) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("main button[type=submit]")
    if campaign is not None:  # more than one campaign: the page asks which
        page.click(f"a[href='?campaign={campaign.pk}']")
    page.wait_for_selector("#contribute:not([hidden])")


def send(page, phone: bool) -> None:
    if phone:
        page.tap("#c-submit")
    else:
        page.keyboard.press("Control+Enter")  # from wherever the focus is, the textarea included


def test_write_in_arabic_keeps_a_draft_through_a_network_failure_and_a_reload(live_app, sized):
    page, phone = sized
    make_annotator("salma", ["ar"])
    campaign = catalog.campaign_create(name="اكتب", languages=["ar"], overlap=1, kind="write")
    prompt = catalog.prompt_create(content="ما هي عاصمة مصر؟", language="ar")
    contributing.contribution_tasks_add(campaign=campaign, prompts=[prompt.pk])
    login(page, live_app.url, "salma")
    assert page.is_hidden("#c-mine")  # nothing contributed yet
    assert page.inner_text("#contribute-heading") == "Write the answer"
    assert "Ctrl+Enter" in page.inner_text("#c-keys")
    assert page.get_attribute("#c-text", "dir") == "rtl" and page.get_attribute("#c-text", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.getElementById('c-source')).direction") == "rtl"
    if phone:
        assert_phone_sized(page)
    send(page, phone)  # nothing written yet
    assert "the text is empty" in page.inner_text("#c-status") and Contribution.objects.count() == 0

    answer = "القاهرة هي عاصمة مصر وأكبر مدنها."
    page.fill("#c-text", answer)
    page.route("**/contributions/", lambda route: route.abort())
    send(page, phone)
    page.wait_for_selector("#c-status.error")
    assert "Could not reach the server" in page.inner_text("#c-status") and page.input_value("#c-text") == answer
    page.unroute("**/contributions/")
    page.reload()  # the same lease comes back, and with it the draft
    page.wait_for_selector("#contribute:not([hidden])")
    assert page.input_value("#c-text") == answer and "restored" in page.inner_text("#c-status")
    other = catalog.prompt_create(content="ما أطول نهر في العالم؟", language="ar")
    contributing.contribution_tasks_add(campaign=campaign, prompts=[other.pk])
    page.focus("#c-text")
    send(page, phone)
    page.wait_for_selector("#c-mine:not([hidden])")  # the next task, with the contributor's own figures
    assert "أطول نهر" in page.inner_text("#c-source") and page.input_value("#c-text") == ""
    cells = page.eval_on_selector_all("#c-mine-rows tr > *", "cells => cells.map(c => c.innerText)")
    assert cells == ["Arabic", "0", "0", "1", "—", "0.00", "—"]
    (stored,) = Contribution.objects.all()
    assert stored.content == answer and stored.kind == "write" and stored.seconds > 0
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pf-draft:'))") == []


def test_edit_in_chinese_counts_changes_live_and_shows_the_servers_refusal(live_app, sized):
    page, phone = sized
    make_annotator("wei", ["zh-Hans"])
    campaign = catalog.campaign_create(name="改写", languages=["zh-Hans"], overlap=1, kind="edit", min_edit_distance=5)
    prompt = catalog.prompt_create(content="北京是哪个国家的首都？", language="zh-Hans")
    response = catalog.response_create(prompt=prompt, content="北京是中国的首都")
    contributing.contribution_tasks_add(campaign=campaign, responses=[response.pk])
    login(page, live_app.url, "wei")
    assert page.inner_text("#contribute-heading") == "Improve the answer"
    assert page.input_value("#c-text") == "北京是中国的首都"  # pre-filled with the original
    assert page.get_attribute("#c-text", "lang") == "zh-Hans"
    assert "北京是中国的首都" in page.inner_text("#c-original-text")
    assert page.inner_text("#c-count") == "Characters changed: 0 (at least 5 needed)"
    if phone:
        assert_phone_sized(page)

    page.fill("#c-text", "北京是中国的首都。")
    page.wait_for_timeout(100)
    assert page.inner_text("#c-count") == "Characters changed: 1 (at least 5 needed)"
    assert "short" in page.get_attribute("#c-count", "class")
    send(page, phone)  # the page does not refuse it: the server does, and its words are shown
    page.wait_for_selector("#c-status.error")
    assert page.inner_text("#c-status") == "The edit changes 1 character; at least 5 are needed."
    assert page.input_value("#c-text") == "北京是中国的首都。" and Contribution.objects.count() == 0

    better = "北京是中华人民共和国的首都。"
    page.fill("#c-text", better)
    page.wait_for_timeout(100)
    assert page.inner_text("#c-count") == "Characters changed: 6 (at least 5 needed)"
    assert "short" not in page.get_attribute("#c-count", "class")
    send(page, phone)
    page.wait_for_selector("#empty:not([hidden])")
    (stored,) = Contribution.objects.all()
    assert stored.content == better and stored.edit_distance == 6 and stored.original_response_id == response.pk


def test_verify_votes_down_with_a_reason(live_app, sized):
    page, phone = sized
    writer = make_annotator("ana", ["es"])
    make_annotator("luis", ["es"])
    source = catalog.campaign_create(name="Escribir", languages=["es"], overlap=1, kind="write")
    verifier = catalog.campaign_create(name="Verificar", languages=["es"], overlap=3, kind="verify", verifies=source)
    prompt = catalog.prompt_create(content="¿Cuál es la capital de Perú?", language="es")
    (task,), _ = contributing.contribution_tasks_add(campaign=source, prompts=[prompt.pk])
    assignment.tasks_next(user=writer, campaign_id=source.pk)
    contribution = contributing.contribution_submit(user=writer, task_id=task.pk, text="La capital es Cusco.")

    login(page, live_app.url, "luis", verifier)
    assert page.inner_text("#contribute-heading") == "Check a contribution"
    assert page.inner_text("#c-shown-text") == "La capital es Cusco."
    assert "capital de Perú" in page.inner_text("#c-source")
    if phone:
        assert_phone_sized(page)
    send(page, phone)  # no vote yet
    assert "Choose up or down" in page.inner_text("#c-status") and Verdict.objects.count() == 0
    if phone:
        page.tap("input[name=verdict][value=down]")
    else:
        page.keyboard.press("u")
        page.keyboard.press("d")  # a change of mind: the last key counts
    assert page.is_checked("input[name=verdict][value=down]")
    page.fill("#c-reason", "La capital de Perú es Lima.")
    send(page, phone)
    page.wait_for_selector("#empty:not([hidden])")
    (verdict,) = Verdict.objects.all()
    assert verdict.contribution_id == contribution.pk and verdict.up is False
    assert verdict.reason == "La capital de Perú es Lima."


def test_translate_names_source_and_target_and_writes_right_to_left(live_app, sized):
    page, phone = sized
    make_annotator("nour", ["ar"])
    campaign = catalog.campaign_create(name="ترجم", languages=["en", "ar"], overlap=1, kind="translate")
    prompt = catalog.prompt_create(content="How do I keep bread fresh?", language="en")
    contributing.contribution_tasks_add(campaign=campaign, prompts=[prompt.pk])
    login(page, live_app.url, "nour")
    assert page.inner_text("#contribute-heading") == "Translate the prompt"
    assert page.get_attribute("#c-source", "lang") == "en"
    assert page.evaluate("getComputedStyle(document.getElementById('c-source')).direction") == "ltr"
    assert page.inner_text("#c-source-language") == "From English"
    assert page.inner_text("#c-target") == "Into Arabic"
    assert page.get_attribute("#c-text", "lang") == "ar" and page.get_attribute("#c-text", "dir") == "rtl"
    if phone:
        assert_phone_sized(page)
    page.fill("#c-text", "كيف أحافظ على الخبز طازجًا؟")
    send(page, phone)
    page.wait_for_selector("#empty:not([hidden])")
    (stored,) = Contribution.objects.all()
    assert stored.kind == "translate" and stored.language_id == "ar" and stored.content == "كيف أحافظ على الخبز طازجًا؟"


def test_reply_shows_the_conversation_turn_by_turn(live_app, sized):
    page, phone = sized
    make_annotator("jo", ["en"])
    campaign = catalog.campaign_create(name="Reply", languages=["en"], overlap=1, kind="reply")
    conversation = [
        {"role": "user", "content": "Suggest a name for a bakery."},
        {"role": "assistant", "content": "<b>Crumb & Co.</b>"},
    ]
    prompt = catalog.prompt_create(content=conversation, language="en")
    contributing.contribution_tasks_add(campaign=campaign, prompts=[prompt.pk])
    login(page, live_app.url, "jo")
    turns = page.eval_on_selector_all("#c-source .turn", "rows => rows.map(r => r.innerText)")
    assert turns == ["User: Suggest a name for a bakery.", "Assistant: <b>Crumb & Co.</b>"]  # text, not markup
    assert page.inner_text("#c-text-label") == "Your reply, as the user"
    if phone:
        assert_phone_sized(page)
    page.fill("#c-text", "Something shorter, please?")
    send(page, phone)
    page.wait_for_selector("#empty:not([hidden])")
    (stored,) = Contribution.objects.all()
    assert stored.kind == "reply" and stored.content == "Something shorter, please?"
