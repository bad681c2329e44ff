"""Webhooks through a real worker process on the real broker: a judge job launched through the API runs on
the worker and its `job.succeeded` reaches a local HTTP receiver, signed so that the `standardwebhooks`
package verifies it; a delivery answered 500 is retried by the worker (a countdown on the `webhooks` queue)
and succeeds; an import run on the worker sends `import.finished`."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from ml.llm.files import write_folder_atomically
from tests.e2e.worker_process import wait_for
from tests.feedback.factories import campaign_with_tasks
from tests.webhooks.receiver import Receiver, verified
from webapp.modelstore.services import variant_register
from webapp.webhooks.models import Delivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

WORKER_ENV = {"WEBHOOK_RETRY_DELAYS": "1,1,1", "JOB_HEARTBEAT_SECONDS": "1"}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def received_types(receiver: Receiver) -> list[str]:
    return [verified(request, receiver.secret)["type"] for request in list(receiver.received)]


def test_a_finished_job_reaches_the_receiver_signed_and_a_500_is_retried(
    api, staff, tiny_model, tmp_path, receiver, start_worker
):
    client = api(staff)
    reply = client.post("/api/v1/webhooks/endpoints/", {"url": receiver.url}, format="json")
    assert reply.status_code == 201, reply.json()
    receiver.secret = reply.json()["secret"]
    receiver.answer(500)  # the first request that arrives fails; the worker must try it again
    start_worker(queues="default,webhooks", env=WORKER_ENV)

    target = Path(settings.MODELS_STORE) / "base/tiny-base"
    write_folder_atomically(target, lambda tmp: shutil.copytree(tiny_model, tmp))
    variant_register(name="tiny-base", kind="base", path="base/tiny-base")  # the fidelity judge's tokenizer
    campaign, _tasks = campaign_with_tasks(n_tasks=2, n_responses=2, name="Judged, then announced")
    launched = client.post(
        "/api/v1/judge-jobs/", {"judge": "language-fidelity", "campaign": campaign.pk}, format="json"
    )
    assert launched.status_code == 202, launched.json()

    wait_for(lambda: "job.succeeded" in received_types(receiver), timeout=180, what="job.succeeded delivered")
    events = [verified(request, receiver.secret) for request in receiver.received]
    (succeeded,) = [event for event in events if event["type"] == "job.succeeded"]
    assert succeeded["data"]["id"] == launched.json()["id"] and succeeded["data"]["job_type"] == "judge"
    assert succeeded["data"]["summary"]["ranked"] == 2

    first = receiver.received[0]
    assert first.answered == 500

    def answers_to_first() -> list[int]:
        return [r.answered for r in receiver.received if r.headers["webhook-id"] == first.headers["webhook-id"]]

    wait_for(lambda: answers_to_first() == [500, 200], what="the retry after the 500")
    delivery = wait_for(
        lambda: Delivery.objects.filter(event_id=first.headers["webhook-id"], status="succeeded").first(),
        what="the retried delivery recorded as succeeded",
    )
    assert delivery.attempts == 2 and [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    assert "variant.registered" in received_types(receiver)


def test_an_import_on_the_worker_sends_import_finished(api, staff, tmp_path, receiver, start_worker):
    client = api(staff)
    endpoint = client.post(
        "/api/v1/webhooks/endpoints/", {"url": receiver.url, "event_types": ["import.finished"]}, format="json"
    ).json()
    receiver.secret = endpoint["secret"]
    start_worker(queues="default,webhooks", env=WORKER_ENV)
    path = tmp_path / "in.jsonl"
    path.write_text('{"prompt": "Wie geht es?", "chosen": "Gut.", "rejected": "Nein.", "language": "de"}\n')
    with path.open("rb") as handle:
        job = client.post("/api/v1/transfers/import/", {"file": handle}, format="multipart").json()
    wait_for(lambda: received_types(receiver) == ["import.finished"], timeout=120, what="import.finished delivered")
    event = verified(receiver.received[0], receiver.secret)
    assert event["data"]["id"] == job["id"] and event["data"]["status"] == "succeeded"
    assert event["data"]["summary"]["pairs_created"] == 1
