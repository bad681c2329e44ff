"""The events, raised by the real code paths (job rows finishing, a variant registered, the annotation that
completes a campaign), each recorded in its cause's transaction, with a payload that its JSON Schema in
docs/webhooks/ accepts."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from jsonschema import Draft202012Validator

from ml.llm.files import write_folder_atomically
from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import TransferJob
from webapp.feedback.services.assignment import annotation_submit
from webapp.jobs.services import job_claim, job_request_cancel, job_running, jobs_sweep
from webapp.judging.models import JudgeJob
from webapp.modelstore.models import ModelJob
from webapp.modelstore.services import variant_register
from webapp.retrieval.models import IndexBuild
from webapp.training.models import TrainingJob
from webapp.webhooks import services
from webapp.webhooks.events import EVENT_TYPES
from webapp.webhooks.models import Delivery

pytestmark = [pytest.mark.django_db, pytest.mark.services]

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "webhooks"


def schema_errors(event: dict) -> list[str]:
    schema = json.loads((SCHEMAS / f"{event['type']}.schema.json").read_text())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(event)]


def sent(event_type: str | None = None) -> list[dict]:
    deliveries = Delivery.objects.order_by("id")
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    return [d.payload for d in deliveries]


def assert_valid(events: list[dict]) -> None:
    assert events
    for event in events:
        assert schema_errors(event) == [], event


@pytest.fixture
def listening(db):
    return services.endpoint_create(url="http://127.0.0.1:9/hook")


def registered_variant(name: str = "tiny", **fields):
    relative = f"base/{name}"
    write_folder_atomically(Path(settings.MODELS_STORE) / relative, lambda tmp: tmp.mkdir(parents=True))
    return variant_register(name=name, kind="base", path=relative, **fields)


def test_every_event_type_has_its_json_schema_and_every_schema_an_event():
    assert {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} == set(EVENT_TYPES)
    for path in SCHEMAS.glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_finished_model_training_and_judge_jobs_send_job_succeeded_or_failed(listening):
    variant = registered_variant()
    campaign, _tasks = campaign_with_tasks(n_tasks=1)
    jobs = [
        ModelJob.objects.create(kind="generate"),
        TrainingJob.objects.create(kind="dpo", parent=variant),
        JudgeJob.objects.create(judge="language-fidelity@1", campaign=campaign),
    ]
    failing = ModelJob.objects.create(kind="install")
    for job in jobs:
        with job_running(type(job), job.pk) as run:
            if not isinstance(job, TrainingJob):  # a training job reports metrics, not a result
                run.save(result={"responses": 4, "errors": [{"line": 1}]})
    with job_running(ModelJob, failing.pk):
        raise RuntimeError("no disk left")
    succeeded, failed = sent("job.succeeded"), sent("job.failed")
    assert [e["data"]["job_type"] for e in succeeded] == ["model", "training", "judge"]
    assert [e["data"]["kind"] for e in succeeded] == ["generate", "dpo", "language-fidelity@1"]
    assert succeeded[0]["data"]["summary"] == {"responses": 4}  # counts only; lists stay in the API
    assert succeeded[1]["data"]["api_path"] == f"/api/v1/training-jobs/{jobs[1].pk}/"
    (failure,) = failed
    assert failure["data"]["status"] == "failed" and "no disk left" in failure["data"]["error"]
    assert_valid(succeeded + failed)


def test_transfers_send_import_finished_and_export_finished(listening):
    imported = TransferJob.objects.create(kind="import", path="/tmp/in.jsonl")
    exported = TransferJob.objects.create(kind="export", path="/tmp/out.jsonl")
    with job_running(TransferJob, imported.pk):
        raise ValueError("2 invalid line(s)")
    with job_running(TransferJob, exported.pk) as run:
        run.save(result={"rows": 12, "path": "/tmp/out.jsonl"})
    (imports,) = sent("import.finished")
    (exports,) = sent("export.finished")
    assert imports["data"]["status"] == "failed" and "invalid" in imports["data"]["error"]
    assert exports["data"]["summary"] == {"rows": 12} and sent("job.succeeded") == []
    assert_valid([imports, exports])


def test_a_job_the_sweep_gives_up_on_sends_job_failed(listening, settings):
    settings.JOB_MAX_RECOVERIES = 0
    job = ModelJob.objects.create(kind="generate")
    job_claim(ModelJob, job.pk)
    ModelJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert jobs_sweep()["failed"] == 1
    (event,) = sent("job.failed")
    assert "stopped answering" in event["data"]["error"]
    assert_valid([event])


def test_cancelled_jobs_and_index_builds_send_nothing(listening):
    cancelled = ModelJob.objects.create(kind="generate")
    job_request_cancel(cancelled)
    build = IndexBuild.objects.create()
    with job_running(IndexBuild, build.pk):
        pass
    assert Delivery.objects.count() == 0


def test_registering_a_variant_sends_variant_registered(listening):
    base = registered_variant("tiny-base")
    adapter = registered_variant("tiny-adapter-files")
    events = sent("variant.registered")
    assert [e["data"]["name"] for e in events] == ["tiny-base", "tiny-adapter-files"]
    assert events[0]["data"]["api_path"] == f"/api/v1/variants/{base.pk}/" and adapter.pk
    assert_valid(events)


def test_the_annotation_that_fills_the_last_task_completes_the_campaign(listening):
    campaign, tasks = campaign_with_tasks(n_tasks=2, overlap=1, name="Two tasks")
    first, second = make_annotator("a1", ["en"]), make_annotator("a2", ["en"])
    annotation_submit(user=first, task_id=tasks[0].pk, ranking=[[0], [1], [2]])
    assert sent("campaign.completed") == []
    annotation_submit(user=second, task_id=tasks[1].pk, ranking=[[2], [0, 1]])
    (event,) = sent("campaign.completed")
    assert event["data"] | {"api_path": None} == {
        "id": campaign.pk,
        "name": "Two tasks",
        "overlap": 1,
        "tasks": 2,
        "annotations": 2,
        "api_path": None,
    }
    assert_valid([event])


def test_a_campaign_short_of_its_overlap_is_not_completed(listening):
    _campaign, (task,) = campaign_with_tasks(n_tasks=1, overlap=2, name="Needs two")
    annotation_submit(user=make_annotator("a1", ["en"]), task_id=task.pk, ranking=[[0], [1], [2]])
    assert sent("campaign.completed") == []


def test_the_test_event_matches_its_schema(listening):
    assert_valid([services.endpoint_send_test(endpoint=listening).payload])


def test_with_no_endpoint_nothing_is_recorded(db):
    job = ModelJob.objects.create(kind="generate")
    with job_running(ModelJob, job.pk):
        pass
    assert Delivery.objects.count() == 0


def test_a_failing_listener_never_changes_a_jobs_outcome(listening, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("webhook storage is broken")

    monkeypatch.setattr("webapp.webhooks.receivers.event_record", broken)
    job = ModelJob.objects.create(kind="generate")
    with job_running(ModelJob, job.pk):
        pass
    job.refresh_from_db()
    assert job.status == "succeeded" and Delivery.objects.count() == 0
