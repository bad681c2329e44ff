"""POST /model-jobs/install/ is idempotent: an install already queued or running, or a model already
installed, is answered with that job (200) and nothing new is queued; otherwise a new job (202)."""

import pytest
from django.conf import settings

from ml.llm.files import write_folder_atomically
from webapp.modelstore.models import ModelJob
from webapp.modelstore.services import variant_register

pytestmark = pytest.mark.django_db

INSTALL = "/api/v1/model-jobs/install/"


def test_a_second_install_of_a_queued_model_returns_the_queued_job(api, staff):
    client = api(staff)
    first = client.post(INSTALL, {"source": "org/some-model"}, format="json")
    assert first.status_code == 202 and first.json()["status"] == "queued"
    again = client.post(INSTALL, {"source": "org/some-model"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = client.post(INSTALL, {"source": "org/another-model"}, format="json")
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    assert ModelJob.objects.count() == 2


def test_installing_an_installed_model_queues_nothing(api, staff, tmp_path):
    write_folder_atomically(settings.MODELS_STORE / "base/ready-model", lambda tmp: tmp.mkdir())
    variant_register(name="ready-model", kind="base", path="base/ready-model", source="org/ready-model")
    replies = [api(staff).post(INSTALL, {"source": "org/ready-model"}, format="json") for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200]
    job = replies[0].json()
    assert job["status"] == "succeeded" and job["result"] == {"variant": "ready-model", "installed": False}
    assert {r.json()["id"] for r in replies} == {job["id"]} and ModelJob.objects.count() == 1
