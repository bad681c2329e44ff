"""Suggestions (webapp/feedback/services/suggestions.py): a campaign shows a judge's ranking as the
starting order, except on a share of tasks chosen by hash; annotations record what they were shown;
the review page measures anchoring (keep rate with the suggestion against agreement with the judge
without it), figures by hand."""

import pytest

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.models import Annotation
from webapp.feedback.services.judging import judge_label
from webapp.feedback.services.suggestions import held_out

pytestmark = pytest.mark.django_db
JUDGE = "first@1"


@pytest.fixture
def first(monkeypatch):
    """`first@1` ranks the responses in stored order: [[0], [1], [2]]."""
    judge = Judge(name="first", version="1", rank=lambda p, texts, lang: [[i] for i in range(len(texts))])
    monkeypatch.setitem(judges._items, "first", judge)


def test_the_held_out_share_is_about_the_fraction_and_always_the_same_tasks():
    chosen = [t for t in range(2000) if held_out(t, JUDGE, 0.2)]
    assert 0.17 < len(chosen) / 2000 < 0.23
    assert chosen == [t for t in range(2000) if held_out(t, JUDGE, 0.2)]
    assert chosen != [t for t in range(2000) if held_out(t, "other@1", 0.2)]  # per judge
    assert not any(held_out(t, JUDGE, 0.0) for t in range(200)) and all(held_out(t, JUDGE, 1.0) for t in range(200))


def test_staff_turn_suggestions_on_and_off_with_the_field_named_when_wrong(api, staff, annotator, first):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    url = f"/api/v1/campaigns/{campaign.pk}/suggestions/"
    reply = api(staff).post(url, {"judge": JUDGE, "holdout": 0.5}, format="json")
    assert reply.status_code == 200, reply.json()
    assert (reply.json()["suggestion_judge"], reply.json()["suggestion_holdout"]) == (JUDGE, 0.5)
    assert api(staff).post(url, {"judge": JUDGE}, format="json").json()["suggestion_holdout"] == 0.2  # the default
    for body, field, message in (
        ({"judge": "first"}, "judge", "not NAME@VERSION"),
        ({"judge": "nobody@1"}, "judge", "no judge 'nobody@1'"),
        ({"judge": JUDGE, "holdout": 1.5}, "holdout", "less than or equal to 1"),
    ):
        reply = api(staff).post(url, body, format="json")
        assert reply.status_code == 400 and message in str(reply.json()), reply.json()
        assert reply.json().get("field") == field or field in reply.json()
    assert api(annotator).post(url, {"judge": JUDGE}, format="json").status_code == 403
    assert api(staff).post(url, {"judge": ""}, format="json").json()["suggestion_judge"] == ""


def split(tasks, fraction):
    shown = [t for t in tasks if not held_out(t.pk, JUDGE, fraction)]
    hidden = [t for t in tasks if held_out(t.pk, JUDGE, fraction)]
    return shown, hidden


def submit(client, task, ranking):
    body = {"ranking": ranking, "display_order": [0, 1, 2]}
    reply = client.post(f"/api/v1/tasks/{task.pk}/annotations/", body, format="json")
    assert reply.status_code == 201, reply.content


def test_annotators_see_the_suggestion_and_the_review_page_measures_anchoring(api, staff, reviewer, first):
    campaign, tasks = campaign_with_tasks(n_tasks=20, overlap=1, n_responses=3)
    for task in tasks[:-1]:  # the judge ranked all but the last task
        judge_label(task_id=task.pk, judge="first")
    api(staff).post(f"/api/v1/campaigns/{campaign.pk}/suggestions/", {"judge": JUDGE, "holdout": 0.5}, format="json")
    shown, hidden = split(tasks[:-1], 0.5)
    assert len(shown) >= 3 and len(hidden) >= 2

    person = api(make_annotator("anchored", ["en"]))
    payload = person.get(f"/api/v1/tasks/{shown[0].pk}/").json()
    assert payload["suggestion"] == [[0], [1], [2]]
    assert person.get(f"/api/v1/tasks/{hidden[0].pk}/").json()["suggestion"] is None
    if not held_out(tasks[-1].pk, JUDGE, 0.5):  # not held out, but the judge has not ranked it: nothing
        assert person.get(f"/api/v1/tasks/{tasks[-1].pk}/").json()["suggestion"] is None

    # With the suggestion: two kept, one changed (1 above 0).  Without it: one equal to the judge, one reversed.
    submit(person, shown[0], [[0], [1], [2]])
    submit(person, shown[1], [[0], [1], [2]])
    submit(person, shown[2], [[1], [0], [2]])
    submit(person, hidden[0], [[0], [1], [2]])
    submit(person, hidden[1], [[2], [1], [0]])
    stored = Annotation.objects.get(task=shown[2], source="annotation")
    assert (stored.suggestion, stored.suggested_by) == ([[0], [1], [2]], JUDGE)
    assert Annotation.objects.get(task=hidden[0], source="annotation").suggestion is None

    [row] = api(reviewer).get("/api/v1/review/").json()["judges"]["anchoring"]
    # keep rate 2/3; agreement with the suggestion: 3 + 3 + 2 of 9 pairs (the change flips (0,1) only) = 8/9;
    # without it: 1 of 2 equal; agreement 3 + 0 of 6 pairs = 1/2.
    assert row == {
        "judge": JUDGE,
        "language": "en",
        "suggested": 3,
        "kept": 2,
        "keep_rate": pytest.approx(2 / 3),
        "suggested_agreement": pytest.approx(8 / 9),
        "held_out": 2,
        "matched": 1,
        "match_rate": 0.5,
        "held_out_agreement": 0.5,
    }
    # Position bias leaves out the suggested rankings: their display order was the judge's, not random.
    report = api(reviewer).get("/api/v1/review/").json()
    assert [(row["language"], row["n"]) for row in report["position_bias"]] == [("en", 2)]


def test_the_review_page_shows_the_anchoring_table(client, reviewer, api, staff, first):
    campaign, tasks = campaign_with_tasks(n_tasks=6, overlap=1, n_responses=3)
    for task in tasks:
        judge_label(task_id=task.pk, judge="first")
    api(staff).post(f"/api/v1/campaigns/{campaign.pk}/suggestions/", {"judge": JUDGE, "holdout": 0.0}, format="json")
    person = api(make_annotator("kept", ["en"]))
    submit(person, tasks[0], [[0], [1], [2]])
    client.force_login(reviewer)
    table = client.get("/review/").content.decode().split('id="anchoring"')[1].split("</table>")[0]
    assert JUDGE in table and "1.00" in table
