from tests.e2e.conftest import browser_page, live_app  # noqa: F401  (the browser and the real ASGI app)
