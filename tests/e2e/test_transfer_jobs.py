"""Imports and exports through the API, run by a real worker process on the real broker; and a
worker killed mid-import whose job the sweep recovers."""

import json
import time

import pytest

from tests.e2e.worker_process import wait_for
from webapp.feedback.models import PreferenceRecord, TransferJob
from webapp.feedback.services.transfers import transfer_import_create

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def pairs_file(path, n: int, prefix: str = "p"):
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(
                json.dumps(
                    {
                        "prompt": f"Frage {i}: wie geht es dir heute?",
                        "chosen": f"Gut, danke! {i}",
                        "rejected": f"Nein. {i}",
                        "language": "de",
                        "id": f"{prefix}-{i}",
                    }
                )
                + "\n"
            )
    return path


def job_state(job_id):
    return TransferJob.objects.get(pk=job_id)


def test_import_and_export_run_on_a_worker_through_the_api(api, staff, tmp_path, start_worker):
    start_worker()
    client = api(staff)
    path = pairs_file(tmp_path / "in.jsonl", 2500)
    with path.open("rb") as handle:
        reply = client.post("/api/v1/transfers/import/", {"file": handle}, format="multipart")
    assert reply.status_code == 202, reply.content
    job_id = reply.json()["id"]
    done = wait_for(
        lambda: (
            client.get(f"/api/v1/transfers/{job_id}/").json()["status"] in ("succeeded", "failed")
            and client.get(f"/api/v1/transfers/{job_id}/").json()
        ),
        what="import job",
    )
    assert done["status"] == "succeeded", done
    assert done["result"]["pairs_created"] == 2500 and PreferenceRecord.objects.count() == 2500

    reply = client.post("/api/v1/transfers/export/", {"format": "dpo", "languages": ["de"]}, format="json")
    assert reply.status_code == 202
    export_id = reply.json()["id"]
    wait_for(lambda: job_state(export_id).status == "succeeded", what="export job")
    body = b"".join(client.get(f"/api/v1/transfers/{export_id}/download/").streaming_content)
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert len(rows) == 2500 and rows[0]["prompt"][0]["role"] == "user"


def test_a_bad_import_fails_with_every_bad_line_listed_and_imports_nothing(api, staff, tmp_path, start_worker):
    start_worker()
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "chosen": "b", "rejected": "c", "language": "en"}\n{oops\n[1]\n')
    with path.open("rb") as handle:
        job_id = api(staff).post("/api/v1/transfers/import/", {"file": handle}, format="multipart").json()["id"]
    job = wait_for(lambda: job_state(job_id).is_finished and job_state(job_id), what="import job")
    assert job.status == "failed" and "2 invalid line(s)" in job.error
    assert [e["line"] for e in job.result["errors"]] == [2, 3]
    assert PreferenceRecord.objects.count() == 0


def test_a_hostile_import_fails_with_each_limit_on_its_line_and_reports_nothing_stored(
    api, staff, tmp_path, start_worker
):
    """1,200 good lines are written in batches before the bad ones; the rollback must show in the counts.
    The bad lines: nesting 5,000 deep (once a RecursionError), 100 KB of unknown keys, an over-long line."""
    start_worker(env={"IMPORT_LINE_MAX_BYTES": "200000"})
    path = pairs_file(tmp_path / "hostile.jsonl", 1200)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(
            '{"prompt": "a", "chosen": "b", "rejected": "c", "language": "en", "x": ' + "[" * 5000 + "]" * 5000
        )
        handle.write(
            "}\n" + json.dumps({"prompt": "a", "chosen": "b", "rejected": "c", "language": "en", "x": "y" * 100_000})
        )
        handle.write(
            "\n" + json.dumps({"prompt": "a", "chosen": "b", "rejected": "c", "language": "en", "x": "z" * 300_000})
        )
    with path.open("rb") as handle:
        job_id = api(staff).post("/api/v1/transfers/import/", {"file": handle}, format="multipart").json()["id"]
    job = wait_for(lambda: job_state(job_id).is_finished and job_state(job_id), what="import job")
    assert job.status == "failed" and "3 invalid line(s); nothing was imported" in job.error, job.error
    assert "RecursionError" not in job.error
    errors = {e["line"]: e["error"] for e in job.result["errors"]}
    assert sorted(errors) == [1201, 1202, 1203]
    assert "more than 64 levels deep (the limit is 64)" in errors[1201]
    assert "over the limit of 65536 bytes (IMPORT_METADATA_MAX_BYTES)" in errors[1202]
    assert "over the limit of 200000 bytes (IMPORT_LINE_MAX_BYTES)" in errors[1203]
    counts = {k: job.result[k] for k in ("pairs_created", "pairs_unchanged", "tasks_created", "annotations_created")}
    assert counts == {"pairs_created": 0, "pairs_unchanged": 0, "tasks_created": 0, "annotations_created": 0}
    assert job.result["lines"] == 1203 and job.result["invalid"] == 3
    assert PreferenceRecord.objects.count() == 0


def test_a_job_whose_worker_was_killed_is_recovered_by_the_sweep_and_runs_once(tmp_path, start_worker):
    n = 60_000
    path = pairs_file(tmp_path / "big.jsonl", n, prefix="big")
    crashing = start_worker()
    job = transfer_import_create(path=path, skip_invalid=False, user=None)
    wait_for(lambda: job_state(job.pk).status == "running", interval=0.05, what="job to start")
    time.sleep(1.5)  # well inside the ~7 s import
    crashing.kill()
    assert job_state(job.pk).status == "running"  # killed mid-import: the row still says running...
    assert PreferenceRecord.objects.count() == 0  # ...and the atomic import left nothing behind

    rescuer = start_worker(beat=True, env={"JOB_STALE_SECONDS": "3", "JOB_SWEEP_SECONDS": "1"})
    finished = wait_for(lambda: job_state(job.pk).is_finished and job_state(job.pk), timeout=240, what="recovery")
    assert finished.status == "succeeded", (finished.error, rescuer.output()[-3000:])
    assert finished.recoveries == 1 and finished.attempt == 3  # claim, recovery, claim again
    assert finished.result["pairs_created"] == n
    assert PreferenceRecord.objects.count() == n
