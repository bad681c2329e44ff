"""`import_feedback --format aya`: the Aya Dataset's records (inputs, targets, language, language_code) become
demonstrations, SFT data: exported by `--format sft` beside the best answers of rankings, selected by source and
origin, and trained on by SFT jobs. The code wins over the name; empty and echoing records are skipped."""

import json

import pytest
from django.core.management import call_command

from tests.feedback.formats_fixtures import SUFFIXES, write_records
from webapp.feedback.formats.aya import ECHO, EMPTY
from webapp.feedback.formats.exporting import ExportSpec, export_rows
from webapp.feedback.models import Demonstration
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db


def aya_records() -> list[dict]:
    """As published (CohereForAI/aya_dataset): ISO 639-3 codes, English names, the annotator's id."""
    return [
        {
            "inputs": "Qual é a capital de Portugal?",
            "targets": "A capital de Portugal é Lisboa.",
            "language": "Portuguese",
            "language_code": "por",
            "annotation_type": "original-annotations",
            "user_id": "u-1",
        },
        {
            "inputs": "Mji mkuu wa Kenya ni upi?",
            "targets": "Mji mkuu wa Kenya ni Nairobi.",
            "language": "Swahili",
            "language_code": "swh",
            "annotation_type": "re-annotations",
            "user_id": "u-2",
        },
        {
            "inputs": "شنو هي عاصمة المغرب؟",
            "targets": "العاصمة ديال المغرب هي الرباط.",
            "language": "Moroccan Arabic",
            "language_code": "ary",
            "annotation_type": "original-annotations",
            "user_id": "u-3",
        },
        # The code wins over a name that says something else.
        {"inputs": "Hola", "targets": "¡Hola! ¿En qué te ayudo?", "language": "English", "language_code": "spa"},
        {"inputs": "  ", "targets": "Nothing was asked.", "language": "English", "language_code": "eng"},
        {"inputs": "Repeat me", "targets": "Repeat me", "language": "English", "language_code": "eng"},
    ]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_records_become_demonstrations_with_their_languages(tmp_path, suffix):
    report = feedback_import(path=write_records(tmp_path, "aya", aya_records(), suffix), format="aya")
    assert (report.lines, report.demonstrations_created, report.invalid) == (6, 4, 0)
    assert report.skipped == {EMPTY: 1, ECHO: 1}
    stored = {d.language_id: d for d in Demonstration.objects.all()}
    assert set(stored) == {"pt", "sw", "ary", "es"}
    pt = stored["pt"]
    assert (pt.prompt, pt.completion, pt.source, pt.origin, pt.status) == (
        "Qual é a capital de Portugal?",
        "A capital de Portugal é Lisboa.",
        "import",
        "aya",
        "accepted",
    )
    assert pt.metadata == {"annotation_type": "original-annotations", "user_id": "u-1"}


def test_a_reimport_changes_nothing_and_a_bad_record_stores_nothing(tmp_path):
    path = write_records(tmp_path, "aya", aya_records(), ".jsonl")
    feedback_import(path=path, format="aya")
    again = feedback_import(path=path, format="aya")
    assert (again.demonstrations_created, again.demonstrations_unchanged) == (0, 4)
    bad = aya_records()[:2] + [{"inputs": "Hi", "targets": 7, "language_code": "eng"}]
    with pytest.raises(ImportRejected) as refused:
        feedback_import(path=write_records(tmp_path, "bad", bad, ".jsonl"), format="aya")
    assert refused.value.report.errors == [(3, "'targets' must be a string")]
    unknown = [{"inputs": "Hi", "targets": "Hello", "language": "Elvish of the West"}]
    with pytest.raises(ImportRejected) as refused:
        feedback_import(path=write_records(tmp_path, "unknown", unknown, ".jsonl"), format="aya")
    assert "'Elvish of the West' is not a language this importer knows" in refused.value.report.errors[0][1]
    assert Demonstration.objects.count() == 4


def test_demonstrations_are_exported_as_sft_and_selected_by_source_and_origin(tmp_path):
    feedback_import(path=write_records(tmp_path, "aya", aya_records(), ".jsonl"), format="aya")
    rows = list(export_rows(ExportSpec(format="sft", languages=("sw",))))
    assert rows == [
        {
            "prompt": [{"role": "user", "content": "Mji mkuu wa Kenya ni upi?"}],
            "completion": [{"role": "assistant", "content": "Mji mkuu wa Kenya ni Nairobi."}],
            "language": "sw",
            "id": rows[0]["id"],
            "group": "",
        }
    ]
    assert len(list(export_rows(ExportSpec(format="sft", origins=("aya",))))) == 4
    assert list(export_rows(ExportSpec(format="sft", sources=("annotation",)))) == []
    assert list(export_rows(ExportSpec(format="dpo"))) == []  # no pairs in a demonstration
    Demonstration.objects.filter(language_id="sw").update(status="pending")  # kept, not exported
    assert {r["language"] for r in export_rows(ExportSpec(format="sft"))} == {"pt", "ary", "es"}

    out = tmp_path / "sft.jsonl"
    call_command("export_feedback", "--format", "sft", "--out", str(out))
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 3


def test_an_sft_snapshot_trains_on_the_demonstrations(tmp_path):
    from webapp.training.data import DataSpec, snapshot_write

    feedback_import(path=write_records(tmp_path, "aya", aya_records(), ".jsonl"), format="aya")
    summary = snapshot_write(DataSpec.from_params({"eval_fraction": 0}), "sft", tmp_path / "job")
    assert summary["train_rows"] == 4
    rows = [json.loads(line) for line in (tmp_path / "job" / "data" / "train.jsonl").open(encoding="utf-8")]
    assert {row["language"] for row in rows} == {"pt", "sw", "ary", "es"}
    assert all(row["completion"][0]["role"] == "assistant" for row in rows)
