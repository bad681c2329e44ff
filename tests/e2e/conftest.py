import time

import pytest

from tests.e2e.worker_process import WorkerProcess, purge_broker


@pytest.fixture
def start_worker(tmp_path):
    """Start real worker processes; all are stopped at the end of the test."""
    started: list[WorkerProcess] = []
    purge_broker()

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(started)}.log", **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def live_app(tmp_path):
    from tests.e2e.server_process import ServerProcess

    server = ServerProcess(tmp_path / "uvicorn.log")
    yield server
    server.stop()


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM reads are
    # still plain synchronous calls, which Django would otherwise refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    from tests.e2e.server_process import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        violations = csp_violations(page)
        yield page
        browser.close()
    # Every browser test also checks that no page broke its Content-Security-Policy.
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def csp_violations(page) -> list[str]:
    """What Chromium reports on the console when the page's Content-Security-Policy blocks something
    (an inline script, style or handler, eval, a foreign source), collected as the test runs."""
    found: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            found.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return found


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript expression until it is true. Playwright's `page.wait_for_function` compiles
    its predicate with eval inside the page, which a Content-Security-Policy without 'unsafe-eval'
    refuses; `page.evaluate` runs through the DevTools protocol, which the policy does not govern."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def browser_login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def phone_page(monkeypatch):
    """A page as on an iPhone 13 (390 × 844 CSS pixels, touch, a mobile viewport), in Debian's Chromium:
    Playwright's device descriptor less its browser choice (WebKit), with the same CSP check as
    `browser_page`."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from tests.e2e.server_process import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        device = {k: v for k, v in p.devices["iPhone 13"].items() if k != "default_browser_type"}
        device["viewport"] = {"width": 390, "height": 844}  # the whole screen: no browser bar to subtract
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**device).new_page()
        violations = csp_violations(page)
        yield page
        browser.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
