"""Judge jobs through the staff API and manage.py judge, run in-process: a registered judge ranks a
campaign's alive tasks (optionally of some languages) on its own queue, with progress, cancel and
resume; bad launches are 400s naming the field."""

import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, JudgeRegistry, judges
from webapp.feedback.models import Annotation, Task
from webapp.judging.models import JudgeJob
from webapp.judging.services import judge_job_run


def in_order(prompt, texts, language):
    return [[i] for i in range(len(texts))]


@pytest.fixture
def ordered(monkeypatch):
    monkeypatch.setitem(judges._items, "ordered", Judge(name="ordered", version="3", rank=in_order))


@pytest.fixture
def campaign(db):
    campaign, _ = campaign_with_tasks(n_tasks=3, language="en", name="Judged")
    campaign_with_tasks(n_tasks=2, language="de", name="Judged")
    return campaign


def launch(client, **body):
    return client.post("/api/v1/judge-jobs/", body, format="json")


def test_registering_a_judge_is_one_call_and_it_is_found_by_name_or_origin():
    registry = JudgeRegistry("judge")
    judge = registry.register(Judge(name="lf", version="2", rank=in_order, queue="gpu"))
    assert registry.resolve("lf") is judge and registry.resolve("lf@2") is judge and judge.origin == "lf@2"
    for name, message in (("lf@1", "registered at version '2'"), ("nope@1", "unknown judge 'nope@1'")):
        with pytest.raises(Exception, match=message):
            registry.resolve(name)


@pytest.mark.django_db
def test_a_judge_job_ranks_the_campaigns_tasks_with_progress_and_stores_them_as_judge(api, staff, ordered, campaign):
    client = api(staff)
    assert {"name": "ordered", "version": "3", "origin": "ordered@3", "queue": "default", "description": ""} in (
        client.get("/api/v1/judges/").json()
    )
    reply = launch(client, judge="ordered@3", campaign=campaign.pk, languages=["de"])
    assert reply.status_code == 202, reply.json()
    job = reply.json()
    assert (job["judge"], job["languages"], job["queue"], job["status"]) == ("ordered@3", ["de"], "default", "queued")
    # The same launch while it is queued returns it (200); another language set is another job.
    again = launch(client, judge="ordered", campaign=campaign.pk, languages=["de"])
    assert again.status_code == 200 and again.json()["id"] == job["id"]

    judge_job_run(job["id"])
    done = client.get(f"/api/v1/judge-jobs/{job['id']}/").json()
    assert (done["status"], done["progress_done"], done["progress_total"]) == ("succeeded", 2, 2)
    assert done["result"] == {"tasks": 2, "already": 0, "ranked": 2, "invalid": 0, "errors": []}
    labels = Annotation.objects.filter(source="judge")
    assert {(a.origin, a.task.language_id, a.annotator.username) for a in labels} == {
        ("ordered@3", "de", "judge:ordered@3")
    }
    assert labels.count() == 2 and not Task.objects.filter(annotation_count__gt=0).exists()  # no slot taken

    # A job over the whole campaign skips the two tasks ranked before: resumable.
    whole = launch(client, judge="ordered@3", campaign=campaign.pk).json()
    judge_job_run(whole["id"])
    result = client.get(f"/api/v1/judge-jobs/{whole['id']}/").json()["result"]
    assert (result["tasks"], result["already"], result["ranked"]) == (5, 2, 3)
    assert [j["id"] for j in client.get("/api/v1/judge-jobs/").json()["results"]] == [whole["id"], job["id"]]


@pytest.mark.django_db
def test_an_invalid_ranking_is_listed_and_the_job_goes_on(api, staff, monkeypatch, campaign):
    calls = []

    def flaky(prompt, texts, language):
        calls.append(prompt)
        return [[0]] if len(calls) == 1 else in_order(prompt, texts, language)

    monkeypatch.setitem(judges._items, "flaky", Judge(name="flaky", version="1", rank=flaky))
    job = launch(api(staff), judge="flaky", campaign=campaign.pk, languages=["en"]).json()
    judge_job_run(job["id"])
    job = JudgeJob.objects.get(pk=job["id"])
    assert job.status == "succeeded" and (job.result["ranked"], job.result["invalid"]) == (2, 1)
    assert "gave an invalid ranking" in job.result["errors"][0]["error"]


@pytest.mark.django_db
def test_a_model_judge_runs_on_the_gpu_queue(api, staff, monkeypatch, campaign):
    sent = []
    monkeypatch.setattr("webapp.jobs.services.send_task", lambda name, args, queue: sent.append((name, queue)))
    monkeypatch.setitem(judges._items, "big", Judge(name="big", version="1", rank=in_order, queue="gpu"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda send: send())
        reply = launch(api(staff), judge="big@1", campaign=campaign.pk)
    assert reply.json()["queue"] == "gpu" and sent == [("workers.tasks.judging.run_judge_job", "gpu")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field,message",
    [
        ({"judge": "nobody"}, "judge", "unknown judge 'nobody'"),
        ({"judge": "ordered@9"}, "judge", "registered at version '3'"),
        ({"campaign": 999999}, "campaign", "no campaign 999999"),
        ({"campaign": "x"}, "campaign", "valid integer"),
        ({"languages": ["??"]}, "languages", "BCP-47"),
        ({"languages": ["fr"]}, "languages", "unknown language 'fr'"),
        ({"languages": ["ar"]}, "campaign", "has no task in ar"),
        ({"judge": ""}, "judge", "blank"),
    ],
)
def test_bad_launches_are_a_400_naming_the_field(api, staff, ordered, campaign, body, field, message):
    from webapp.feedback.services.languages import language_get_or_create

    language_get_or_create("ar")
    reply = launch(api(staff), **{"judge": "ordered@3", "campaign": campaign.pk, **body})
    assert reply.status_code == 400, reply.json()
    answer = reply.json()
    assert answer.get("field") == field or field in answer, answer
    assert message in json.dumps(answer), answer
    assert not JudgeJob.objects.exists()


@pytest.mark.django_db
def test_only_staff_see_and_launch_judge_jobs(api, annotator, reviewer, ordered, campaign):
    for user in (None, annotator, reviewer):
        assert api(user).get("/api/v1/judge-jobs/").status_code in (401, 403)
        assert launch(api(user), judge="ordered", campaign=campaign.pk).status_code in (401, 403)
        assert api(user).get("/api/v1/judges/").status_code in (401, 403)


@pytest.mark.django_db
def test_an_idempotency_key_replays_the_first_launch(api, staff, ordered, campaign):
    client = api(staff)
    first = client.post(
        "/api/v1/judge-jobs/", {"judge": "ordered", "campaign": campaign.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == 202
    judge_job_run(first.json()["id"])  # finished: a new launch would queue a second job
    replay = client.post(
        "/api/v1/judge-jobs/", {"judge": "ordered", "campaign": campaign.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert replay.status_code == 202 and replay.json()["id"] == first.json()["id"]
    assert JudgeJob.objects.count() == 1
    other = client.post(
        "/api/v1/judge-jobs/",
        {"judge": "ordered", "campaign": campaign.pk, "languages": ["en"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert other.status_code == 422


@pytest.mark.django_db(transaction=True)
@override_settings(JOB_HEARTBEAT_SECONDS=1)
def test_cancel_stops_a_running_job_keeping_its_progress_and_a_new_job_resumes(api, staff, monkeypatch, campaign):
    client = api(staff)
    state = {"job": None, "calls": 0}

    def slow(prompt, texts, language):
        state["calls"] += 1
        if state["calls"] == 2:  # cancel while the second task is being ranked; the heartbeat carries it
            assert client.post(f"/api/v1/judge-jobs/{state['job']}/cancel/").status_code == 200
            time.sleep(2.5)
        return in_order(prompt, texts, language)

    monkeypatch.setitem(judges._items, "slow", Judge(name="slow", version="1", rank=slow))
    state["job"] = launch(client, judge="slow", campaign=campaign.pk).json()["id"]
    judge_job_run(state["job"])
    job = client.get(f"/api/v1/judge-jobs/{state['job']}/").json()
    assert (job["status"], job["progress_done"], job["progress_total"]) == ("cancelled", 2, 5)
    assert job["result"]["ranked"] == 2 and Annotation.objects.filter(origin="slow@1").count() == 2
    again = launch(client, judge="slow", campaign=campaign.pk).json()["id"]
    judge_job_run(again)
    result = client.get(f"/api/v1/judge-jobs/{again}/").json()["result"]
    assert (result["already"], result["ranked"]) == (2, 3) and state["calls"] == 5


@pytest.mark.django_db
def test_a_queued_job_is_cancelled_at_once(api, staff, ordered, campaign):
    client = api(staff)
    job = launch(client, judge="ordered", campaign=campaign.pk).json()
    assert client.post(f"/api/v1/judge-jobs/{job['id']}/cancel/").json()["status"] == "cancelled"
    judge_job_run(job["id"])  # a late delivery does nothing
    assert not Annotation.objects.filter(source="judge").exists()


@pytest.mark.django_db
def test_manage_py_judge_runs_in_process_or_queues(ordered, campaign, capsys):
    call_command("judge", "--judge", "ordered@3", "--campaign", "Judged", "--language", "en")
    assert "ordered@3: 3 task(s) ranked, 0 ranked before, 0 invalid ranking(s), of 3." in capsys.readouterr().out
    call_command("judge", "--judge", "ordered", "--campaign", "Judged", "--background")
    assert "Queued judge job" in capsys.readouterr().out and JudgeJob.objects.filter(status="queued").count() == 1
    with pytest.raises(CommandError, match="No campaign 'Nope'"):
        call_command("judge", "--judge", "ordered", "--campaign", "Nope")
    with pytest.raises(CommandError, match="unknown judge"):
        call_command("judge", "--judge", "nobody@1", "--campaign", "Judged")
