"""Staff confirm and reject suggested translation links in one click on /search/links/."""

import pytest

from tests.e2e.conftest import browser_login
from webapp.feedback.models import Prompt
from webapp.feedback.services import catalog
from webapp.retrieval.models import TranslationLink

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_staff_confirm_one_suggested_link_and_reject_another(staff, live_app, browser_page):
    from webapp.retrieval.services import index_sync

    texts = {
        "en": "How do I renew my passport?",
        "de": "Wie verlängere ich meinen Reisepass?",
        "fr": "Comment renouveler mon passeport ?",
    }
    prompts = {code: catalog.prompt_create(content=text, language=code) for code, text in texts.items()}
    catalog.prompt_create(content="The museum is closed on Mondays.", language="en")
    index_sync()

    page = browser_page
    browser_login(page, live_app.url, "staff", "pw-staff")
    page.goto(f"{live_app.url}/search/links/")
    rows = page.locator("#links tbody tr[data-a]")
    assert rows.count() >= 2
    assert "museum" not in page.inner_text("#links")

    def row_for(a, b):
        low, high = sorted((a.pk, b.pk))
        return page.locator(f"#links tr[data-a='{low}'][data-b='{high}']")

    row_for(prompts["en"], prompts["de"]).locator("button[data-decision=confirmed]").click()
    page.wait_for_selector("#links tr .result:text('Linked in group')")
    row_for(prompts["en"], prompts["fr"]).locator("button[data-decision=rejected]").click()
    page.wait_for_selector("#links tr .result:text('Rejected.')")

    en, de = Prompt.objects.get(pk=prompts["en"].pk), Prompt.objects.get(pk=prompts["de"].pk)
    assert en.group and en.group == de.group
    assert TranslationLink.objects.get(decision="rejected").prompt_b_id == max(prompts["en"].pk, prompts["fr"].pk)
    page.reload()  # a rejected pair is never suggested again; a linked one is in one group now
    assert row_for(prompts["en"], prompts["fr"]).count() == 0 and row_for(prompts["en"], prompts["de"]).count() == 0
