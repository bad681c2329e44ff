"""The reviewer queue in a real browser, at desktop size (keyboard) and phone size (taps): a reviewer decides a
flagged Arabic translation shown beside its English source, with a required reason, through the override API;
the item leaves the queue and stays gone on reload. At phone size the page also holds no horizontal scroll,
44 px targets and no serious axe violation."""

import pytest
from django.contrib.auth.models import User

from tests.conftest import make_annotator
from tests.e2e.conftest import browser_login
from tests.e2e.phone import assert_phone_sized
from webapp.feedback.models import Contribution
from webapp.feedback.services import catalog, contributing
from webapp.permissions import REVIEWER, role_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture(params=["desktop", "phone"])
def sized(request):
    phone = request.param == "phone"
    return request.getfixturevalue("phone_page" if phone else "browser_page"), phone


def test_a_reviewer_rejects_a_flagged_translation_with_a_reason_and_it_leaves_the_queue(live_app, sized):
    page, phone = sized
    reviewer = User.objects.create_user(username="rev", password="pw-rev")
    reviewer.groups.add(role_group(REVIEWER))
    nour = make_annotator("nour", ["ar"])
    campaign = catalog.campaign_create(name="ترجم", languages=["en", "ar"], kind="translate")
    prompt = catalog.prompt_create(content="How do I keep bread fresh?", language="en")
    (task,), _ = contributing.contribution_tasks_add(campaign=campaign, prompts=[prompt.pk])
    flagged = Contribution.objects.create(
        task=task,
        contributor=nour,
        kind="translate",
        language_id="ar",
        content="القطط تحب النوم.",
        flagged=True,
        similarity=0.12,
    )

    browser_login(page, live_app.url, "rev", "pw-rev")
    page.goto(f"{live_app.url}/review/contributions/")
    item = f"#item-{flagged.pk}"
    assert page.evaluate(f"getComputedStyle(document.querySelector('{item} .contribution')).direction") == "rtl"
    assert page.get_attribute(f"{item} .source", "lang") == "en" and "bread" in page.inner_text(f"{item} .source")
    if phone:
        assert_phone_sized(page)
        page.tap(f"{item} input[value=rejected]")
        page.tap(f"{item} button[type=submit]")  # no reason yet
    else:
        page.focus(f"{item} input[value=accepted]")
        page.keyboard.press("ArrowRight")  # the radio group: the next choice, reject
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # in the reason box: a new line, not a submit
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    page.wait_for_selector(f"{item} .q-status.error")
    assert page.inner_text(f"{item} .q-status") == "Give the reason for the override."
    page.fill(f"{item} textarea", "A different sentence: nothing about bread.")
    if phone:
        page.tap(f"{item} button[type=submit]")
    else:
        page.focus(f"{item} button[type=submit]")
        page.keyboard.press("Enter")
    page.wait_for_selector(item, state="detached")
    assert "Rejected" in page.inner_text("#queue-announcer") and page.is_visible("#queue-empty")
    flagged.refresh_from_db()
    assert flagged.status == flagged.override_status == "rejected"
    assert (
        flagged.override_reason.strip() == "A different sentence: nothing about bread."
        and flagged.override_by == reviewer
    )
    page.reload()
    assert page.locator(".q-item").count() == 0
