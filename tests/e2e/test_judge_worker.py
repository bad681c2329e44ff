"""The `llm` judge on a real gpu worker process and the real broker, over the tiny model: a judge job
launched through the API runs on the `gpu` queue with progress, is cancelled mid-way keeping what it
ranked, and a second launch resumes where it stopped."""

import pytest

from tests.e2e.worker_process import wait_for
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import judges
from webapp.feedback.models import Annotation, Task
from webapp.judging.llm import llm_judge

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

WORKER_ENV = {"JUDGE_LLM_VARIANT": "tiny-base", "JOB_HEARTBEAT_SECONDS": "1"}
ORIGIN = "llm@1+tiny-base"
# Enough work that a cancel sent after the first ranked task lands mid-way: 40 tasks of 3 answers were
# once all ranked within the second the heartbeat takes to see the cancel; on a loaded machine 80 take minutes.
N_TASKS, N_RESPONSES = 80, 3


def test_an_llm_judge_job_runs_on_a_gpu_worker_is_cancelled_and_resumes(
    api, staff, tiny_variants, start_worker, monkeypatch
):
    monkeypatch.setitem(judges._items, "llm", llm_judge("tiny-base"))  # what the worker's setting registers
    campaign, tasks = campaign_with_tasks(
        n_tasks=N_TASKS, language="en", n_responses=N_RESPONSES, name="Judged on a worker"
    )
    start_worker(queues="gpu", env=WORKER_ENV)
    client = api(staff)

    def launch():
        reply = client.post("/api/v1/judge-jobs/", {"judge": ORIGIN, "campaign": campaign.pk}, format="json")
        assert reply.status_code == 202, reply.json()
        assert reply.json()["queue"] == "gpu"
        return reply.json()["id"]

    def state(job_id):
        return client.get(f"/api/v1/judge-jobs/{job_id}/").json()

    first = launch()
    wait_for(lambda: state(first)["progress_done"] >= 1, what="a first task ranked")
    assert client.post(f"/api/v1/judge-jobs/{first}/cancel/").status_code == 200
    stopped = wait_for(
        lambda: state(first)["status"] in ("cancelled", "succeeded") and state(first), what="cancel", timeout=300
    )
    assert stopped["status"] == "cancelled", stopped
    kept = Annotation.objects.filter(source="judge", origin=ORIGIN).count()
    assert 1 <= kept < N_TASKS and stopped["result"]["ranked"] == kept and stopped["progress_total"] == N_TASKS

    second = launch()
    done = wait_for(
        lambda: state(second)["status"] in ("succeeded", "failed") and state(second), what="judging", timeout=600
    )
    assert done["status"] == "succeeded", done
    assert (done["result"]["already"], done["result"]["ranked"]) == (kept, N_TASKS - kept)
    assert (done["progress_done"], done["progress_total"]) == (N_TASKS, N_TASKS)
    labels = Annotation.objects.filter(source="judge", origin=ORIGIN)
    assert labels.count() == N_TASKS and {a.annotator.username for a in labels} == {f"judge:{ORIGIN}"}
    assert all(sorted(i for rank in a.ranking for i in rank) == list(range(N_RESPONSES)) for a in labels)
    assert not Task.objects.filter(pk__in=[t.pk for t in tasks], annotation_count__gt=0).exists()
