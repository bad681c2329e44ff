"""Annotations filling a campaign's last tasks at the same time: exactly one `campaign.completed` is recorded.
Without the campaign row's lock, on PostgreSQL the two last submissions each see the other's task still open
and neither announces; on SQLite the IMMEDIATE write lock already serialises them."""

import threading

import pytest
from django.db import connection, transaction

from tests.conftest import client_for, make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.services.assignment import annotation_submit
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


def test_the_second_of_two_overlapping_last_submissions_sees_the_first_and_announces():
    """The first submission stays uncommitted while the second runs: the second must wait for it (the campaign
    lock) and then see its count; without the lock it would see the first task open, and nobody announces."""
    endpoint_create(url="http://127.0.0.1:9/hook", event_types=["campaign.completed"])
    _campaign, (first_task, second_task) = campaign_with_tasks(n_tasks=2, overlap=1, name="Last two")
    first, second = make_annotator("first", ["en"]), make_annotator("second", ["en"])
    first_submitted, second_done, errors = threading.Event(), threading.Event(), []

    def submit_and_hold() -> None:
        try:
            with transaction.atomic():
                annotation_submit(user=first, task_id=first_task.pk, ranking=[[0], [1], [2]])
                first_submitted.set()
                second_done.wait(timeout=3)  # with the lock the second is blocked now, so this times out
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            first_submitted.set()
            connection.close()

    def submit_after_first() -> None:
        try:
            first_submitted.wait(timeout=30)
            annotation_submit(user=second, task_id=second_task.pk, ranking=[[0], [1], [2]])
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=submit_and_hold), threading.Thread(target=submit_after_first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert Delivery.objects.filter(event_type="campaign.completed").count() == 1
