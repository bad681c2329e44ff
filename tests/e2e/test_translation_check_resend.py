"""A translation stored while the broker was down still gets its similarity check: the `sweep` worker's beat
sends it again once TRANSLATION_CHECK_RESEND_SECONDS have passed, and the `index` worker runs it on the real
encoder."""

import pytest
from django.test import Client

from tests.conftest import client_for, make_annotator
from tests.e2e.worker_process import wait_for
from webapp.feedback.models import Contribution
from webapp.feedback.services import catalog, contributing

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAST = {"JOB_SWEEP_SECONDS": "1", "TRANSLATION_CHECK_RESEND_SECONDS": "1"}


def test_a_check_lost_while_the_broker_was_down_is_sent_again_and_runs(staff, start_worker, monkeypatch):
    admin: Client = client_for(staff)
    made = admin.post(
        "/api/v1/campaigns/", {"name": "Lost", "kind": "translate", "languages": ["en", "de"]}, format="json"
    ).json()
    prompt = catalog.prompt_create(content="The weather is nice today.", language="en")
    assert (
        admin.post(f"/api/v1/campaigns/{made['id']}/tasks/", {"prompts": [prompt.pk]}, format="json").status_code == 201
    )
    translator = client_for(make_annotator("lost-t", ["de"]))
    task = translator.post("/api/v1/tasks/next/", {"campaign": made["id"]}, format="json").json()["task"]
    with monkeypatch.context() as down:
        down.setattr(contributing, "send_task", lambda *args, **kwargs: False)  # the send after commit fails
        reply = translator.post(
            f"/api/v1/tasks/{task['id']}/contributions/", {"text": "Das Wetter ist heute schön."}, format="json"
        )
    assert reply.status_code == 201, reply.content

    start_worker(queues="index,sweep", beat=True, env=FAST)
    checked = wait_for(
        lambda: (row := Contribution.objects.get(pk=reply.json()["id"])).checked_at is not None and row,
        timeout=90,
        what="the check sent again by the sweep",
    )
    assert checked.check_sent_at is not None and checked.similarity is not None and checked.similarity > 0.5
