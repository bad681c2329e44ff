"""The annotator workspace, review and onboarding through HTTP: pages with Django's client, the API
with DRF's. The browser side is in tests/e2e/test_annotate_page.py."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Annotation, Task
from webapp.feedback.selectors import prompt_sources
from webapp.feedback.services import assignment, catalog

pytestmark = pytest.mark.django_db


def page_client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def annotate(user, task, ranking, **extra):
    assignment.tasks_next(user=user, campaign_id=task.campaign_id)
    return assignment.annotation_submit(user=user, task_id=task.pk, ranking=ranking, **extra)[0]


# --- the workspace page and its API ------------------------------------------------------------------
def test_the_workspace_asks_for_a_login_on_the_app_login_page_not_the_admin():
    reply = Client().get("/annotate/")
    assert reply.status_code == 302 and reply["Location"].startswith("/accounts/login/")


def test_with_one_campaign_the_annotator_goes_straight_in(annotator):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    reply = page_client(annotator).get("/annotate/")
    assert reply.status_code == 200
    assert f'"campaign": {campaign.pk}' in reply.content.decode()
    assert "Rank by helpfulness." in reply.content.decode()  # the guidelines, one click away


def test_with_several_campaigns_the_annotator_picks_one_and_cannot_open_anothers(annotator):
    first, _ = campaign_with_tasks(n_tasks=1, name="First")
    second, _ = campaign_with_tasks(n_tasks=1, name="Second")
    german, _ = campaign_with_tasks(n_tasks=1, name="German only", language="de")
    body = page_client(annotator).get("/annotate/").content.decode()
    assert f"?campaign={first.pk}" in body and f"?campaign={second.pk}" in body
    assert f"?campaign={german.pk}" not in body  # not in the annotator's languages
    assert page_client(annotator).get(f"/annotate/?campaign={german.pk}").status_code == 404


def test_texts_arrive_as_safe_html_with_raw_html_escaped(api, annotator):
    campaign = catalog.campaign_create(name="XSS", languages=["en"], overlap=1)
    prompt = catalog.prompt_create(content="<script>alert(1)</script> **bold** [x](javascript:alert(2))", language="en")
    responses = [
        catalog.response_create(prompt=prompt, content='<img src=x onerror="alert(3)">'),
        catalog.response_create(prompt=prompt, content="```\ncode <b>\n```\n- item"),
    ]
    catalog.task_create(campaign=campaign, prompt=prompt, responses=responses)
    task = api(annotator).post("/api/v1/tasks/next/", {}, format="json").json()["task"]
    assert "<script>" not in task["prompt_html"] and "&lt;script&gt;" in task["prompt_html"]
    assert "<strong>bold</strong>" in task["prompt_html"] and "javascript:" not in task["prompt_html"].split("[x]")[0]
    assert 'href="javascript' not in task["prompt_html"]
    assert "<img" not in task["responses"][0]["html"] and "&lt;img" in task["responses"][0]["html"]
    assert (
        "<pre><code>code &lt;b&gt;" in task["responses"][1]["html"] and "<li>item</li>" in task["responses"][1]["html"]
    )


def test_gold_items_look_like_any_other_task_to_annotators(api, staff, annotator):
    _, (task,) = campaign_with_tasks(n_tasks=1)
    assert api(annotator).post(f"/api/v1/tasks/{task.pk}/gold/", {"position": 1}, format="json").status_code == 403
    reply = api(staff).post(f"/api/v1/tasks/{task.pk}/gold/", {"position": 1}, format="json")
    assert reply.status_code == 200 and reply.json()["gold_position"] == 1
    assert api(annotator).get(f"/api/v1/tasks/{task.pk}/").json()["gold_position"] is None
    bad = api(staff).post(f"/api/v1/tasks/{task.pk}/gold/", {"position": 3}, format="json")
    assert bad.status_code == 400 and "0..2" in bad.json()["detail"]
    cleared = api(staff).post(f"/api/v1/tasks/{task.pk}/gold/", {"position": None}, format="json")
    assert cleared.json()["gold_position"] is None


def test_progress_counts_today_total_and_what_is_left(api, annotator):
    campaign, tasks = campaign_with_tasks(n_tasks=4, overlap=1)
    annotate(annotator, tasks[0], [[0], [1], [2]])
    assignment.tasks_next(user=annotator, campaign_id=campaign.pk)
    held = assignment.tasks_next(user=annotator, campaign_id=campaign.pk).task
    assignment.task_skip(user=annotator, task_id=held.pk)
    other = make_annotator("other", ["en"])
    annotate(
        other, Task.objects.exclude(annotations__isnull=False).exclude(skips__isnull=False).first(), [[0], [1], [2]]
    )
    progress = api(annotator).get(f"/api/v1/me/progress/?campaign={campaign.pk}").json()
    # 4 tasks: one done by me, one skipped by me, one filled by someone else (overlap 1): one left.
    assert progress == {"done_today": 1, "done_total": 1, "remaining": 1, "languages": ["ar", "en", "zh-Hans"]}
    assert api(annotator).get("/api/v1/me/progress/?campaign=abc").status_code == 400


# --- review ---------------------------------------------------------------------------------------
def test_review_reports_agreement_gold_misses_flags_and_per_task_results(api, reviewer, annotator, annotator2):
    campaign, tasks = campaign_with_tasks(n_tasks=2, overlap=2)
    catalog.task_set_gold(task=tasks[0], position=0)
    annotate(annotator, tasks[0], [[0], [1], [2]], display_order=[0, 1, 2], seconds=10)
    annotate(annotator2, tasks[0], [[1], [0], [2]], display_order=[1, 0, 2], seconds=20)
    annotate(annotator, tasks[1], [[2], [1, 0]], flags=["wrong_language"], rationale="Das ist Deutsch")
    assert api(annotator).get("/api/v1/review/").status_code == 403
    report = api(reviewer).get(f"/api/v1/review/?campaign={campaign.pk}").json()
    overall = report["agreement"][0]
    # Task 0: pairs (0,1) differ, (0,2) and (1,2) agree: pairwise 2/3.
    assert overall["tasks"] == 1 and overall["annotations"] == 3 and overall["pairwise"] == pytest.approx(2 / 3)
    assert report["gold_misses"] == [
        {"task": tasks[0].pk, "language": "en", "annotator": "ann2", "top": [1], "gold": 0}
    ]
    assert report["flagged"][0]["task"] == tasks[1].pk and report["flagged"][0]["flags"] == {"wrong_language": 1}
    assert report["flagged"][0]["notes"][0]["rationale"] == "Das ist Deutsch"
    # Position bias: ann1 saw 0 first and put it on top, ann2 saw 1 first and put it on top.
    assert report["position_bias"] == [{"language": "en", "n": 2, "first_top_share": 1.0, "expected_share": 1 / 3}]
    by_task = {row["task"]: row for row in report["tasks"]}
    assert by_task[tasks[0].pk]["agreement"] == pytest.approx(2 / 3) and by_task[tasks[0].pk]["gold"] == 0
    assert by_task[tasks[1].pk]["excluded"] == "flagged wrong_language by a majority"
    quality = {row["annotator"]: row for row in report["annotators"]}
    assert quality["ann1"]["gold_accuracy"] == 1.0 and quality["ann2"]["gold_accuracy"] == 0.0
    assert quality["ann1"]["trust"] > quality["ann2"]["trust"]
    assert api(reviewer).get("/api/v1/review/?language=xx-nope").status_code == 400


def test_review_lists_translation_groups_whose_preference_flips_between_languages(api, reviewer):
    en = make_annotator("en-ann", ["en"])
    de = make_annotator("de-ann", ["de"])
    _, (task_en,) = campaign_with_tasks(n_tasks=1, language="en", overlap=1, name="C", group_prefix="g")
    _, (task_de,) = campaign_with_tasks(n_tasks=1, language="de", overlap=1, name="C", group_prefix="g")
    annotate(en, task_en, [[0], [1], [2]])  # model-0 > model-1 > model-2
    annotate(de, task_de, [[1], [0], [2]])  # model-1 > model-0 > model-2
    (row,) = api(reviewer).get("/api/v1/review/").json()["consistency"]
    # tau-b over 3 models with one discordant pair of 3: (2 - 1) / 3.
    assert row["group"] == "g0" and row["language_a"] == "de" and row["language_b"] == "en"
    assert row["tau"] == pytest.approx(1 / 3) and row["flipped"] == [["model-1", "model-0"]] and row["inconsistent"]
    page = page_client(reviewer).get("/review/").content.decode()
    assert "model-1 ≻ model-0" in page


def test_the_review_pages_language_filter_lists_the_languages_with_tasks(reviewer):
    campaign_with_tasks(n_tasks=2, language="de", name="C")
    _, (task,) = campaign_with_tasks(n_tasks=1, language="ar", name="D")
    Task.objects.filter(pk=task.pk).update(deleted_at=timezone.now())  # a deleted task still names its language
    page = page_client(reviewer).get("/review/").content.decode()
    (select,) = re.findall(r'<select id="f-language".*?</select>', page, re.S)
    assert re.findall(r'<option value="([^"]+)"', select) == ["ar", "de"]  # by code; en and fr have no task


def test_prompt_sources_are_the_distinct_sources_by_name_whatever_the_languages():
    assert prompt_sources() == []
    for i, (language, source) in enumerate([("de", "zeta"), ("ar", "api"), ("de", "api"), ("en", "m"), ("ar", "zeta")]):
        catalog.prompt_create(content=f"Prompt {i}", language=language, source=source)
    assert prompt_sources() == ["api", "m", "zeta"]
    assert prompt_sources(2) == ["api", "m"]


def test_the_review_page_is_for_reviewers_only(reviewer, annotator):
    assert page_client(reviewer).get("/review/").status_code == 200
    assert page_client(annotator).get("/review/").status_code == 403  # signed in, without the role


def test_review_shows_each_contributors_accepted_rejected_pending_and_median_edit(reviewer):
    from webapp.feedback.services import contributing

    client = page_client(reviewer)
    assert "No contributions yet." in client.get("/review/").content.decode()
    editor = make_annotator("edda", ["de"])
    campaign = catalog.campaign_create(name="Edits", languages=["de"], overlap=1, kind="edit", min_edit_distance=2)
    prompt = catalog.prompt_create(content="Wie heißt die Hauptstadt?", language="de")
    response = catalog.response_create(prompt=prompt, content="Berlin ist es.")
    (task,), _ = contributing.contribution_tasks_add(campaign=campaign, responses=[response.pk])
    assignment.tasks_next(user=editor, campaign_id=campaign.pk)
    contributing.contribution_submit(user=editor, task_id=task.pk, text="Berlin ist die Hauptstadt.")
    page = client.get("/review/?language=de").content.decode()
    table = page[page.index('id="contributors"') :]
    row = re.search(r"<tr><td data-content>edda</td>(.*?)</tr>", table, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">\s*([^<]*?)\s*</td>', row.group(1))
    assert cells == ["0", "0", "1", "12.0", "0.00", "—"]


def test_trust_weights_count_gold_accuracy(annotator, annotator2):
    from webapp.feedback.quality.trust import trust_weights

    _, tasks = campaign_with_tasks(n_tasks=1, overlap=2)
    catalog.task_set_gold(task=tasks[0], position=2)
    annotate(annotator, tasks[0], [[2], [0], [1]])
    annotate(annotator2, tasks[0], [[0], [1], [2]])
    weights = trust_weights()
    assert weights[(annotator.pk, "en")] > weights[(annotator2.pk, "en")]


# --- onboarding -----------------------------------------------------------------------------------
def invitation_path(reply) -> str:
    return re.search(r'value="https?://[^/"]+(/invite/[^"]+)"', reply.content.decode()).group(1)


def test_staff_invite_an_annotator_who_sets_a_password_and_lands_in_the_workspace(staff):
    campaign, _ = campaign_with_tasks(n_tasks=1, language="de")
    reply = page_client(staff).post(
        "/team/", {"username": "lena", "email": "lena@example.org", "languages": ["de"], "campaigns": [campaign.pk]}
    )
    assert reply.status_code == 200
    lena = User.objects.get(username="lena")
    assert not lena.has_usable_password() and list(lena.profile.languages.values_list("code", flat=True)) == ["de"]
    assert list(lena.campaigns.all()) == [campaign]
    path = invitation_path(reply)
    visitor = Client()
    mismatch = visitor.post(path, {"password": "a-Long-passw0rd", "password_again": "another-0ne"})
    assert "The two passwords differ." in mismatch.content.decode()
    weak = visitor.post(path, {"password": "123", "password_again": "123"})
    assert "too short" in weak.content.decode()
    accepted = visitor.post(path, {"password": "a-Long-passw0rd", "password_again": "a-Long-passw0rd"})
    assert accepted.status_code == 302 and accepted["Location"] == "/annotate/"
    assert visitor.get("/annotate/").status_code == 200  # logged in
    assert Client().get(path).status_code == 404  # the link is spent
    assert Client().login(username="lena", password="a-Long-passw0rd")


def test_a_taken_username_or_no_language_is_refused_with_a_message(staff, annotator):
    reply = page_client(staff).post("/team/", {"username": "ANN1", "languages": ["en"]})
    assert "is taken" in reply.content.decode()
    reply = page_client(staff).post("/team/", {"username": "new"})
    assert "This field is required" in reply.content.decode() and not User.objects.filter(username="new").exists()


def test_staff_change_languages_and_deactivate_an_annotator(staff, annotator):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    reply = page_client(staff).post(
        f"/team/{annotator.pk}/", {"languages": ["en"], "campaigns": [campaign.pk], "is_active": ""}
    )
    assert reply.status_code == 302
    annotator.refresh_from_db()
    assert not annotator.is_active and list(annotator.campaigns.all()) == [campaign]
    assert not Client().login(username="ann1", password="pw-ann1")
    assert page_client(annotator).get("/team/").status_code == 302  # deactivated: signed out


def test_staff_create_a_campaign_with_guidelines_languages_and_overlap(staff):
    catalog.campaign_create(name="Existing", languages=["en", "ar"])
    reply = page_client(staff).post(
        "/campaigns/new/", {"name": "Chat", "guidelines": "# Be kind", "languages": ["en", "ar"], "overlap": 3}
    )
    assert reply.status_code == 302
    from webapp.feedback.models import Campaign

    chat = Campaign.objects.get(name="Chat")
    assert chat.overlap == 3 and sorted(chat.languages.values_list("code", flat=True)) == ["ar", "en"]
    again = page_client(staff).post("/campaigns/new/", {"name": "Existing", "languages": ["en"], "overlap": 2})
    assert "already exists" in again.content.decode()


def test_annotations_keep_the_display_order_and_seconds_the_page_sends(api, annotator):
    _, (task,) = campaign_with_tasks(n_tasks=1, overlap=1)
    api(annotator).post("/api/v1/tasks/next/", {}, format="json")
    body = {"ranking": [[2], [0, 1]], "display_order": [2, 0, 1], "flags": ["unsafe"], "rationale": "x", "seconds": 4.2}
    first = api(annotator).post(f"/api/v1/tasks/{task.pk}/annotations/", body, format="json")
    again = api(annotator).post(f"/api/v1/tasks/{task.pk}/annotations/", body, format="json")  # a double click
    assert (first.status_code, again.status_code) == (201, 200)
    (stored,) = Annotation.objects.all()
    assert stored.display_order == [2, 0, 1] and stored.seconds == 4.2 and stored.ranking == [[2], [0, 1]]


def test_listing_tasks_costs_the_same_queries_for_5_or_25_tasks(api, annotator, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(user) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api(user).get("/api/v1/tasks/").status_code == 200
        return len(captured)

    campaign_with_tasks(n_tasks=5, name="Few")
    few = queries(annotator), queries(reviewer)
    campaign_with_tasks(n_tasks=20, name="More")
    assert (queries(annotator), queries(reviewer)) == few


def test_a_bad_campaign_on_the_review_page_is_a_404_not_a_crash(reviewer):
    for value in ("abc", "99999999999999999999999", "12345"):
        assert page_client(reviewer).get(f"/review/?campaign={value}").status_code == 404
