"""The import API takes a format and the language of records that name none: an OpenAssistant dump
(.jsonl.gz) and an UltraFeedback Parquet file upload, a worker imports them, and the job's result counts
the skips per reason; an unknown format or language is refused before anything is stored."""

import pytest

from tests.feedback.formats_fixtures import oasst_trees, ultrafeedback_records, write_records
from webapp.feedback.formats.oasst import DELETED, NOTHING_RANKED, REVIEW_FAILED
from webapp.feedback.formats.ultrafeedback import TOO_FEW
from webapp.feedback.models import Task, TransferJob
from webapp.feedback.services.transfers import transfer_run


def upload(client, path, **fields):
    with path.open("rb") as handle:
        return client.post("/api/v1/transfers/import/", {"file": handle, **fields}, format="multipart")


@pytest.mark.django_db(transaction=True)
def test_an_upload_with_a_format_is_imported_and_its_skips_reported(api, staff, tmp_path):
    client = api(staff)
    reply = upload(client, write_records(tmp_path, "oasst.trees", oasst_trees(), ".jsonl.gz"), format="oasst")
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])
    job = client.get(f"/api/v1/transfers/{reply.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    assert (job["result"]["tasks_created"], job["result"]["annotations_created"]) == (2, 2)
    assert job["result"]["skipped"] == {DELETED: 1, REVIEW_FAILED: 1, NOTHING_RANKED: 1}

    reply = upload(
        client,
        write_records(tmp_path, "uf", ultrafeedback_records(), ".parquet"),
        format="ultrafeedback",
        language="sw",
    )
    transfer_run(reply.json()["id"])
    job = client.get(f"/api/v1/transfers/{reply.json()['id']}/").json()
    assert (job["status"], job["result"]["tasks_created"], job["result"]["skipped"]) == ("succeeded", 1, {TOO_FEW: 1})
    assert Task.objects.get(campaign__name="ultrafeedback").language_id == "sw"


@pytest.mark.django_db
@pytest.mark.parametrize("fields, field", [({"format": "nope"}, "format"), ({"language": "not a tag!"}, "language")])
def test_an_unknown_format_or_language_is_refused(api, staff, tmp_path, fields, field):
    reply = upload(api(staff), write_records(tmp_path, "oasst.trees", oasst_trees(), ".jsonl"), **fields)
    assert reply.status_code == 400 and field in reply.json(), reply.content
    assert TransferJob.objects.count() == 0


@pytest.mark.django_db
def test_the_transfers_page_offers_the_import_formats(client, staff):
    client.force_login(staff)
    page = client.get("/transfers/").content.decode()
    for name in ("auto", "oasst", "ultrafeedback", "hh-rlhf"):
        assert f"<option>{name}</option>" in page
