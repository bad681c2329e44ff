"""Bulk operations on a campaign through the API: archive, unarchive, delete, reassign and gold, each a job
(run here in-process, as the worker would; tests/e2e/test_campaign_jobs_worker.py runs them on a real worker)."""

import pytest

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Campaign, CampaignJob, Lease, Task
from webapp.feedback.services import catalog, operations
from webapp.feedback.services.assignment import annotation_submit, tasks_next

pytestmark = pytest.mark.django_db


def launch(client, campaign, body, **headers):
    return client.post(f"/api/v1/campaigns/{campaign.pk}/jobs/", body, format="json", **headers)


@pytest.fixture
def staff_api(api, staff):
    return api(staff)


@pytest.fixture
def run(staff_api):
    def run(reply) -> dict:
        """Run the launched job as the worker would; the job as the API shows it then."""
        assert reply.status_code == 202, reply.content
        operations.operation_run(reply.json()["id"])
        return staff_api.get(f"/api/v1/campaign-jobs/{reply.json()['id']}/").json()

    return run


def test_archive_takes_the_campaign_out_of_the_queue_and_releases_its_leases_then_unarchive_restores_it(
    run, staff_api, annotator
):
    campaign, tasks = campaign_with_tasks(n_tasks=3)
    held = tasks_next(user=annotator)
    assert held is not None and Lease.objects.count() == 1

    job = run(launch(staff_api, campaign, {"kind": "archive"}))
    assert job["status"] == "succeeded", job
    assert job["result"] == {"leases_released": 1, "tasks": 3, "open_tasks": 3}
    assert not Campaign.objects.get(pk=campaign.pk).is_active and Lease.objects.count() == 0
    assert tasks_next(user=annotator) is None  # nothing to lease in an archived campaign

    job = run(launch(staff_api, campaign, {"kind": "unarchive"}))
    assert job["status"] == "succeeded" and job["result"] == {"tasks": 3, "open_tasks": 3}
    assert tasks_next(user=annotator) is not None


def test_delete_is_a_job_that_soft_deletes_every_task_in_batches_and_cannot_be_cancelled(
    run, staff_api, annotator, monkeypatch
):
    monkeypatch.setattr(operations, "BATCH", 2)  # several batches on a small campaign
    campaign, tasks = campaign_with_tasks(n_tasks=5)
    other, other_tasks = campaign_with_tasks(n_tasks=2, name="Other")
    tasks_next(user=annotator)

    reply = staff_api.delete(f"/api/v1/campaigns/{campaign.pk}/")
    assert reply.status_code == 202 and reply.json()["kind"] == "delete"
    # Gone from every list at once, before the worker has touched a task.
    assert staff_api.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
    assert [c["name"] for c in staff_api.get("/api/v1/campaigns/").json()["results"]] == ["Other"]
    cancel = staff_api.post(f"/api/v1/campaign-jobs/{reply.json()['id']}/cancel/")
    assert cancel.status_code == 409 and "cannot be cancelled" in cancel.json()["detail"]

    job = run(reply)
    assert job["status"] == "succeeded", job
    assert job["result"] == {"tasks_deleted": 5, "leases_released": 1}
    assert job["progress_done"] == job["progress_total"] == 5
    stamp = Campaign.objects.get(pk=campaign.pk).deleted_at
    assert set(Task.objects.filter(campaign=campaign).values_list("deleted_at", flat=True)) == {stamp}
    assert Task.objects.alive().filter(campaign=other).count() == 2  # the other campaign untouched


def test_a_recovered_delete_goes_on_from_what_the_lost_run_did(run, staff_api, monkeypatch):
    monkeypatch.setattr(operations, "BATCH", 2)
    campaign, tasks = campaign_with_tasks(n_tasks=5)
    reply = staff_api.delete(f"/api/v1/campaigns/{campaign.pk}/")
    job = CampaignJob.objects.get(pk=reply.json()["id"])
    # What a run that died after its first batch leaves: two tasks deleted, counted on the row.
    Task.objects.filter(pk__in=[tasks[0].pk, tasks[1].pk]).update(
        deleted_at=Campaign.objects.get(pk=campaign.pk).deleted_at
    )
    CampaignJob.objects.filter(pk=job.pk).update(result={"tasks_deleted": 2, "leases_released": 0})
    done = run(reply)
    assert done["result"]["tasks_deleted"] == 5 and Task.objects.alive().filter(campaign=campaign).count() == 0


def test_reassign_moves_only_open_tasks_in_the_languages_the_target_routes(run, staff_api, annotator, annotator2):
    source, en_tasks = campaign_with_tasks(n_tasks=4, overlap=2, name="Source")
    _, de_tasks = campaign_with_tasks(n_tasks=2, language="de", name="Source")
    source.languages.add(*source.languages.model.objects.filter(code="de"))
    target = catalog.campaign_create(name="Target", guidelines="", languages=["en"], overlap=3)
    # One task complete (two annotations, the source's overlap), one half done: the half-done one moves.
    for user in (annotator, annotator2):
        annotation_submit(user=user, task_id=en_tasks[0].pk, ranking=[[0], [1], [2]])
    annotation_submit(user=annotator, task_id=en_tasks[1].pk, ranking=[[1], [0], [2]])
    tasks_next(user=annotator2)  # annotator2 holds a lease on an open English task

    job = run(launch(staff_api, source, {"kind": "reassign", "to_campaign": target.pk}))
    assert job["status"] == "succeeded", job
    assert job["result"]["moved"] == {"en": 3} and job["result"]["tasks_moved"] == 3
    assert job["result"]["open_tasks_left"] == {"de": 2}
    assert set(Task.objects.filter(campaign=target).values_list("pk", flat=True)) == {t.pk for t in en_tasks[1:]}
    assert Task.objects.get(pk=en_tasks[0].pk).campaign_id == source.pk  # complete: stays with its annotations
    assert Task.objects.get(pk=en_tasks[1].pk).annotations.count() == 1  # annotations travel with the task
    assert not Lease.objects.filter(task__campaign=target).exists()


def test_reassign_refuses_a_bad_target_with_a_message(staff_api):
    source, _ = campaign_with_tasks(n_tasks=1, name="Source")
    german = catalog.campaign_create(name="German", guidelines="", languages=["de"], overlap=2)
    for body, status, words in [
        ({"kind": "reassign", "to_campaign": 999_999}, 400, "no campaign with id 999999"),
        ({"kind": "reassign", "to_campaign": source.pk}, 400, "another campaign"),
        ({"kind": "reassign", "to_campaign": german.pk}, 400, "share no language"),
        ({"kind": "reassign", "to_campaign": german.pk, "languages": ["fr"]}, 400, "fr not routed by both"),
    ]:
        reply = launch(staff_api, source, body)
        assert reply.status_code == status and words in reply.json()["detail"], reply.json()
    assert not CampaignJob.objects.exists()


def test_gold_in_bulk_by_id_and_external_id_all_or_nothing(run, staff_api):
    campaign, tasks = campaign_with_tasks(n_tasks=4)
    Task.objects.filter(pk=tasks[3].pk).update(external_id="ext-3", gold_position=2)
    bad = {
        "kind": "gold",
        "items": [
            {"task": tasks[0].pk, "position": 1},
            {"task": tasks[1].pk, "position": 7},
            {"external_id": "nope", "position": 0},
            {"task": tasks[0].pk, "position": 2},
        ],
    }
    job = run(launch(staff_api, campaign, bad))
    assert job["status"] == "failed"
    assert "3 bad item(s); no gold item was changed" in job["error"]
    assert (
        "item 2: position 7 is out of range" in job["error"]
        and "item 3: no task with external_id 'nope'" in job["error"]
    )
    assert f"item 4: task {tasks[0].pk} is already named by item 1" in job["error"]
    assert job["result"]["error_count"] == 3
    assert list(Task.objects.order_by("pk").values_list("gold_position", flat=True)) == [None, None, None, 2]

    good = {
        "kind": "gold",
        "items": [
            {"task": tasks[0].pk, "position": 1},
            {"task": tasks[1].pk, "position": 0},
            {"external_id": "ext-3", "position": None},
        ],
    }
    job = run(launch(staff_api, campaign, good))
    assert job["status"] == "succeeded", job
    assert job["result"] == {"marked": 2, "unmarked": 1, "errors": [], "error_count": 0}
    assert list(Task.objects.order_by("pk").values_list("gold_position", flat=True)) == [1, 0, None, None]


def test_gold_items_are_checked_in_the_request_naming_the_item(staff_api):
    campaign, tasks = campaign_with_tasks(n_tasks=1)
    for items, words in [
        ([{"position": 1}], "item 1: an object with a position and either task"),
        ([{"task": tasks[0].pk, "external_id": "x", "position": 1}], "item 1: an object"),
        ([{"task": tasks[0].pk, "position": 0}, {"task": "7", "position": 0}], "item 2: task must be a task id"),
        ([{"task": tasks[0].pk, "position": -1}], "item 1: position must be"),
        ([], "at least one"),
    ]:
        reply = launch(staff_api, campaign, {"kind": "gold", "items": items})
        assert reply.status_code == 400 and words in str(reply.json()), (items, reply.json())
    too_many = [{"task": 1, "position": 0}] * (operations.MAX_GOLD_ITEMS + 1)
    reply = launch(staff_api, campaign, {"kind": "gold", "items": too_many})
    assert reply.status_code == 400 and "At most 100000 items" in str(reply.json())


def test_one_operation_at_a_time_per_campaign_and_idempotent_launches(run, staff_api):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    first = launch(staff_api, campaign, {"kind": "archive"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = launch(staff_api, campaign, {"kind": "archive"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert CampaignJob.objects.count() == 1
    busy = launch(staff_api, campaign, {"kind": "unarchive"})
    assert busy.status_code == 409 and f"job {first.json()['id']}" in busy.json()["detail"]
    run(first)
    assert launch(staff_api, campaign, {"kind": "unarchive"}).status_code == 202


def test_a_reassign_cancelled_between_batches_keeps_what_moved(run, staff_api, monkeypatch):
    monkeypatch.setattr(operations, "BATCH", 2)
    source, tasks = campaign_with_tasks(n_tasks=6, name="Source")
    target = catalog.campaign_create(name="Target", guidelines="", languages=["en"], overlap=2)
    reply = launch(staff_api, source, {"kind": "reassign", "to_campaign": target.pk})
    job_id = reply.json()["id"]
    real_save = operations.JobRun.save

    def save_then_cancel(self, **fields):  # staff press cancel while the first batch is written
        real_save(self, **fields)
        CampaignJob.objects.filter(pk=job_id).update(cancel_requested=True)
        self.cancelled.set()  # what the heartbeat does on seeing the request

    monkeypatch.setattr(operations.JobRun, "save", save_then_cancel)
    operations.operation_run(job_id)
    job = staff_api.get(f"/api/v1/campaign-jobs/{job_id}/").json()
    assert job["status"] == "cancelled" and job["result"]["tasks_moved"] == 2
    assert Task.objects.filter(campaign=target).count() == 2


def test_only_staff_run_bulk_operations(api, annotator, reviewer):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    for user in (annotator, reviewer):
        assert launch(api(user), campaign, {"kind": "archive"}).status_code == 403
        assert api(user).get("/api/v1/campaign-jobs/").status_code == 403


def test_ids_out_of_range_are_refused_with_a_message(run, staff_api):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    reply = launch(staff_api, campaign, {"kind": "reassign", "to_campaign": 2**70})
    assert reply.status_code == 400 and "to_campaign" in reply.json()
    reply = launch(staff_api, campaign, {"kind": "gold", "items": [{"task": 2**70, "position": 0}]})
    assert reply.status_code == 400 and "item 1: task must be a task id" in str(reply.json())
    for value in ("x", "²", str(2**70), "-1"):
        reply = staff_api.get("/api/v1/campaign-jobs/", {"campaign": value})
        assert reply.status_code == 400 and "campaign must be a campaign id" in reply.json()["detail"], value
    assert staff_api.get("/api/v1/campaign-jobs/", {"campaign": campaign.pk}).status_code == 200
