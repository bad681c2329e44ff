"""Twenty annotators racing to fill a campaign's last slots: exactly one `campaign.completed` is recorded.
Without the campaign row's lock, on PostgreSQL the two last submissions each see the other's task still open
and neither announces; on SQLite the IMMEDIATE write lock already serialises them."""

import threading

import pytest
from django.db import connection

from tests.conftest import client_for, make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.webhooks.models import Delivery
from webapp.webhooks.services import endpoint_create

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 20


def annotate_until_done(user, errors: list, barrier: threading.Barrier) -> None:
    client = client_for(user)
    barrier.wait()
    try:
        for _round in range(20):
            task = client.post("/api/v1/tasks/next/", {}, format="json").json()["task"]
            if task is None:
                return
            reply = client.post(f"/api/v1/tasks/{task['id']}/annotations/", {"ranking": [[0], [1], [2]]}, format="json")
            if reply.status_code not in (201, 409):
                errors.append(reply.content)
    finally:
        connection.close()


def test_racing_annotators_complete_a_campaign_once():
    endpoint_create(url="http://127.0.0.1:9/hook", event_types=["campaign.completed"])
    campaign, _tasks = campaign_with_tasks(n_tasks=7, overlap=2, name="Raced")
    users = [make_annotator(f"racer{i}", ["en"]) for i in range(THREADS)]
    errors: list = []
    barrier = threading.Barrier(THREADS)
    threads = [threading.Thread(target=annotate_until_done, args=(u, errors, barrier)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    (completed,) = Delivery.objects.filter(event_type="campaign.completed")
    assert completed.payload["data"]["id"] == campaign.pk and completed.payload["data"]["annotations"] == 14
