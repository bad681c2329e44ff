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
