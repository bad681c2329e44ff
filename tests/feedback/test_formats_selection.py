"""What the published formats import is selectable like any other import: by origin (the format's name)
in exports, with pairs derived from the imported rankings by the one pair rule; and `--format pairs`
insists on its format instead of telling lines apart."""

import json

import pytest
from django.core.management import call_command

from tests.feedback.formats_fixtures import hh_records, oasst_trees, write_records
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db


def exported(tmp_path, *args: str) -> list[dict]:
    out = tmp_path / "out.jsonl"
    call_command("export_feedback", "--out", str(out), *args)
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_exports_select_the_imported_formats_by_origin(tmp_path):
    feedback_import(path=write_records(tmp_path, "oasst.trees", oasst_trees(), ".jsonl.gz"), format="oasst")
    feedback_import(path=write_records(tmp_path, "hh", hh_records(), ".jsonl"), format="hh-rlhf")

    oasst = exported(tmp_path, "--format", "dpo", "--origin", "oasst")
    # best_vs_rest: p1's best (a11) against its two others, p2's best (a22) against a21.
    assert sorted((r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in oasst) == [
        ("Lisboa tem verões secos e quentes.", "Em Lisboa chove mais no inverno."),
        ("Mediterrânico, com verões quentes.", "Depende da região."),
        ("Mediterrânico, com verões quentes.", "Frio o ano todo."),
    ]
    assert {(r["source"], r["origin"], r["language"]) for r in oasst} == {("import", "oasst", "pt-BR")}
    hh = exported(tmp_path, "--format", "pairs", "--origin", "hh-rlhf")
    assert len(hh) == 2 and {r["source"] for r in hh} == {"hh-rlhf"}
    assert exported(tmp_path, "--format", "pairs", "--origin", "rankings") == []


def test_a_named_store_format_insists_on_its_own_lines(tmp_path):
    ranking = {"id": "t1", "prompt": "Hi", "language": "en", "responses": [{"text": "a"}, {"text": "b"}]}
    path = write_records(tmp_path, "mixed", [ranking], ".jsonl")
    assert feedback_import(path=path).tasks_created == 1  # auto: told apart by its keys
    with pytest.raises(ImportRejected, match=r"line 1: 'chosen' is missing"):
        feedback_import(path=path, format="pairs")
