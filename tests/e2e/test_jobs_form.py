"""The launch form in German: numbers stay in machine format (a number input refuses "0,1"), and a
refused value is reported under the field's own label, marked and focused."""

import pytest
from django.test import Client

from tests.e2e.conftest import browser_login

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_the_german_form_writes_numbers_in_machine_format(staff, tiny_variants):
    client = Client()
    client.force_login(staff)
    client.cookies["django_language"] = "de"
    page = client.get("/jobs/").content.decode()
    assert 'lang="de"' in page
    assert 'name="beta" value="0.1"' in page and 'name="epochs" value="1.0"' in page
    assert 'name="eval_fraction" value="0.1"' in page and "0,1" not in page


@pytest.mark.browser
def test_a_refused_value_is_named_as_the_form_labels_it(staff, tiny_variants, live_app, browser_page):
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_app.url}])
    page.goto(f"{live_app.url}/jobs/")
    assert page.input_value("#launch-form input[name=beta]") == "0.1"  # shown, not blank
    label = page.evaluate(
        "() => [...document.querySelector('input[name=learning_rate]').closest('label').childNodes]"
        ".filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim()"
    )
    page.fill("#launch-form input[name=learning_rate]", "2")
    page.click("#launch-form button[type=submit]")
    error = page.wait_for_selector("#form-error:not(:empty)").inner_text()
    assert error.startswith(f"{label}: ") and "hyperparameters." not in error and "None" not in error
    assert page.get_attribute("#launch-form input[name=learning_rate]", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.name") == "learning_rate"


@pytest.mark.browser
def test_the_form_previews_the_pairs_or_kto_answers_in_the_background_and_the_job_keeps_the_preview(
    staff, tiny_variants, live_app, browser_page, tmp_path
):
    from tests.training.synthetic import marker_pairs, write
    from webapp.feedback.services.importing import feedback_import
    from webapp.training.models import TrainingJob

    feedback_import(path=write(tmp_path / "pairs.jsonl", marker_pairs(20, seed=5)))
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/jobs/")
    shown = page.wait_for_selector("#data-preview:has-text('Training pairs')").inner_text()
    assert "held out" in shown and "Approximate" not in shown
    with page.expect_response("**/api/v1/training-jobs/preview/"):
        page.fill("#launch-form input[name=eval_fraction]", "0")  # the preview follows the settings
    page.wait_for_selector("#data-preview:has-text('held out: 0.')")
    assert not page.is_visible("#launch-form select[name=kto_sources]")
    with page.expect_request("**/api/v1/training-jobs/preview/") as asked:
        page.select_option("#launch-form select[name=kind]", "kto")  # kto counts labelled answers, not pairs
    assert asked.value.post_data_json["kind"] == "kto"
    page.wait_for_selector("#data-preview:has-text('Training answers: 0')")
    assert "desirable" in page.inner_text("#data-preview") and "pairs" not in page.inner_text("#data-preview")
    assert "verify" in page.inner_text("#kto-sources-hint")
    with page.expect_request("**/api/v1/training-jobs/preview/") as asked:
        page.select_option("#launch-form select[name=kto_sources]", ["arena"])
    assert asked.value.post_data_json["data"]["kto_sources"] == ["arena"]
    page.select_option("#launch-form select[name=kind]", "dpo")
    page.wait_for_selector("#data-preview:has-text('Training pairs: 20')")
    page.click("#launch-form button[type=submit]")
    page.wait_for_url("**/jobs/*/")
    job = TrainingJob.objects.get()
    assert job.data_summary["preview"]["train_pairs"] == 20 and job.created_before is not None
    page.wait_for_selector("#data tbody tr")
    cells = page.eval_on_selector_all("#data tbody tr:first-child td", "tds => tds.map((td) => td.textContent)")
    assert cells[1] == "…" and cells[3] not in ("", "—")  # no snapshot yet (no worker); the preview kept
    assert page.inner_text("#cut").startswith("The data as of the launch")
