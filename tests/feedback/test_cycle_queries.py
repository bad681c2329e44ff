"""What one annotation cycle costs in SQL: `POST /tasks/next/` and then a submit (or a skip), through the HTTP client
with an API token, counted with CaptureQueriesContext. Transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE) is not
counted; everything else is, the token lookup and the counter updates included. The budget is eight statements per
cycle on PostgreSQL (CI runs these tests there too); SQLite, which has no single write statement for the submit, may
take a few more. The one submission that fills its task (1 in `overlap`) costs two more: the campaign's row lock and
whether any task of the campaign is still open, so `campaign_completed` (a webhook event) is sent exactly once."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.models import Annotation, Lease, Skip, Task
from webapp.feedback.services.judging import judge_label
from webapp.feedback.services.suggestions import campaign_set_suggestions

pytestmark = [pytest.mark.services, pytest.mark.django_db]

CYCLE_BUDGET = 8 if not settings.IS_SQLITE else 10
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in captured.captured_queries if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]


def cycle(client: APIClient, finish: str) -> tuple[list[str], dict]:
    """One next + submit (or skip); the statements both ran, and the task shown."""
    with CaptureQueriesContext(connection) as captured:
        got = client.post("/api/v1/tasks/next/", {}, format="json")
        assert got.status_code == 200, got.content
        task = got.json()["task"]
        if finish == "submit":
            reply = client.post(f"/api/v1/tasks/{task['id']}/annotations/", {"ranking": [[1], [0], [2]]}, format="json")
            assert reply.status_code == 201, reply.content
        else:
            reply = client.post(f"/api/v1/tasks/{task['id']}/skip/", {}, format="json")
            assert reply.status_code == 201, reply.content
    return statements(captured), task


def test_a_next_and_submit_cycle_runs_at_most_eight_statements():
    campaign_with_tasks(n_tasks=4, overlap=2)
    client = token_client(make_annotator("cycler", ["en", "de"]))
    other = token_client(make_annotator("other", ["en"]))
    other.post("/api/v1/tasks/next/", {}, format="json")  # a live lease of someone else's is counted
    for _ in range(3):
        ran, task = cycle(client, "submit")
        assert len(ran) <= CYCLE_BUDGET, "\n".join(ran)
    assert Annotation.objects.filter(annotator__username="cycler").count() == 3
    assert not Lease.objects.filter(annotator__username="cycler").exists()  # the submit ended each lease
    counted = {t.pk: (t.annotation_count, t.annotations.count()) for t in Task.objects.all()}
    assert all(stored == real for stored, real in counted.values()), counted


def test_a_next_and_skip_cycle_runs_at_most_eight_statements():
    campaign_with_tasks(n_tasks=3, overlap=2)
    client = token_client(make_annotator("skipper", ["en"]))
    for _ in range(2):
        ran, task = cycle(client, "skip")
        assert len(ran) <= CYCLE_BUDGET, "\n".join(ran)
    assert Skip.objects.count() == 2 and not Lease.objects.exists()


def test_a_suggested_task_costs_no_more_and_records_what_it_showed(monkeypatch):
    monkeypatch.setitem(
        judges._items, "last", Judge(name="last", version="1", rank=lambda p, texts, lang: [[2], [0], [1]])
    )
    campaign, tasks = campaign_with_tasks(n_tasks=2, overlap=2)
    for task in tasks:
        judge_label(task_id=task.pk, judge="last")
    campaign_set_suggestions(campaign=campaign, judge="last@1", holdout=0.0)
    client = token_client(make_annotator("anchored", ["en"]))
    ran, task = cycle(client, "submit")
    assert len(ran) <= CYCLE_BUDGET, "\n".join(ran)
    assert task["suggestion"] == [[2], [0], [1]]
    (stored,) = Annotation.objects.filter(annotator__username="anchored")
    assert (stored.suggestion, stored.suggested_by) == ([[2], [0], [1]], "last@1")


def test_a_reload_resumes_the_held_task_in_three_statements():
    campaign_with_tasks(n_tasks=3, overlap=2)
    client = token_client(make_annotator("reloader", ["en"]))
    first = client.post("/api/v1/tasks/next/", {}, format="json").json()
    with CaptureQueriesContext(connection) as captured:
        again = client.post("/api/v1/tasks/next/", {}, format="json").json()
    assert again["task"]["id"] == first["task"]["id"]
    assert len(statements(captured)) <= 3, statements(captured)


def test_the_submission_that_fills_its_task_checks_the_campaign_in_two_more_statements():
    campaign_with_tasks(n_tasks=2, overlap=1)
    client = token_client(make_annotator("filler", ["en"]))
    ran, task = cycle(client, "submit")
    assert len(ran) <= CYCLE_BUDGET + 2, "\n".join(ran)
    locks = [sql for sql in ran if sql.startswith('SELECT "feedback_campaign"."id" FROM "feedback_campaign"')]
    assert len(locks) == 1 and (settings.IS_SQLITE or "FOR UPDATE" in locks[0]), ran
    assert Task.objects.get(pk=task["id"]).annotation_count == 1
