"""`import_feedback --format oasst`: OpenAssistant message trees become ranking tasks, read from .jsonl,
.jsonl.gz and .parquet alike; deleted and review-failed branches and unranked replies are left out and
the skips counted; a malformed tree is named by its line and nothing is stored; a re-import changes
nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.feedback.formats_fixtures import SUFFIXES, message, oasst_trees, write_records
from webapp.feedback.formats.oasst import DELETED, NOTHING_RANKED, REVIEW_FAILED
from webapp.feedback.models import Annotation, Task
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_prompt_with_ranked_replies_becomes_a_ranking_task(tmp_path, suffix):
    path = write_records(tmp_path, "oasst.trees", oasst_trees(), suffix)
    report = feedback_import(path=path, format="oasst")

    assert (report.lines, report.tasks_created, report.annotations_created, report.invalid) == (3, 2, 2, 0)
    assert report.skipped == {DELETED: 1, REVIEW_FAILED: 1, NOTHING_RANKED: 1}
    first = Task.objects.get(external_id="p1")
    # The unranked reply (a15) and the deleted one (a14, with the conversation below it) are left out.
    assert [item.response.text for item in first.items.order_by("position")] == [
        "Mediterrânico, com verões quentes.",
        "Frio o ano todo.",
        "Depende da região.",
    ]
    annotation = Annotation.objects.get(task=first)
    assert annotation.ranking == [[0], [2], [1]]  # rank 0 best: a11, then a13 (rank 1), then a12 (rank 2)
    assert (annotation.source, annotation.origin, annotation.annotator.username) == ("import", "oasst", "import:oasst")
    assert first.language_id == "pt-BR" and first.prompt.group == "t1" and first.campaign.name == "oasst"
    assert first.prompt.content == [{"role": "user", "content": "Como é o clima em Portugal?"}]

    follow_up = Task.objects.get(external_id="p2")
    assert follow_up.prompt.content == [
        {"role": "user", "content": "Como é o clima em Portugal?"},
        {"role": "assistant", "content": "Mediterrânico, com verões quentes."},
        {"role": "user", "content": "E em Lisboa?"},
    ]
    assert Annotation.objects.get(task=follow_up).ranking == [[1], [0]]
    assert not Task.objects.filter(external_id__in=["p3", "q1", "r1"]).exists()


def test_a_reimport_of_the_same_trees_changes_nothing(tmp_path):
    path = write_records(tmp_path, "oasst.trees", oasst_trees(), ".jsonl.gz")
    feedback_import(path=path, format="oasst")
    again = feedback_import(path=path, format="oasst")
    assert (again.tasks_created, again.tasks_unchanged) == (0, 2)
    assert Task.objects.count() == 2 and Annotation.objects.count() == 2


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_malformed_tree_is_named_by_its_line_and_nothing_is_stored(tmp_path, suffix):
    bad = message(
        "z1",
        "prompter",
        "Hi",
        replies=[message("z2", "assistant", "A", rank=0), message("z3", "assistant", "B", rank=-1)],
    )
    trees = [oasst_trees()[0], {"message_tree_id": "tz", "tree_state": "ready_for_export", "prompt": bad}]
    path = write_records(tmp_path, "bad.trees", trees, suffix)
    with pytest.raises(ImportRejected) as caught:
        feedback_import(path=path, format="oasst")
    [(line, error)] = caught.value.report.errors
    assert line == 2 and "'prompt.replies[1].rank' must be a whole number" in error
    assert Task.objects.count() == 0 and caught.value.report.tasks_created == 0


def test_an_unknown_language_is_an_error_on_its_line(tmp_path):
    tree = {
        "message_tree_id": "tl",
        "prompt": message(
            "l1",
            "prompter",
            "Hi",
            lang="Klingonic!",
            replies=[message("l2", "assistant", "A", rank=0), message("l3", "assistant", "B", rank=1)],
        ),
    }
    path = write_records(tmp_path, "lang.trees", [tree], ".jsonl")
    with pytest.raises(ImportRejected, match=r"line 1: 'prompt.lang': 'Klingonic!' is not a language"):
        feedback_import(path=path, format="oasst")


def test_the_command_reports_the_skips_with_their_counts(tmp_path):
    path = write_records(tmp_path, "oasst.trees", oasst_trees(), ".jsonl.gz")
    out = StringIO()
    call_command("import_feedback", str(path), "--format", "oasst", stdout=out)
    text = out.getvalue()
    assert "3 lines: 0 pairs and 2 tasks (2 rankings) imported" in text
    assert f"skipped: {DELETED} (1)" in text and f"skipped: {REVIEW_FAILED} (1)" in text


def test_the_command_names_the_bad_line(tmp_path):
    path = write_records(tmp_path, "bad.trees", [oasst_trees()[0], {"prompt": "not a message"}], ".jsonl")
    with pytest.raises(CommandError, match=r"line 2: 'prompt' must be a message object"):
        call_command("import_feedback", str(path), "--format", "oasst")
    assert Task.objects.count() == 0
