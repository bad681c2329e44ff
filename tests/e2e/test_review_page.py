"""The review page in a browser, read from its summary: the time its figures are from, how far behind
they are when more rows are pending than a read folds, and the long lists a page at a time."""

import json

import pytest
from django.contrib.auth.models import User

from tests.e2e.conftest import browser_login
from webapp.feedback.quality.fold import review_catch_up
from webapp.feedback.services.importing import feedback_import
from webapp.permissions import REVIEWER, role_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def import_tasks(path, first: int, count: int) -> None:
    with path.open("w") as handle:
        for i in range(first, first + count):
            line = {
                "id": f"review-{i}",
                "prompt": f"Question {i}",
                "language": "en",
                "responses": [{"text": f"answer {k} to {i}", "model": f"m{k}"} for k in range(3)],
                "rankings": [
                    {"annotator": "alice", "ranking": [[0], [1], [2]]},
                    {"annotator": "bob", "ranking": [[1], [0], [2]]},
                ],
            }
            handle.write(json.dumps(line) + "\n")
    feedback_import(path=path)


@pytest.fixture
def server(tmp_path):
    from tests.e2e.server_process import ServerProcess

    # Reads never fold here: the test folds, as the periodic task would, and sees the page behind before.
    server = ServerProcess(tmp_path / "uvicorn.log", env={"REVIEW_FOLD_ON_READ": "0"})
    yield server
    server.stop()


def test_the_review_page_says_when_its_figures_are_from_and_pages_its_task_list(server, browser_page, tmp_path):
    reviewer = User.objects.create_user(username="rev", password="pw-rev")
    reviewer.groups.add(role_group(REVIEWER))
    import_tasks(tmp_path / "first.jsonl", 0, 201)
    review_catch_up()

    page = browser_page
    browser_login(page, server.url, "rev", "pw-rev")
    page.goto(f"{server.url}/review/")
    assert "Figures as of" in page.inner_text("#as-of") and "Behind" not in page.inner_text("#as-of")
    assert page.locator("#task-results tbody tr").count() == 200
    assert page.locator("#agreement tbody tr").first.locator("td").nth(3).inner_text() == "402"
    with page.expect_navigation():  # count the next page's rows, not the old page's while it unloads
        page.click("#more-tasks")
    assert "tasks_cursor=" in page.url
    assert page.locator("#task-results tbody tr").count() == 1
    assert page.locator("#more-tasks").count() == 0

    import_tasks(tmp_path / "second.jsonl", 201, 1)  # a task and two rankings more, not folded yet
    page.goto(f"{server.url}/review/")
    assert "Behind: 3 new rows are not in these figures yet" in page.inner_text("#as-of")
    assert page.locator("#agreement tbody tr").first.locator("td").nth(3).inner_text() == "402"
    review_catch_up()
    page.reload()
    assert "Behind" not in page.inner_text("#as-of")
    assert page.locator("#agreement tbody tr").first.locator("td").nth(3).inner_text() == "404"
    assert "Question 201" in page.locator("#task-results tbody tr").first.inner_text()
