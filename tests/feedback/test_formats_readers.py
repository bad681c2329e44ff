"""The reader layer (webapp/feedback/formats/readers.py): the store's own pairs and rankings import from
.jsonl.gz and .parquet as from .jsonl; the kind of file is told by its bytes, so an upload stored under
another name still reads; damaged or misnamed files are refused with what is wrong."""

import gzip
import json

import pytest

from tests.feedback.formats_fixtures import SUFFIXES, write_records
from webapp.errors import ApplicationError
from webapp.feedback.formats.readers import open_records
from webapp.feedback.models import PreferenceRecord, Task
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db

PAIR = {"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away.", "language": "en", "id": "p1"}
RANKING = {
    "id": "t1",
    "prompt": "Olá?",
    "language": "pt",
    "responses": [{"text": "Olá!"}, {"text": "Oi."}],
    "ranking": [[1], [0]],
}


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_the_stores_own_formats_read_from_every_kind_of_file(tmp_path, suffix):
    # Parquet columns are typed: one file holds one kind of record (JSON Lines may mix them).
    pairs = write_records(tmp_path, "pairs", [PAIR, {**PAIR, "id": "p2", "chosen": "Hey!"}], suffix)
    rankings = write_records(tmp_path, "rankings", [RANKING], suffix)
    assert feedback_import(path=pairs).pairs_created == 2
    assert feedback_import(path=rankings).tasks_created == 1
    assert PreferenceRecord.objects.count() == 2 and Task.objects.get().language_id == "pt"
    assert feedback_import(path=pairs).pairs_unchanged == 2


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_bad_record_is_named_by_its_line_or_row(tmp_path, suffix):
    records = [PAIR, {**PAIR, "id": "p2"}, {**PAIR, "id": "p3", "chosen": "Go away."}]
    with pytest.raises(ImportRejected) as caught:
        feedback_import(path=write_records(tmp_path, "pairs", records, suffix))
    assert [line for line, _error in caught.value.report.errors] == [3]
    assert PreferenceRecord.objects.count() == 0


def test_a_gzip_upload_stored_under_a_jsonl_name_is_read_by_its_bytes(tmp_path):
    path = tmp_path / "upload.jsonl"
    path.write_bytes(gzip.compress((json.dumps(PAIR) + "\n").encode()))
    assert feedback_import(path=path).pairs_created == 1


def test_a_parquet_upload_stored_under_a_jsonl_name_is_read_by_its_bytes(tmp_path):
    path = write_records(tmp_path, "pairs", [PAIR], ".parquet").rename(tmp_path / "upload.jsonl")
    assert feedback_import(path=path).pairs_created == 1


@pytest.mark.parametrize("name", ["pairs.jsonl.gz", "pairs.parquet"])
def test_a_file_whose_name_promises_another_kind_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text(json.dumps(PAIR) + "\n")
    with pytest.raises(ApplicationError, match=f"{name} is named as a .* file but its content is not"):
        feedback_import(path=path)


def test_a_truncated_gzip_file_is_refused_naming_the_last_line_read(tmp_path):
    body = "".join(json.dumps({**PAIR, "id": f"p{i}", "chosen": f"Hello {i}"}) + "\n" for i in range(2000))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(body.encode())[:-200])
    with pytest.raises(ApplicationError, match=r"the gzip data is damaged after line \d+"):
        feedback_import(path=path)
    assert PreferenceRecord.objects.count() == 0


def test_a_parquet_file_is_read_in_batches_with_its_rows_numbered(tmp_path):
    rows = [{**PAIR, "id": f"p{i}"} for i in range(2500)]
    path = write_records(tmp_path, "many", rows, ".parquet")
    with open_records(path, 1024) as reader:
        numbers = [number for number, _row in reader]
        assert reader.total == 2500 and reader.position() == 2500
    assert numbers == list(range(1, 2501))
