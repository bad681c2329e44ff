"""Launching POSTs with an `Idempotency-Key`: a retry gets the first job back, per user and endpoint,
for IDEMPOTENCY_KEY_SECONDS; the same key with another body is refused with 422."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from webapp.feedback.models import TransferJob
from webapp.jobs.models import IdempotencyKey
from webapp.jobs.services import idempotency_keys_purge

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/transfers/export/"


def export(client, key, **body):
    return client.post(EXPORT, {"format": "pairs", **body}, format="json", headers={"Idempotency-Key": key})


def test_a_retry_with_the_same_key_returns_the_first_job(api, staff):
    client = api(staff)
    first = export(client, "k-1", languages=["de"])
    again = export(client, "k-1", languages=["de"])
    assert first.status_code == again.status_code == 202, first.json()
    assert again.json()["id"] == first.json()["id"]
    assert TransferJob.objects.count() == 1
    assert export(client, "k-2", languages=["de"]).json()["id"] != first.json()["id"]  # a new key, a new job


def test_the_same_key_with_another_body_is_refused_with_422(api, staff):
    client = api(staff)
    assert export(client, "k-1", languages=["de"]).status_code == 202
    reply = export(client, "k-1", languages=["fr"])
    assert reply.status_code == 422
    assert "different request body" in reply.json()["detail"] and reply.json()["field"] == "Idempotency-Key"
    assert TransferJob.objects.count() == 1


def test_keys_are_kept_per_user_and_per_endpoint(api, staff):
    other = User.objects.create_user(username="staff2", password="pw", is_staff=True)
    mine = export(api(staff), "shared").json()["id"]
    theirs = export(api(other), "shared").json()["id"]
    upload = io.BytesIO(b'{"prompt": "p", "chosen": "a", "rejected": "b", "language": "en"}\n')
    upload.name = "in.jsonl"
    imported = api(staff).post(
        "/api/v1/transfers/import/", {"file": upload}, format="multipart", headers={"Idempotency-Key": "shared"}
    )
    assert imported.status_code == 202, imported.json()
    assert len({mine, theirs, imported.json()["id"]}) == 3


def test_an_upload_is_compared_by_its_content(api, staff):
    def post(content: bytes):
        upload = io.BytesIO(content)
        upload.name = "in.jsonl"
        return api(staff).post(
            "/api/v1/transfers/import/", {"file": upload}, format="multipart", headers={"Idempotency-Key": "up"}
        )

    line = b'{"prompt": "p", "chosen": "a", "rejected": "b", "language": "en"}\n'
    first = post(line)
    assert post(line).json()["id"] == first.json()["id"]
    assert post(line * 2).status_code == 422
    assert TransferJob.objects.count() == 1


def test_a_refused_launch_keeps_no_key_so_the_corrected_retry_runs(api, staff):
    client = api(staff)
    assert export(client, "k-1", min_agreement=0.1).status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert export(client, "k-1").status_code == 202


def test_an_expired_key_launches_again_and_the_sweep_purges_it(api, staff, settings):
    client = api(staff)
    first = export(client, "old").json()["id"]
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_SECONDS + 1))
    assert export(client, "old").json()["id"] != first
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_SECONDS + 1))
    assert idempotency_keys_purge() == 1 and not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "schlüssel"])
def test_a_malformed_key_gets_a_400(api, staff, key):
    reply = export(api(staff), key)
    assert reply.status_code == 400 and "Idempotency-Key" in reply.json()["detail"]
    assert not TransferJob.objects.exists()


def test_every_launching_operation_declares_the_header():
    from tests.api.test_openapi_stable import current_shape

    operations = current_shape()["operations"]
    launching = [
        "/api/v1/model-jobs/generate/",
        "/api/v1/model-jobs/install/",
        "/api/v1/search/index/builds/",
        "/api/v1/training-jobs/",
        "/api/v1/transfers/export/",
        "/api/v1/transfers/import/",
    ]
    for path in launching:
        assert "header:Idempotency-Key:{'type': 'string'}" in operations[f"POST {path}"]["parameters"], path
