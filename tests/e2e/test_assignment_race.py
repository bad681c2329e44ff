"""Twenty annotators racing for the last slots: no task over-filled, no accepted submission lost.
On PostgreSQL this exercises SELECT ... FOR UPDATE SKIP LOCKED; on SQLite the IMMEDIATE write lock."""

import threading

import pytest
from django.db import connection

from tests.conftest import client_for, make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Annotation, Task

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 20


def annotate_until_done(user, accepted: list, errors: list, barrier: threading.Barrier) -> None:
    client = client_for(user)
    barrier.wait()
    try:
        for _ in range(20):
            got = client.post("/api/v1/tasks/next/", {}, format="json")
            if got.status_code != 200:
                errors.append(got.content)
                return
            task = got.json()["task"]
            if task is None:
                return
            reply = client.post(f"/api/v1/tasks/{task['id']}/annotations/", {"ranking": [[0], [1], [2]]}, format="json")
            if reply.status_code == 201:
                accepted.append((user.pk, task["id"]))
            elif reply.status_code != 409:
                errors.append(reply.content)
    finally:
        connection.close()


def test_twenty_annotators_racing_never_overfill_and_lose_nothing():
    tasks_n, overlap = 7, 2
    campaign_with_tasks(n_tasks=tasks_n, overlap=overlap)
    users = [make_annotator(f"racer{i}", ["en"]) for i in range(THREADS)]
    accepted, errors = [], []
    barrier = threading.Barrier(THREADS)
    threads = [threading.Thread(target=annotate_until_done, args=(u, accepted, errors, barrier)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    stored = set(Annotation.objects.values_list("annotator_id", "task_id"))
    assert stored == set(accepted)  # every accepted submission is stored, nothing else is
    assert len(accepted) == tasks_n * overlap  # every slot filled ...
    for task in Task.objects.all():
        assert task.annotations.count() == task.annotation_count == overlap  # ... and none over-filled
