"""Near-duplicates reported on import: the import job indexes its new prompts at once and lists the
same-language prompts they nearly repeat."""

import json

import pytest

from webapp.feedback.models import Prompt
from webapp.feedback.services.importing import feedback_import
from webapp.retrieval.services import import_duplicates

pytestmark = pytest.mark.django_db


def rankings(path, prompts: list[tuple[str, str]]):
    lines = [
        {"id": f"t{i}", "prompt": text, "language": language, "responses": [{"text": "ja"}, {"text": "nein"}]}
        for i, (language, text) in enumerate(prompts)
    ]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return path


def test_an_import_reports_prompts_that_nearly_repeat_existing_ones(prompts, tmp_path):
    from webapp.retrieval.services import index_sync

    index_sync()
    before = Prompt.objects.order_by("-id").first().pk
    feedback_import(
        path=rankings(
            tmp_path / "new.jsonl",
            [
                ("en", "How can I reset my password?"),  # nearly "How do I reset my password?"
                ("en", "Which planets have rings?"),  # new
                ("de", "Wie setze ich mein Passwort zurück ?"),  # the German one, respaced
            ],
        )
    )
    new = list(Prompt.objects.filter(pk__gt=before).values_list("pk", flat=True))
    report = import_duplicates(prompt_ids=new, threshold=0.9)
    found = {frozenset((pair["a"]["text"], pair["b"]["text"])) for pair in report["pairs"]}
    assert frozenset(("How can I reset my password?", "How do I reset my password?")) in found
    assert frozenset(("Wie setze ich mein Passwort zurück ?", "Wie setze ich mein Passwort zurück?")) in found
    assert not any("planets" in text for pair in found for text in pair)
    assert report["count"] == len(report["pairs"]) == 2
    assert all(pair["a"]["language"] == pair["b"]["language"] for pair in report["pairs"])


def test_nothing_new_reports_nothing():
    assert import_duplicates(prompt_ids=[]) == {"count": 0, "pairs": []}


def test_the_report_follows_an_import_job_as_its_own_task(prompts, tmp_path):
    from webapp.feedback.models import TransferJob
    from webapp.feedback.services.transfers import transfer_import_create, transfer_import_reports, transfer_run

    before = Prompt.objects.order_by("-id").first().pk
    path = rankings(tmp_path / "job.jsonl", [("en", "How can I reset my password?")])
    job = transfer_import_create(path=path, skip_invalid=False, user=None)
    transfer_run(job.pk)
    job = TransferJob.objects.get(pk=job.pk)
    assert job.status == "succeeded" and job.result["tasks_created"] == 1
    assert "near_duplicates" not in job.result  # not in the import's time
    transfer_import_reports(job.pk, before, Prompt.objects.order_by("-id").first().pk)
    result = TransferJob.objects.get(pk=job.pk).result
    assert result["tasks_created"] == 1 and "count" in result["near_duplicates"]
