"""Every Django page sends a Content-Security-Policy that allows scripts and styles only from our static
files or with the request's nonce; the arena's Gradio page gets the same policy loosened for Gradio,
built from it in code; the templates keep no inline handler or style attribute that the policy would block."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from starlette.testclient import TestClient

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def nonce_of(header: str, directive: str) -> str | None:
    sources = directives(header)[directive]
    return next((s.removeprefix("'nonce-").removesuffix("'") for s in sources if s.startswith("'nonce-")), None)


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/admin/login/", "/arena-stats/"])
def test_every_django_page_sends_the_strict_policy(client, db, path):
    reply = client.get(path)
    policy = directives(reply.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]


@pytest.mark.parametrize("path", ["/", "/search/", "/api/docs/"])
def test_inline_styles_carry_the_nonce_the_policy_names(client, staff, path):
    client.force_login(staff)
    reply = client.get(path)
    nonce = nonce_of(reply.headers["Content-Security-Policy"], "style-src")
    html = reply.content.decode()
    styles = re.findall(r"<style([^>]*)>", html)
    assert styles and nonce
    assert all(f'nonce="{nonce}"' in attributes for attributes in styles)
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)


def test_templates_have_no_inline_handlers_style_attributes_or_unnonced_blocks():
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        name = template.relative_to(TEMPLATES)
        problems += [f"{name}: handler {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        problems += [f"{name}: style attribute" for _ in re.findall(r"\sstyle\s*=", text)]
        problems += [f"{name}: {tag} without a nonce" for tag in re.findall(r"<style(?![^>]*nonce=)[^>]*>", text)]
        inline_scripts = re.findall(r"<script(?![^>]*\b(?:src|nonce)=)(?![^>]*application/json)[^>]*>", text)
        problems += [f"{name}: {tag} inline without a nonce" for tag in inline_scripts]
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def asgi():
    from webapp.asgi import application

    with TestClient(application) as client:
        yield client


def test_the_arena_sends_the_site_policy_loosened_for_gradio(asgi):
    arena = directives(asgi.get("/arena/").headers["content-security-policy"])
    site = directives(asgi.get("/accounts/login/").headers["content-security-policy"])
    assert "'unsafe-inline'" in arena["script-src"] and "'unsafe-eval'" in arena["script-src"]
    assert "'unsafe-inline'" in arena["style-src"] and not any(s.startswith("'nonce-") for s in arena["style-src"])
    # everything else is the site's policy, at least as strict
    for name in ("default-src", "object-src", "frame-ancestors", "base-uri", "form-action", "connect-src"):
        assert arena[name] == site[name]
    assert set(site) <= set(arena)


def test_the_arena_policy_stays_off_django_pages_that_start_like_it(asgi, db):
    reply = asgi.get("/arena-stats/", follow_redirects=False)
    assert "'unsafe-eval'" not in reply.headers["content-security-policy"]
