"""Staff launch generation from the models page; a real gpu worker generates with tiny models and the
page shows the finished job; the tasks exist for annotators."""

import pytest

from tests.e2e.conftest import browser_login
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Campaign, Task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.services]


def test_staff_generate_responses_from_the_models_page(staff, tiny_variants, live_app, browser_page, start_worker):
    campaign_with_tasks(n_tasks=2, language="fr", name="Questions")
    Campaign.objects.create(name="Generated", overlap=2)
    start_worker(queues="gpu")
    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/models/")
    assert page.locator("#variants tbody tr").count() == 3
    page.select_option("#generate-form select[name=variants]", label=["tiny-a", "tiny-b"])
    page.select_option("#generate-form select[name=languages]", "fr")
    page.select_option("#generate-form select[name=campaign]", label="Generated")
    page.fill("#generate-form input[name=samples]", "2")
    page.fill("#generate-form input[name=max_new_tokens]", "12")
    page.click("#generate-form button")
    page.wait_for_selector("#jobs tbody tr:first-child .status:text('succeeded')", timeout=120_000)
    assert "2 tasks" in page.inner_text("#jobs tbody tr:first-child .result")
    generated = Task.objects.filter(campaign__name="Generated")
    assert generated.count() == 2
    assert all(2 <= t.items.count() <= 3 for t in generated)
