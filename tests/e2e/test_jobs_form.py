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
