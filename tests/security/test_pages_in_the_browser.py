"""The pages with scripts work in Chromium under their Content-Security-Policy, and none of them makes
the browser refuse anything (the `browser_page` fixture fails the test on any CSP report in the console)."""

import pytest

from webapp.feedback.services.languages import language_get_or_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def policy_of(reply) -> str:
    return reply.headers.get("content-security-policy", "")


def test_login_docs_admin_and_arena_pages_run_under_their_policies(staff, live_app, browser_page):
    language_get_or_create("en")
    page = browser_page
    login = page.goto(f"{live_app.url}/accounts/login/")
    assert "script-src 'self'" in policy_of(login) and "'unsafe-inline'" not in policy_of(login)
    # The interface-language menu submits itself from static JS (no inline handler).
    page.select_option("#ui-language", "de")
    page.wait_for_selector("html[lang=de]")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "pw-staff")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{live_app.url}/annotate/")

    docs = page.goto(f"{live_app.url}/api/docs/")
    assert "'nonce-" in policy_of(docs)
    page.wait_for_selector("#swagger-ui .opblock", timeout=30_000)

    assert policy_of(page.goto(f"{live_app.url}/admin/"))
    page.wait_for_selector("#content")

    arena = page.goto(f"{live_app.url}/arena/")
    assert "'unsafe-eval'" in policy_of(arena)
    page.wait_for_selector("#data-notice", timeout=30_000)
    page.get_by_role("tab", name="Leaderboard").click()
    page.wait_for_selector("#board-table")
