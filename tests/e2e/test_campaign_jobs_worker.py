"""Bulk operations on a real worker over the real broker: gold marks for 3,000 imported tasks, then the
campaign deleted through the API, its tasks soft-deleted by the worker in batches."""

import json

import pytest

from tests.e2e.worker_process import wait_for
from webapp.feedback.models import Campaign, Task
from webapp.feedback.services import catalog
from webapp.feedback.services.importing import feedback_import

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

N = 3000


def finished(client, job_id):
    job = client.get(f"/api/v1/campaign-jobs/{job_id}/").json()
    return job if job["status"] in ("succeeded", "failed", "cancelled") else None


def test_gold_then_delete_of_a_large_campaign_on_a_worker(api, staff, tmp_path, start_worker):
    campaign = catalog.campaign_create(name="Big", guidelines="", languages=["de"], overlap=2)
    path = tmp_path / "tasks.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(N):
            line = {
                "id": f"t-{i}",
                "prompt": f"Frage {i}",
                "language": "de",
                "campaign": "Big",
                "responses": [{"text": f"Antwort A {i}"}, {"text": f"Antwort B {i}"}],
            }
            handle.write(json.dumps(line) + "\n")
    assert feedback_import(path=path).tasks_created == N
    start_worker()
    client = api(staff)

    items = [{"external_id": f"t-{i}", "position": i % 2} for i in range(N)]
    reply = client.post(f"/api/v1/campaigns/{campaign.pk}/jobs/", {"kind": "gold", "items": items}, format="json")
    assert reply.status_code == 202, reply.content
    job = wait_for(lambda: finished(client, reply.json()["id"]), what="gold job")
    assert job["status"] == "succeeded", job
    assert job["result"]["marked"] == N and job["progress_done"] == job["progress_total"] == 2 * N
    assert Task.objects.filter(gold_position=1).count() == N // 2

    reply = client.delete(f"/api/v1/campaigns/{campaign.pk}/")
    assert reply.status_code == 202
    job = wait_for(lambda: finished(client, reply.json()["id"]), what="delete job")
    assert job["status"] == "succeeded", job
    assert job["result"]["tasks_deleted"] == N and job["progress_done"] == N
    assert Task.objects.alive().filter(campaign=campaign).count() == 0
    assert Campaign.objects.alive().filter(pk=campaign.pk).count() == 0
