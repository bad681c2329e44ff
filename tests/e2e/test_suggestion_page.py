"""A campaign's suggested starting order in the annotator's browser: the cards start in the judge's
ranking (ties included) with a notice, and the annotator may submit it unchanged; the annotation
records what was shown."""

import pytest

from tests.conftest import make_annotator
from tests.e2e.conftest import browser_login
from tests.e2e.worker_process import wait_for
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.models import Annotation
from webapp.feedback.services.judging import judge_label
from webapp.feedback.services.suggestions import campaign_set_suggestions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_cards_start_in_the_suggested_order_and_can_be_submitted_as_they_are(live_app, browser_page, monkeypatch):
    judge = Judge(name="backwards", version="1", rank=lambda prompt, texts, language: [[2], [0, 1]])
    monkeypatch.setitem(judges._items, "backwards", judge)
    campaign, [task] = campaign_with_tasks(n_tasks=1, overlap=1, n_responses=3, name="Suggested")
    judge_label(task_id=task.pk, judge="backwards")
    campaign_set_suggestions(campaign=campaign, judge="backwards@1", holdout=0.0)
    make_annotator("sugi", ["en"])

    page = browser_page
    browser_login(page, live_app.url, "sugi", "pw-sugi")
    page.goto(f"{live_app.url}/annotate/")
    page.wait_for_selector("#ranking .card")
    assert page.is_visible("#suggested") and "automatic judge" in page.inner_text("#suggested")
    positions = page.eval_on_selector_all("#ranking .card", "cards => cards.map(c => Number(c.dataset.position))")
    assert positions == [2, 0, 1]
    assert page.eval_on_selector_all("#ranking .card", "cards => cards.map(c => c.classList.contains('tied'))") == [
        False,
        False,
        True,
    ]
    page.keyboard.press("Enter")  # unchanged: accepted, unlike a shuffled order nobody touched
    annotation = wait_for(
        lambda: Annotation.objects.filter(task=task, source="annotation").first(), timeout=30, what="the submit"
    )
    assert (annotation.ranking, annotation.suggestion, annotation.suggested_by) == (
        [[2], [0, 1]],
        [[2], [0, 1]],
        "backwards@1",
    )
    assert annotation.display_order == [2, 0, 1]
