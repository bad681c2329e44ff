"""Every HTTP response under /arena/ (and /arena) carries the site's security headers, from the site's
settings, through the real ASGI app (Django + Gradio): the page, a static asset, an API route, the redirect."""

import re

import pytest
from django.conf import settings
from django.test import override_settings
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from webapp.arena.policy import ArenaPolicyMiddleware


@pytest.fixture(scope="module")
def asgi():
    from webapp.asgi import application

    with TestClient(application) as client:
        yield client


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_site_headers(reply) -> None:
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == settings.SECURE_REFERRER_POLICY
    assert directives(reply.headers["content-security-policy"])["frame-ancestors"] == ["'none'"]
    # one of each, not Gradio's next to ours
    for name in ("x-frame-options", "x-content-type-options", "referrer-policy", "content-security-policy"):
        assert len(reply.headers.get_list(name)) == 1, name


def test_the_arena_page_its_assets_and_its_api_carry_the_site_headers(asgi):
    page = asgi.get("/arena/")
    assert page.status_code == 200
    assert_site_headers(page)
    script = re.search(r'src="\./(assets/[^"]+\.js)"', page.text).group(1)
    asset = asgi.get(f"/arena/{script}")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
    assert_site_headers(asset)
    for route in ("/arena/config", "/arena/gradio_api/info"):
        api = asgi.get(route)
        assert api.status_code == 200 and api.headers["content-type"] == "application/json"
        assert_site_headers(api)
    assert_site_headers(asgi.get("/arena/no-such-thing"))  # errors too


def test_the_arena_without_its_slash_is_redirected_with_the_headers(asgi):
    reply = asgi.get("/arena", follow_redirects=False)
    assert reply.status_code == 308 and reply.headers["location"] == "/arena/"
    assert_site_headers(reply)


def gradio_like_app(headers: dict[str, str]) -> Starlette:
    """Stands in for Gradio: answers with headers of its own, which the site's must replace."""

    def answer(request):
        return PlainTextResponse("ok", headers=headers)

    return Starlette(routes=[Route("/arena/x", answer), Route("/elsewhere", answer)])


def test_the_headers_follow_the_site_settings_and_replace_the_apps_own():
    loose = {"X-Frame-Options": "ALLOWALL", "Referrer-Policy": "unsafe-url"}
    with override_settings(
        SECURE_REFERRER_POLICY=["no-referrer", "strict-origin-when-cross-origin"], SECURE_CONTENT_TYPE_NOSNIFF=False
    ):
        client = TestClient(ArenaPolicyMiddleware(gradio_like_app(loose), prefix="/arena"))
        reply = client.get("/arena/x")
    assert reply.headers.get_list("x-frame-options") == ["DENY"]
    assert reply.headers.get_list("referrer-policy") == ["no-referrer,strict-origin-when-cross-origin"]
    assert "x-content-type-options" not in reply.headers  # the site turned it off
    assert "content-security-policy" in reply.headers
    other = client.get("/elsewhere")  # not the arena's: left to Django's own middleware
    assert other.headers["x-frame-options"] == "ALLOWALL" and "content-security-policy" not in other.headers


def test_the_django_pages_beside_the_arena_keep_their_own_headers(asgi, db):
    reply = asgi.get("/arena-stats/", follow_redirects=False)
    assert reply.headers["x-frame-options"] == "DENY"
    assert len(reply.headers.get_list("x-frame-options")) == 1
