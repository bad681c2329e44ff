"""The Hugging Face export through the API on a real worker process and broker: the job writes the dataset
folder, the download is a .zip of it, and `datasets.load_dataset` loads the unzipped folder per config."""

import io
import json
import os
import zipfile

import pytest

from tests.e2e.worker_process import wait_for
from webapp.feedback.models import TransferJob
from webapp.feedback.services.importing import feedback_import

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_an_hf_export_runs_on_a_worker_and_downloads_as_a_zip(api, staff, tmp_path, start_worker):
    path = tmp_path / "in.jsonl"
    rows = [
        {"prompt": f"Frage {i}", "chosen": f"gut {i}", "rejected": f"schlecht {i}", "language": "de", "id": f"p{i}"}
        for i in range(300)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    feedback_import(path=path)
    start_worker()
    client = api(staff)
    reply = client.post("/api/v1/transfers/export/", {"format": "hf", "test_fraction": 0.2}, format="json")
    assert reply.status_code == 202, reply.content
    job_id = reply.json()["id"]
    job = wait_for(
        lambda: TransferJob.objects.get(pk=job_id).is_finished and TransferJob.objects.get(pk=job_id), what="hf export"
    )
    assert job.status == "succeeded", job.error
    assert job.result["rows"] == 900  # pairs, dpo and sft: one row per pair each
    download = client.get(f"/api/v1/transfers/{job_id}/download/")
    assert download["Content-Disposition"].endswith(f'filename="export-{job_id}.zip"')
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        archive.extractall(tmp_path / "unzipped")

    os.environ["HF_DATASETS_OFFLINE"] = os.environ["HF_HUB_OFFLINE"] = "1"
    import datasets  # noqa: PLC0415  (after the offline switches)

    folder = str(tmp_path / "unzipped" / f"export-{job_id}")
    pairs = datasets.load_dataset(folder, cache_dir=str(tmp_path / "cache"))
    sft = datasets.load_dataset(folder, "sft", cache_dir=str(tmp_path / "cache"))
    assert pairs["train"].num_rows + pairs["test"].num_rows == 300 and pairs["test"].num_rows > 0
    assert sft["train"].num_rows == pairs["train"].num_rows
