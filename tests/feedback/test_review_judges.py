"""The review page and GET /api/v1/review/ show each judge against the human consensus, per language
(webapp/feedback/quality/judges.py), and the rest of the report is as it was: judges never count as
people."""

import pytest

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.services.judging import judge_label

pytestmark = pytest.mark.django_db

REPORT_KEYS = {"agreement", "annotators", "gold_misses", "consistency", "position_bias", "flagged", "tasks"}
# Read from the review summary: when it was folded, what is pending, and the lists' next-page cursors.
SUMMARY_KEYS = {"as_of", "pending", "next"}


@pytest.fixture
def in_order(monkeypatch):
    """A test judge: the responses in their stored order, best first, the last two tied."""

    def rank(prompt, texts, language):
        return [[i] for i in range(len(texts) - 2)] + [[len(texts) - 2, len(texts) - 1]]

    monkeypatch.setitem(judges._items, "order", Judge(name="order", version="2", rank=rank))


def submit(client, task, ranking):
    reply = client.post(f"/api/v1/tasks/{task.pk}/annotations/", {"ranking": ranking}, format="json")
    assert reply.status_code in (200, 201), reply.content


def test_the_review_report_shows_each_judge_against_the_people(api, client, reviewer, in_order):
    people = [api(make_annotator(f"p{i}", ["en", "de"])) for i in range(2)]
    _, en = campaign_with_tasks(n_tasks=2, language="en", n_responses=3, overlap=2, name="en")
    _, de = campaign_with_tasks(n_tasks=1, language="de", n_responses=2, overlap=2, name="de")
    # en task 0: both people 0 > 1 > 2; the judge 0 > (1 = 2): (0,1) and (0,2) agree, (1,2) an abstention.
    # en task 1: the people 2 > 1 > 0 and 1 > 2 > 0: consensus 1 > 0, 2 > 0 ((1,2) split evenly);
    #            the judge 0 > (1 = 2) misses both.
    # de task 0: one person 1 > 0; the judge ties the two: one abstention, nothing compared.
    for person in people:
        submit(person, en[0], [[0], [1], [2]])
    submit(people[0], en[1], [[2], [1], [0]])
    submit(people[1], en[1], [[1], [2], [0]])
    submit(people[0], de[0], [[1], [0]])
    for task in [*en, *de]:
        judge_label(task_id=task.pk, judge="order")

    report = api(reviewer).get("/api/v1/review/").json()
    assert set(report) == REPORT_KEYS | SUMMARY_KEYS | {"judges"}
    assert report["agreement"][0]["annotations"] == 5  # the judge is not among them
    assert set(report["judges"]) == {"agreement", "anchoring"} and report["judges"]["anchoring"] == []
    rows = {row["language"]: row for row in report["judges"]["agreement"]}
    assert {row["judge"] for row in report["judges"]["agreement"]} == {"order@2"}
    en_row = rows["en"]
    assert {k: en_row[k] for k in ("labelled", "tasks", "n_tasks", "n_pairs", "agreed", "abstentions")} == {
        "labelled": 2,
        "tasks": 2,
        "n_tasks": 2,
        "n_pairs": 4,
        "agreed": 2,
        "abstentions": 1,
    }
    assert en_row["agreement"] == 0.5 and en_row["ci_low"] < 0.5 < en_row["ci_high"]
    assert en_row["alpha"] is not None
    de_row = rows["de"]
    assert (de_row["n_pairs"], de_row["abstentions"], de_row["agreement"], de_row["ci_low"]) == (0, 1, None, None)

    # Filters narrow the judges' rows too; with imported rankings only there are no people to compare with.
    german = api(reviewer).get("/api/v1/review/", {"language": "de"}).json()["judges"]["agreement"]
    assert [r["language"] for r in german] == ["de"]
    imported_only = api(reviewer).get("/api/v1/review/", {"source": "import"}).json()["judges"]["agreement"]
    assert {(r["language"], r["tasks"]) for r in imported_only} == {("en", 0), ("de", 0)}

    client.force_login(reviewer)
    page = client.get("/review/").content.decode()
    table = page.split('id="judges"')[1].split("</table>")[0]
    assert "order@2" in table and "0.500" in table and "0.15" in table


def test_the_review_page_says_when_no_judge_has_ranked(client, reviewer):
    client.force_login(reviewer)
    page = client.get("/review/").content.decode()
    assert "No judge has ranked a task yet." in page.split('id="judges"')[1].split("</table>")[0]
