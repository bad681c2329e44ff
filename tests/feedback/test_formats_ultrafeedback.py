"""`import_feedback --format ultrafeedback`: a record becomes one ranking task ordered by overall_score,
equal scores tied; records with fewer than two usable completions are skipped; the language comes from
--language; a malformed record is named by its line and nothing is stored; a re-import changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.feedback.formats_fixtures import SUFFIXES, completion, ultrafeedback_records, write_records
from webapp.feedback.formats.ultrafeedback import TOO_FEW
from webapp.feedback.models import Annotation, Task
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_record_becomes_a_task_ranked_by_score_with_ties(tmp_path, suffix):
    path = write_records(tmp_path, "ultrafeedback", ultrafeedback_records(), suffix)
    report = feedback_import(path=path, format="ultrafeedback", language="de")

    assert (report.lines, report.tasks_created, report.annotations_created) == (2, 1, 1)
    assert report.skipped == {TOO_FEW: 1}
    [task] = Task.objects.all()
    items = list(task.items.order_by("position"))
    assert [(i.response.text, i.response.model_name) for i in items] == [
        ("2 is prime.", "m1"),
        ("9 is prime.", "m2"),
        ("7 is a prime number.", "m3"),
        ("Primes include 2, 3 and 5.", "m4"),
    ]
    annotation = Annotation.objects.get(task=task)
    assert annotation.ranking == [[3], [0, 2], [1]]  # 9.0, then the two 7.5s tied, then 2.0
    assert (annotation.origin, task.language_id, task.prompt.content) == ("ultrafeedback", "de", "Name a prime number.")
    assert task.prompt.metadata == {"source": "evol_instruct"}


def test_a_reimport_changes_nothing(tmp_path):
    path = write_records(tmp_path, "ultrafeedback", ultrafeedback_records(), ".parquet")
    feedback_import(path=path, format="ultrafeedback")
    again = feedback_import(path=path, format="ultrafeedback")
    assert (again.tasks_created, again.tasks_unchanged, again.skipped) == (0, 1, {TOO_FEW: 1})
    assert Task.objects.count() == 1


def test_a_repeated_completion_is_left_out(tmp_path):
    record = {
        "instruction": "Hi?",
        "completions": [completion("a", "Hello", 5), completion("b", "Hello", 3), completion("c", "Hey", 4)],
    }
    feedback_import(path=write_records(tmp_path, "dup", [record], ".jsonl"), format="ultrafeedback")
    [task] = Task.objects.all()
    assert [i.response.text for i in task.items.order_by("position")] == ["Hello", "Hey"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_malformed_record_is_named_and_nothing_is_stored(tmp_path, suffix):
    # Of a shape Parquet can hold too (its columns are typed): a record without its instruction.
    records = [ultrafeedback_records()[0], {**ultrafeedback_records()[0], "instruction": None}]
    with pytest.raises(ImportRejected) as caught:
        feedback_import(path=write_records(tmp_path, "bad", records, suffix), format="ultrafeedback")
    assert caught.value.report.errors == [(2, "'instruction' is missing or not a string")]
    assert Task.objects.count() == 0


def test_skip_invalid_imports_the_good_records(tmp_path):
    records = [ultrafeedback_records()[0], {"instruction": "Hi?", "completions": "not a list"}]
    out, err = StringIO(), StringIO()
    call_command(
        "import_feedback",
        str(write_records(tmp_path, "bad", records, ".jsonl")),
        "--format",
        "ultrafeedback",
        "--skip-invalid",
        stdout=out,
        stderr=err,
    )
    assert "1 tasks (1 rankings) imported" in out.getvalue() and "1 invalid" in out.getvalue()
    assert "line 2: 'completions' must be a list of completions (skipped)" in err.getvalue()
    assert Task.objects.count() == 1
