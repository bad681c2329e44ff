"""The REST API through the HTTP client: roles, privacy, task assignment, annotations, bad input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.apifields import Pagination
from webapp.feedback.models import Annotation, Lease, Task

pytestmark = pytest.mark.django_db


def submit(client, task_id, ranking=None, **extra):
    body = {"ranking": ranking or [[0], [1], [2]], **extra}
    return client.post(f"/api/v1/tasks/{task_id}/annotations/", body, format="json")


def test_anonymous_requests_are_refused(api):
    assert api(None).get("/api/v1/tasks/").status_code in (401, 403)


def test_next_task_is_leased_and_annotated_through_the_api(api, annotator):
    campaign_with_tasks(n_tasks=2)
    client = api(annotator)
    got = client.post("/api/v1/tasks/next/", {}, format="json").json()
    task = got["task"]
    assert task["language"] == "en" and len(task["responses"]) == 3 and got["lease_expires_at"]
    assert "model_name" not in task["responses"][0]  # annotators rank blind
    # Asking again before submitting gives the same task back (a reload resumes it).
    assert client.post("/api/v1/tasks/next/", {}, format="json").json()["task"]["id"] == task["id"]
    reply = submit(
        client, task["id"], [[2], [0, 1]], flags=[], rationale="third is best", seconds=12.5, display_order=[2, 0, 1]
    )
    assert reply.status_code == 201, reply.json()
    stored = Annotation.objects.get(task_id=task["id"], annotator=annotator)
    assert stored.ranking == [[2], [0, 1]] and stored.display_order == [2, 0, 1] and stored.seconds == 12.5
    assert not Lease.objects.filter(annotator=annotator).exists()
    assert client.post("/api/v1/tasks/next/", {}, format="json").json()["task"]["id"] != task["id"]


def test_a_repeated_submit_is_idempotent_and_a_different_one_is_refused(api, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1)
    client = api(annotator)
    assert submit(client, tasks[0].pk).status_code == 201
    assert submit(client, tasks[0].pk).status_code == 200
    conflict = submit(client, tasks[0].pk, [[1], [0], [2]])
    assert conflict.status_code == 409 and "different ranking" in conflict.json()["detail"]
    assert Annotation.objects.filter(task=tasks[0]).count() == 1
    assert Task.objects.get(pk=tasks[0].pk).annotation_count == 1


def test_overlap_limits_annotators_per_task(api, annotator, annotator2):
    campaign_with_tasks(n_tasks=1, overlap=1)
    first = api(annotator).post("/api/v1/tasks/next/", {}, format="json").json()
    assert first["task"] is not None
    second = api(annotator2).post("/api/v1/tasks/next/", {}, format="json").json()
    assert second["task"] is None and "No task" in second["detail"]


def test_a_late_submit_is_accepted_while_the_slot_is_free_and_refused_once_filled(api, annotator, annotator2):
    _, tasks = campaign_with_tasks(n_tasks=1, overlap=1)
    task_id = api(annotator).post("/api/v1/tasks/next/", {}, format="json").json()["task"]["id"]
    Lease.objects.filter(annotator=annotator).update(expires_at=timezone.now() - timedelta(seconds=1))
    # The slot is free again: the second annotator takes it and submits.
    assert api(annotator2).post("/api/v1/tasks/next/", {}, format="json").json()["task"]["id"] == task_id
    assert submit(api(annotator2), task_id).status_code == 201
    late = submit(api(annotator), task_id)
    assert late.status_code == 409 and "filled" in late.json()["detail"]


def test_a_late_submit_with_a_free_slot_is_accepted(api, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1, overlap=1)
    api(annotator).post("/api/v1/tasks/next/", {}, format="json")
    Lease.objects.filter(annotator=annotator).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert submit(api(annotator), tasks[0].pk).status_code == 201


def test_lease_renewal_extends_the_lease(api, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1)
    client = api(annotator)
    client.post("/api/v1/tasks/next/", {}, format="json")
    Lease.objects.filter(annotator=annotator).update(expires_at=timezone.now() + timedelta(seconds=5))
    reply = client.post(f"/api/v1/tasks/{tasks[0].pk}/lease/")
    assert reply.status_code == 200
    assert Lease.objects.get(annotator=annotator).expires_at > timezone.now() + timedelta(seconds=60)


def test_skipped_tasks_are_not_offered_again(api, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1)
    client = api(annotator)
    task_id = client.post("/api/v1/tasks/next/", {}, format="json").json()["task"]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/skip/").status_code == 201
    assert client.post("/api/v1/tasks/next/", {}, format="json").json()["task"] is None
    assert submit(client, task_id).status_code == 409


def test_annotators_only_get_tasks_in_their_languages(api):
    campaign_with_tasks(n_tasks=2, language="de", name="German")
    french_speaker = make_annotator("fr-only", ["fr"])
    assert api(french_speaker).post("/api/v1/tasks/next/", {}, format="json").json()["task"] is None
    assert api(french_speaker).get("/api/v1/tasks/").json()["results"] == []


def test_an_annotator_cannot_see_another_annotators_annotation_anywhere(api, annotator, annotator2, reviewer):
    _, tasks = campaign_with_tasks(n_tasks=1)
    submit(api(annotator), tasks[0].pk)
    theirs = Annotation.objects.get(annotator=annotator)
    other = api(annotator2)
    assert other.get(f"/api/v1/annotations/{theirs.pk}/").status_code == 404
    assert other.get("/api/v1/annotations/").json()["results"] == []
    assert other.get(f"/api/v1/annotations/?task={tasks[0].pk}").json()["results"] == []
    assert other.get(f"/api/v1/tasks/{tasks[0].pk}/annotations/").json()["count"] == 0
    assert other.get("/api/v1/preferences/").json()["results"] == []
    # ... while the author and reviewers do see it.
    assert api(annotator).get(f"/api/v1/annotations/{theirs.pk}/").status_code == 200
    assert api(reviewer).get(f"/api/v1/tasks/{tasks[0].pk}/annotations/").json()["count"] == 1


def test_a_tasks_annotations_come_in_pages_like_every_list(api, annotator, annotator2, reviewer, monkeypatch):
    """GET /tasks/{id}/annotations/ answers the paginated shape its schema declares (it used to be a bare list)."""
    monkeypatch.setattr(Pagination, "page_size", 1)  # the class reads PAGE_SIZE once
    _, tasks = campaign_with_tasks(n_tasks=1)
    submit(api(annotator), tasks[0].pk)
    submit(api(annotator2), tasks[0].pk, [[1], [0], [2]])
    url = f"/api/v1/tasks/{tasks[0].pk}/annotations/"
    first = api(reviewer).get(url).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 2 and len(first["results"]) == 1 and first["previous"] is None
    assert first["results"][0]["annotator"] == annotator.username and first["next"].endswith("?page=2")
    second = api(reviewer).get(url, {"page": 2}).json()
    assert [row["annotator"] for row in second["results"]] == [annotator2.username] and second["next"] is None
    assert api(reviewer).get(url, {"page": 3}).status_code == 404
    assert api(reviewer).get(url, {"page": ""}).json() == {"detail": "Invalid page."}
    mine = api(annotator).get(url).json()
    assert mine["count"] == 1 and mine["results"][0]["ranking"] == [[0], [1], [2]]


def test_reviewers_see_model_names_annotators_do_not(api, annotator, reviewer):
    _, tasks = campaign_with_tasks(n_tasks=1)
    assert "model_name" in api(reviewer).get(f"/api/v1/tasks/{tasks[0].pk}/").json()["responses"][0]
    assert "model_name" not in api(annotator).get(f"/api/v1/tasks/{tasks[0].pk}/").json()["responses"][0]


def test_only_staff_create_and_delete(api, annotator, staff):
    body = {"content": "Wie spät ist es?", "language": "de", "group": "time"}
    assert api(annotator).post("/api/v1/prompts/", body, format="json").status_code == 403
    created = api(staff).post("/api/v1/prompts/", body, format="json")
    assert created.status_code == 201 and created.json()["language"] == "de"
    assert api(annotator).delete(f"/api/v1/prompts/{created.json()['id']}/").status_code in (403, 404)
    assert api(staff).delete(f"/api/v1/prompts/{created.json()['id']}/").status_code == 204


def test_staff_build_a_task_through_the_api(api, staff, annotator):
    client = api(staff)
    campaign = client.post("/api/v1/campaigns/", {"name": "C", "languages": ["ar"], "overlap": 2}, format="json")
    assert campaign.status_code == 201
    prompt = client.post("/api/v1/prompts/", {"content": "ما هي عاصمة مصر؟", "language": "ar"}, format="json").json()
    ids = [
        client.post("/api/v1/responses/", {"prompt": prompt["id"], "content": text}, format="json").json()["id"]
        for text in ("القاهرة", "الإسكندرية")
    ]
    task = client.post(
        "/api/v1/tasks/", {"campaign": campaign.json()["id"], "prompt": prompt["id"], "responses": ids}, format="json"
    )
    assert task.status_code == 201 and task.json()["direction"] == "rtl"
    assert api(annotator).post("/api/v1/tasks/next/", {}, format="json").json()["task"]["id"] == task.json()["id"]


def test_editing_a_judged_prompt_makes_a_new_version(api, staff, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1)
    prompt_id = tasks[0].prompt_id
    submit(api(annotator), tasks[0].pk)
    edited = api(staff).patch(f"/api/v1/prompts/{prompt_id}/", {"content": "Reworded"}, format="json").json()
    assert edited["id"] != prompt_id and edited["previous"] == prompt_id and edited["version"] == 2
    assert api(staff).get(f"/api/v1/prompts/{prompt_id}/").json()["text"] == "Question 0 in en"
    again = api(staff).patch(f"/api/v1/prompts/{prompt_id}/", {"content": "Once more"}, format="json")
    assert again.status_code == 400 and f"prompt {edited['id']}" in again.json()["detail"]


def test_deleting_a_prompt_cascades_to_its_tasks(api, staff, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1)
    api(staff).delete(f"/api/v1/prompts/{tasks[0].prompt_id}/")
    assert api(annotator).post("/api/v1/tasks/next/", {}, format="json").json()["task"] is None
    assert api(staff).get(f"/api/v1/tasks/{tasks[0].pk}/").status_code == 404


BAD_SUBMITS = [
    ({"ranking": [[0], [1]]}, "incomplete"),
    ({"ranking": [[0], [1], [7]]}, "out of range"),
    ({"ranking": [[0], [1], [1, 2]]}, "more than once"),
    ({"ranking": "first"}, "list of ranks"),
    ({"ranking": [[0], [1], [2]], "flags": ["boring"]}, "flags"),
    ({"ranking": [[0], [1], [2]], "display_order": [0, 0, 1]}, "display_order"),
    ({}, "ranking"),
]


@pytest.mark.parametrize("body,needle", BAD_SUBMITS)
def test_bad_submissions_get_a_400_that_says_what_to_fix(api, annotator, body, needle):
    _, tasks = campaign_with_tasks(n_tasks=1)
    reply = api(annotator).post(f"/api/v1/tasks/{tasks[0].pk}/annotations/", body, format="json")
    assert reply.status_code == 400
    assert needle in str(reply.json())


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"content": "", "language": "en"}, "empty"),
        ({"content": "x\u0000y", "language": "en"}, "NUL"),
        ({"content": "hi", "language": "not a language"}, "BCP-47"),
        ({"content": [{"role": "user"}], "language": "en"}, "content"),
        ({"content": 42, "language": "en"}, "string or a list"),
    ],
)
def test_bad_prompts_get_a_400_that_says_what_to_fix(api, staff, body, needle):
    reply = api(staff).post("/api/v1/prompts/", body, format="json")
    assert reply.status_code == 400 and needle in str(reply.json())


def test_lists_filter_by_language_group_and_campaign(api, staff):
    campaign, _ = campaign_with_tasks(n_tasks=2, language="en", name="E", group_prefix="g")
    campaign_with_tasks(n_tasks=3, language="ja", name="J", group_prefix="g")
    client = api(staff)
    assert client.get("/api/v1/prompts/?language=ja").json()["count"] == 3
    assert client.get("/api/v1/prompts/?group=g1").json()["count"] == 2
    assert len(client.get(f"/api/v1/tasks/?campaign={campaign.pk}").json()["results"]) == 2
    assert client.get("/api/v1/responses/?language=en").json()["count"] == 6


def test_token_auth_works_for_scripts(client, annotator):
    token = client.post("/api/v1/auth/token/", {"username": "ann1", "password": "pw-ann1"}).json()["token"]
    reply = client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {token}")
    assert reply.status_code == 200


def test_staff_add_a_language_by_its_tag_and_get_its_direction(api, staff, annotator):
    reply = api(staff).post("/api/v1/languages/", {"code": "fa"}, format="json")
    assert reply.status_code == 201 and reply.json() == {"code": "fa", "name": "Persian", "direction": "rtl"}
    assert api(staff).post("/api/v1/languages/", {"code": "xx-!!"}, format="json").status_code == 400
    assert api(annotator).post("/api/v1/languages/", {"code": "de"}, format="json").status_code == 403


def test_a_preference_with_a_message_role_that_is_a_list_gets_a_400(api, staff):
    """Found by schemathesis: an unhashable role crashed the content check with a 500."""
    body = {"prompt": [{"role": [], "content": "x"}], "response_a": "a", "response_b": "b", "outcome": "a"}
    reply = api(staff).post("/api/v1/preferences/", body | {"language": "en"}, format="json")
    assert reply.status_code == 400 and "role" in str(reply.json())


def test_the_long_lists_page_by_a_cursor_over_the_id(api, staff):
    """Tasks (like annotations and preference records) page by a cursor: no count, the same cost at any depth."""
    _, tasks = campaign_with_tasks(n_tasks=7, language="en")
    client = api(staff)
    page = client.get("/api/v1/tasks/", {"page_size": 3}).json()
    assert "count" not in page and page["previous"] is None
    seen = [t["id"] for t in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [t["id"] for t in page["results"]]
    assert seen == sorted(t.pk for t in tasks)  # every task once, oldest first
    for bad in ("10000", "0", "null", "²"):
        reply = client.get("/api/v1/tasks/", {"page_size": bad})
        assert reply.status_code == 400 and "page_size must be a whole number from 1 to 500" in reply.json()["detail"]
    reply = client.get("/api/v1/tasks/", {"cursor": "not-one"})
    assert reply.status_code == 400 and "cursor is not one this list gave" in reply.json()["detail"]
