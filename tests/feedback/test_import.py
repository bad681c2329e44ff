"""import_feedback: every kind of bad line is reported with its number, and nothing is half-imported."""

import json

import pytest
from django.core.management import CommandError, call_command

from webapp.feedback.models import Annotation, Language, PreferenceRecord, Task
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db

GOOD_PAIR = {"prompt": "Hi", "chosen": "Hello! How can I help?", "rejected": "go away", "language": "en"}
GOOD_RANKING = {
    "id": "t1",
    "prompt": "你好",
    "language": "zh-Hans",
    "group": "g1",
    "responses": [{"text": "你好！"}, {"text": "hello"}, {"text": "…", "model": "m"}],
    "rankings": [{"annotator": "li", "ranking": [[0], [2, 1]], "rationale": "第一个最好"}],
}


def write(tmp_path, lines: list, name="in.jsonl") -> str:
    path = tmp_path / name
    with path.open("wb") as handle:
        for line in lines:
            handle.write(line if isinstance(line, bytes) else (json.dumps(line, ensure_ascii=False) + "\n").encode())
            if isinstance(line, bytes):
                handle.write(b"\n")
    return str(path)


def test_it_imports_pairs_and_rankings_from_one_file(tmp_path):
    report = feedback_import(path=write(tmp_path, [GOOD_PAIR, GOOD_RANKING]))
    assert (report.pairs_created, report.tasks_created, report.annotations_created) == (1, 1, 1)
    task = Task.objects.get(external_id="t1")
    assert [i.response.text for i in task.items.all()] == ["你好！", "hello", "…"]
    assert Annotation.objects.get(task=task).ranking == [[0], [2, 1]]
    assert task.annotation_count == 1
    assert Language.objects.get(code="zh-Hans").direction == "ltr"


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, [GOOD_PAIR, GOOD_RANKING])
    feedback_import(path=path)
    again = feedback_import(path=path)
    assert (again.pairs_created, again.tasks_created, again.pairs_unchanged, again.tasks_unchanged) == (0, 0, 1, 1)
    assert PreferenceRecord.objects.count() == 1 and Task.objects.count() == 1 and Annotation.objects.count() == 1


BAD_LINES = [
    (b"{not json", "bad JSON"),
    (b"\xff\xfe bad bytes", "not valid UTF-8"),
    ([1, 2, 3], "must be a JSON object"),
    ({"prompt": "Hi", "chosen": "a", "language": "en"}, "'rejected' is missing"),
    ({"prompt": "Hi", "chosen": 5, "rejected": "b", "language": "en"}, "'chosen' must be a string or a list"),
    ({"prompt": "   ", "chosen": "a", "rejected": "b", "language": "en"}, "'prompt' is empty"),
    ({"prompt": "Hi", "chosen": "same", "rejected": "same", "language": "en"}, "are the same text"),
    ({"prompt": "Hi", "chosen": "a", "rejected": "b", "language": "xx-invalid-!"}, "not a valid BCP-47"),
    ({"prompt": "Hi", "chosen": "a", "rejected": "b"}, "'language' is missing"),
    ({"prompt": "Hi\u0000", "chosen": "a", "rejected": "b", "language": "en"}, "NUL character"),
    ({"prompt": [{"role": "robot", "content": "x"}], "chosen": "a", "rejected": "b", "language": "en"}, "role"),
    ({"prompt": [{"role": [], "content": "x"}], "chosen": "a", "rejected": "b", "language": "en"}, "role' must"),
    ({"prompt": [{"role": {}, "content": "x"}], "chosen": "a", "rejected": "b", "language": "en"}, ".role' must be"),
    (
        {"id": "r1", "prompt": "p", "language": "en", "responses": [{"text": "a"}, {"text": "b"}], "ranking": [[0]]},
        "incomplete",
    ),
    (
        {
            "id": "r2",
            "prompt": "p",
            "language": "en",
            "responses": [{"text": "a"}, {"text": "b"}],
            "ranking": [[0], [5]],
        },
        "out of range",
    ),
    (
        {
            "id": "r3",
            "prompt": "p",
            "language": "en",
            "responses": [{"text": "a"}, {"text": "b"}],
            "ranking": [[0], [0, 1]],
        },
        "more than once",
    ),
    ({"id": "r4", "prompt": "p", "language": "en", "responses": [{"text": "a"}]}, "2 to 9"),
    ({"prompt": "p", "language": "en", "responses": [{"text": "a"}, {"text": "b"}]}, "needs an 'id'"),
    ({"hello": "world"}, "neither a pair"),
]


@pytest.mark.parametrize("line,reason", BAD_LINES, ids=[r for _, r in BAD_LINES])
def test_each_bad_line_is_rejected_with_its_number_and_reason(tmp_path, line, reason):
    path = write(tmp_path, [GOOD_PAIR, line, GOOD_RANKING])
    with pytest.raises(ImportRejected) as info:
        feedback_import(path=path)
    assert [n for n, _ in info.value.report.errors] == [2]
    assert reason in info.value.report.errors[0][1]
    assert PreferenceRecord.objects.count() == 0 and Task.objects.count() == 0  # atomic: nothing kept


def test_every_bad_line_is_listed_not_just_the_first(tmp_path):
    lines = [GOOD_PAIR] + [line for line, _ in BAD_LINES]
    with pytest.raises(ImportRejected) as info:
        feedback_import(path=write(tmp_path, lines))
    assert [n for n, _ in info.value.report.errors] == list(range(2, len(BAD_LINES) + 2))


def test_the_same_id_with_different_content_is_an_error_in_the_file_and_against_the_store(tmp_path):
    first = {**GOOD_PAIR, "id": "p1"}
    changed = {**first, "chosen": "Something else entirely"}
    with pytest.raises(ImportRejected) as info:
        feedback_import(path=write(tmp_path, [first, changed]))
    assert info.value.report.errors == [(2, "id 'p1' was used on line 1 with different content")]
    feedback_import(path=write(tmp_path, [first], "a.jsonl"))
    with pytest.raises(ImportRejected) as info:
        feedback_import(path=write(tmp_path, [changed], "b.jsonl"))
    assert "already stored with different content" in info.value.report.errors[0][1]


def test_skip_invalid_imports_the_good_lines_and_reports_the_rest(tmp_path):
    report = feedback_import(path=write(tmp_path, [GOOD_PAIR, b"{oops", GOOD_RANKING]), skip_invalid=True)
    assert report.pairs_created == 1 and report.tasks_created == 1
    assert [n for n, _ in report.errors] == [2]


def test_the_command_prints_every_bad_line_and_exits_with_an_error(tmp_path):
    path = write(tmp_path, [b"{oops", GOOD_PAIR, {"prompt": "x"}])
    with pytest.raises(CommandError) as info:
        call_command("import_feedback", path)
    assert "line 1: bad JSON" in str(info.value) and "line 3:" in str(info.value)
    assert "nothing was imported" in str(info.value)


def test_the_command_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_feedback", str(tmp_path / "nope.jsonl"))


def test_unknown_keys_are_kept_in_metadata_and_text_is_stored_exactly(tmp_path):
    line = {**GOOD_PAIR, "chosen": "  spaced\ttext \u202e with bidi\n", "extra_key": {"x": 1}, "metadata": {"m": 2}}
    feedback_import(path=write(tmp_path, [line]))
    record = PreferenceRecord.objects.get()
    assert record.response_a == "  spaced\ttext \u202e with bidi\n"
    assert record.metadata == {"extra_key": {"x": 1}, "m": 2}


def test_imported_annotators_become_inactive_external_accounts(tmp_path):
    feedback_import(path=write(tmp_path, [GOOD_RANKING]))
    annotation = Annotation.objects.get()
    assert annotation.annotator.username == "import:li"
    assert not annotation.annotator.is_active and not annotation.annotator.has_usable_password()
    assert annotation.annotator.profile.is_external
