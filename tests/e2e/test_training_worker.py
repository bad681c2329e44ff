"""Training on a real gpu worker process and the real broker: a worker killed mid-job is replaced and
the job resumes from its checkpoint, with no step recorded twice and exactly one variant; cancel keeps
the checkpoint and retry resumes from it; and staff follow a job in the browser from launch to done."""

import os
import time

import pytest
from django.conf import settings

from ml.training import checkpoints
from tests.e2e.conftest import browser_login
from tests.e2e.worker_process import wait_for
from tests.training.synthetic import marker_pairs, write
from webapp.feedback.services.importing import feedback_import
from webapp.modelstore.models import ModelVariant
from webapp.training.models import TrainingJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

HP = {
    "learning_rate": 5e-3,
    "batch_size": 4,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "max_length": 64,
    "save_steps": 4,
}
FAST_SWEEP = {"JOB_STALE_SECONDS": "4", "JOB_SWEEP_SECONDS": "1", "JOB_HEARTBEAT_SECONDS": "1"}


@pytest.fixture
def preferences(tmp_path):
    feedback_import(path=write(tmp_path / "pairs.jsonl", marker_pairs(60, seed=5)))


def job(pk):
    return TrainingJob.objects.get(pk=pk)


def launch(api, staff, steps):
    body = {"kind": "dpo", "parent": "tiny-base", "hyperparameters": {**HP, "max_steps": steps}}
    reply = api(staff).post("/api/v1/training-jobs/", body, format="json")
    assert reply.status_code == 202, reply.json()
    return reply.json()["id"]


def test_a_killed_worker_resumes_from_its_checkpoint_and_the_job_ends_with_one_variant(
    api, staff, tiny_variants, preferences, start_worker
):
    first = start_worker(queues="gpu", env=FAST_SWEEP)
    job_id = launch(api, staff, steps=50)
    ckpts = settings.MODELS_STORE / job(job_id).folder / "checkpoints"
    wait_for(
        lambda: checkpoints.completed(ckpts) and job(job_id).progress_done >= 6,
        interval=0.1,
        what="a checkpoint and a few more steps",
    )
    first.kill()
    assert job(job_id).status == "running"
    start_worker(queues="gpu,sweep", beat=True, env=FAST_SWEEP)  # the sweep runs on `sweep`
    done = wait_for(lambda: job(job_id).is_finished and job(job_id), timeout=300, what="the resumed job")
    assert done.status == "succeeded", done.error
    assert done.recoveries == 1 and done.resumes and done.resumes[0] > 0
    assert f"resuming from step {done.resumes[0]}" in done.log
    steps = [m["step"] for m in done.metrics]
    assert steps == sorted(set(steps)) == list(range(1, 51))  # no step twice, none missing
    assert ModelVariant.objects.filter(lineage__job=job_id).count() == 1


def test_cancel_keeps_the_checkpoint_and_retry_resumes_from_it(api, staff, tiny_variants, preferences, start_worker):
    start_worker(queues="gpu", env=FAST_SWEEP)
    job_id = launch(api, staff, steps=40)
    wait_for(lambda: job(job_id).progress_done >= 5, interval=0.1, what="some progress")
    assert api(staff).post(f"/api/v1/training-jobs/{job_id}/cancel/").status_code == 200
    cancelled = wait_for(lambda: job(job_id).is_finished and job(job_id), what="the cancel")
    assert cancelled.status == "cancelled" and cancelled.variant is None
    kept = checkpoints.completed(settings.MODELS_STORE / job(job_id).folder / "checkpoints")
    assert kept and kept[-1] == cancelled.metrics[-1]["step"] == cancelled.progress_done
    assert api(staff).post(f"/api/v1/training-jobs/{job_id}/retry/").status_code == 200
    done = wait_for(lambda: job(job_id).is_finished and job(job_id), timeout=300, what="the retried job")
    assert done.status == "succeeded" and done.resumes == [kept[-1]] and done.variant is not None


def test_a_cancel_while_the_job_prepares_stops_it_before_the_first_step(
    api, staff, tiny_variants, preferences, start_worker
):
    start_worker(queues="gpu", env=FAST_SWEEP)
    job_id = launch(api, staff, steps=40)
    wait_for(lambda: job(job_id).status == "running", interval=0.05, what="the claim")
    assert api(staff).post(f"/api/v1/training-jobs/{job_id}/cancel/").status_code == 200
    cancelled = wait_for(lambda: job(job_id).is_finished and job(job_id), timeout=60, what="the cancel")
    assert cancelled.status == "cancelled" and cancelled.metrics == [] and cancelled.progress_done == 0
    assert not checkpoints.completed(settings.MODELS_STORE / cancelled.folder / "checkpoints")


@pytest.mark.browser
def test_staff_launch_a_job_and_watch_it_finish_in_the_browser(
    staff, tiny_variants, preferences, live_app, browser_page, start_worker
):
    start_worker(queues="gpu")
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/jobs/")
    page.fill("#launch-form input[name=max_steps]", "0")
    page.fill("#launch-form input[name=learning_rate]", "0.5")
    page.fill("#launch-form input[name=beta]", "20")  # the page allows it; the server refuses it by name
    page.click("#launch-form button[type=submit]")
    page.wait_for_selector("#form-error:text('beta')")
    page.fill("#launch-form input[name=beta]", "0.1")
    page.fill("#launch-form input[name=learning_rate]", "0.005")
    page.fill("#launch-form input[name=max_steps]", "8")
    page.fill("#launch-form input[name=max_length]", "64")
    page.fill("#launch-form input[name=batch_size]", "4")
    page.click("#launch-form button[type=submit]")
    page.wait_for_url(f"{live_app.url}/jobs/*/")
    page.wait_for_selector("#job .status:text('succeeded')", timeout=180_000)
    assert page.inner_text("#job .steps") == "8 / 8"
    assert page.locator("#evaluation tbody tr").count() >= 2
    assert "registered variant" in page.inner_text("#log")
    link = page.wait_for_selector("#job .variant a")  # the new variant, linked to its page
    assert link.get_attribute("href") == f"/models/{TrainingJob.objects.get().variant_id}/"
    sources = page.inner_text("#sources")
    assert sources.startswith("By source: ") and "{" not in sources and '"' not in sources  # no raw JSON
    os.makedirs(settings.VAR_DIR / "screens", exist_ok=True)
    time.sleep(0.5)  # let the last chart frame draw before the screenshot
    page.screenshot(path=str(settings.VAR_DIR / "screens" / "training-job.png"), full_page=True)


def test_an_sft_job_runs_on_a_worker_and_its_variant_generates(api, staff, tiny_variants, preferences, start_worker):
    from ml.llm.inference import LocalBackend
    from ml.llm.params import GenerationParams
    from webapp.modelstore.services import variant_ref

    start_worker(queues="gpu")
    body = {"kind": "sft", "parent": "tiny-base", "hyperparameters": {**HP, "max_steps": 6}}
    job_id = api(staff).post("/api/v1/training-jobs/", body, format="json").json()["id"]
    done = wait_for(lambda: job(job_id).is_finished and job(job_id), timeout=180, what="the sft job")
    assert done.status == "succeeded", done.error
    assert done.variant.kind == "sft" and [m["step"] for m in done.metrics] == list(range(1, 7))
    assert done.evaluation["all"]["n"] > 0
    reply = LocalBackend().generate(
        variant_ref(done.variant), [{"role": "user", "content": "Salut"}], GenerationParams(max_new_tokens=4)
    )
    assert isinstance(reply, str)
