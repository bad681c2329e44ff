"""`import_feedback --format hh-rlhf`: chosen/rejected transcripts become pairs whose prompt is the shared
conversation (as chat messages) and whose answers are the final assistant turns; the known quirks are
skipped with their reasons; the language comes from --language."""

import pytest

from tests.feedback.formats_fixtures import SUFFIXES, hh_records, write_records
from webapp.feedback.formats.hh_rlhf import NOT_ANSWERED, PROMPTS_DIFFER, SAME_ANSWER
from webapp.feedback.models import PreferenceRecord
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_transcripts_become_pairs_and_the_quirks_are_skipped(tmp_path, suffix):
    report = feedback_import(path=write_records(tmp_path, "hh", hh_records(), suffix), format="hh-rlhf", language="en")

    assert (report.lines, report.pairs_created, report.invalid) == (4, 2, 0)
    assert report.skipped == {SAME_ANSWER: 1, PROMPTS_DIFFER: 1}
    multi = PreferenceRecord.objects.get(response_a="Try spaghetti aglio e olio: garlic, oil, chili.")
    assert multi.prompt == [
        {"role": "user", "content": "What should I cook tonight?"},
        {"role": "assistant", "content": "Do you like pasta?"},
        {"role": "user", "content": "Yes, a lot."},
    ]
    assert (multi.response_b, multi.outcome, multi.source, multi.origin, multi.language_id) == (
        "Just order something.",
        "a",
        "import",
        "hh-rlhf",
        "en",
    )


def test_the_language_comes_from_the_option_and_a_reimport_changes_nothing(tmp_path):
    path = write_records(tmp_path, "hh", hh_records(), ".jsonl.gz")
    feedback_import(path=path, format="hh-rlhf", language="pt_BR")
    again = feedback_import(path=path, format="hh-rlhf", language="pt_BR")
    assert (again.pairs_created, again.pairs_unchanged) == (0, 2)
    assert set(PreferenceRecord.objects.values_list("language_id", flat=True)) == {"pt-BR"}


def test_a_transcript_that_ends_with_the_human_is_skipped(tmp_path):
    record = {
        "chosen": "\n\nHuman: Hi\n\nAssistant: Yo\n\nHuman: ?",
        "rejected": "\n\nHuman: Hi\n\nAssistant: Yo\n\nHuman: ?",
    }
    report = feedback_import(path=write_records(tmp_path, "hh", [record], ".jsonl"), format="hh-rlhf")
    assert report.skipped == {NOT_ANSWERED: 1} and PreferenceRecord.objects.count() == 0


@pytest.mark.parametrize(
    "record, error",
    [
        ({"chosen": "\n\nHuman: Hi\n\nAssistant: A"}, "'rejected' is missing or not a string"),
        ({"chosen": "just text", "rejected": "\n\nHuman: Hi\n\nAssistant: A"}, "'chosen' is not a transcript"),
    ],
)
def test_a_malformed_record_is_named_and_nothing_is_stored(tmp_path, record, error):
    with pytest.raises(ImportRejected) as caught:
        feedback_import(path=write_records(tmp_path, "hh", [hh_records()[0], record], ".jsonl"), format="hh-rlhf")
    [(line, message)] = caught.value.report.errors
    assert line == 2 and error in message
    assert PreferenceRecord.objects.count() == 0
