"""Staff import and export from the browser; the page polls the job rows that a real worker updates."""

import json

import pytest

from tests.e2e.conftest import browser_login
from webapp.feedback.models import PreferenceRecord

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_staff_import_a_file_in_the_browser_and_watch_it_finish(staff, tmp_path, live_app, browser_page, start_worker):
    start_worker()
    good = tmp_path / "good.jsonl"
    good.write_text(
        "".join(
            json.dumps(
                {"prompt": f"سؤال {i}", "chosen": f"جواب جيد {i}", "rejected": f"سيئ {i}", "language": "ar"},
                ensure_ascii=False,
            )
            + "\n"
            for i in range(300)
        )
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "chosen": "b", "rejected": "b", "language": "en"}\nnot json\n')
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/transfers/")
    page.set_input_files("#import-form input[type=file]", str(good))
    page.click("#import-form button")
    page.wait_for_selector("#jobs tbody tr:first-child .status:text('succeeded')", timeout=60_000)
    assert "300 pairs" in page.inner_text("#jobs tbody tr:first-child .result")
    assert PreferenceRecord.objects.count() == 300

    page.set_input_files("#import-form input[type=file]", str(bad))
    page.click("#import-form button")
    page.wait_for_selector("#jobs tbody tr:first-child .status:text('failed')", timeout=60_000)
    result = page.inner_text("#jobs tbody tr:first-child .result")
    assert "line 1: 'chosen' and 'rejected' are the same text" in result and "line 2: bad JSON" in result

    page.select_option("#export-form select[name=format]", "sft")
    page.click("#export-form button")
    link = page.wait_for_selector("#jobs tbody tr:first-child .result a", timeout=60_000)
    assert link.inner_text().startswith("300 rows")


def test_staff_export_kto_with_chosen_sources_in_the_browser(staff, annotator, live_app, browser_page, start_worker):
    from pathlib import Path

    from tests.feedback.factories import campaign_with_tasks
    from webapp.feedback.models import TransferJob
    from webapp.feedback.services.assignment import annotation_submit
    from webapp.feedback.services.catalog import preference_create

    for i in range(3):
        preference_create(
            prompt=f"Frage {i}?",
            response_a=f"gut {i}",
            response_b=f"schlecht {i}",
            outcome="a",
            language="de",
            source="arena",
            origin="local",
        )
    _, [task] = campaign_with_tasks(n_tasks=1, overlap=1)
    annotation_submit(user=annotator, task_id=task.pk, ranking=[[0], [1], [2]])
    start_worker()
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/transfers/")
    assert "winner desirable" in page.inner_text("#kto-sources-hint")
    page.select_option("#export-form select[name=format]", "kto")
    page.select_option("#export-form select[name=kto_sources]", ["arena"])
    page.click("#export-form button")
    link = page.wait_for_selector("#jobs tbody tr:first-child .result a", timeout=60_000)
    assert link.inner_text().startswith("6 rows")  # three votes, a winner and a loser each; the ranking left out
    rows = [json.loads(line) for line in Path(TransferJob.objects.latest("id").path).read_text().splitlines()]
    assert {r["source"] for r in rows} == {"arena"} and sorted(r["label"] for r in rows) == [False] * 3 + [True] * 3
