"""import_feedback --format hf: the folder export_feedback --format hf wrote (or the .zip the export API
serves) comes back: re-imported into the same store (from the folder, or through the import API from the
export API's .zip) every task and pair is unchanged (same content hashes); into a store without them the
pairs export is what it was, string texts strings again; a folder that is no export and a bad row are
refused, naming the file and row."""

import json
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from tests.feedback.test_export_hf import store_records
from webapp.feedback.formats.exporting import ExportSpec, export_rows
from webapp.feedback.formats.hf_import import DERIVED
from webapp.feedback.models import PreferenceRecord, TransferJob
from webapp.feedback.services.importing import ImportRejected, feedback_import
from webapp.feedback.services.transfers import transfer_run

pytestmark = pytest.mark.django_db


def test_reimporting_an_hf_export_changes_nothing(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0.3")
    report = feedback_import(path=out, format="hf")
    assert (report.tasks_created, report.tasks_unchanged) == (0, 48)
    assert (report.pairs_created, report.pairs_unchanged) == (0, 20)
    derived = sum(1 for row in export_rows(ExportSpec("pairs")) if row["source"] != "import" or "metadata" in row)
    assert report.skipped == {DERIVED: derived}


def test_pairs_come_back_as_they_were_into_a_store_without_them(tmp_path):
    pairs = [
        {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "language": "en", "id": "p-1"},
        {
            "prompt": [{"role": "system", "content": "Sé breve."}, {"role": "user", "content": "¿Capital de Perú?"}],
            "chosen": [{"role": "assistant", "content": "Lima."}],
            "rejected": "Cusco.",
            "language": "es",
            "id": "p-2",
            "group": "capitals",
            "source": "vendor-x",
            "prompt_id": "q-9",
            "agreement": 0.8,
            "metadata": {"batch": 3},
        },
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    feedback_import(path=path)
    before = list(export_rows(ExportSpec("pairs")))
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out))
    PreferenceRecord.objects.all().delete()
    call_command("import_feedback", str(out), "--format", "hf")
    assert list(export_rows(ExportSpec("pairs"))) == before
    assert before[0]["prompt"] == "What is 2+2?" and before[1]["rejected"] == "Cusco."


def test_the_export_apis_zip_imports_through_the_import_api(api, staff, tmp_path):
    store_records(tmp_path)
    client = api(staff)
    export = client.post("/api/v1/transfers/export/", {"format": "hf"}, format="json").json()
    transfer_run(export["id"])
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"".join(client.get(f"/api/v1/transfers/{export['id']}/download/").streaming_content))
    with archive.open("rb") as handle:
        reply = client.post("/api/v1/transfers/import/", {"file": handle, "format": "hf"}, format="multipart")
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])
    job = TransferJob.objects.get(pk=reply.json()["id"])
    assert job.status == "succeeded", job.error
    assert (job.result["tasks_unchanged"], job.result["pairs_unchanged"], job.result["invalid"]) == (48, 20, 0)


def test_a_folder_that_is_no_hf_export_is_refused(tmp_path):
    (tmp_path / "other").mkdir()
    with pytest.raises(CommandError, match="holds neither pairs/ nor rankings/"):
        call_command("import_feedback", str(tmp_path / "other"), "--format", "hf")
    (tmp_path / "file.jsonl").write_text("{}\n")
    with pytest.raises(CommandError, match="reads a folder written by export_feedback --format hf"):
        call_command("import_feedback", str(tmp_path / "file.jsonl"), "--format", "hf")


def test_a_bad_row_rejects_the_folder_naming_its_file_and_row(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0")
    train = pq.read_table(out / "pairs" / "train.parquet")
    rows = train.to_pylist()
    row_no = next(i for i, row in enumerate(rows, 1) if row["id"] == "p3")  # an imported pair, not a derived one
    rows[row_no - 1]["language"] = "not a tag!"
    pq.write_table(pa.Table.from_pylist(rows, schema=train.schema), out / "pairs" / "train.parquet")
    PreferenceRecord.objects.all().delete()
    with pytest.raises(ImportRejected) as rejected:
        feedback_import(path=out, format="hf")
    [(_number, message)] = rejected.value.report.errors
    assert message.startswith(f"pairs/train.parquet row {row_no}: ") and "not a tag!" in message
    assert PreferenceRecord.objects.count() == 0


def test_a_zip_that_would_unpack_to_far_more_than_its_size_is_refused_unopened(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ds/pairs/train.parquet", b"\0" * 50_000_000)
    with pytest.raises(CommandError, match="would unpack to 50000000 bytes"):
        call_command("import_feedback", str(bomb), "--format", "hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip"]  # nothing unpacked
