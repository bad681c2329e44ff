"""`make run` serves plain HTTP: its cookies must not be Secure (a script or a colleague's browser on
http://labserver:8000 would drop them and fail the CSRF check), HOST=0.0.0.0 allows the machine's own names,
and a refused form says what to do instead of Django's bare 403."""

import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def settings_value(expression: str, **env) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "HOST", "BEHIND_TLS_PROXY")}
    full.update(env, DJANGO_SETTINGS_MODULE="webapp.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_cookies_are_secure_only_over_tls(tmp_path):
    secure = "(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    assert settings_value(secure, VAR_DIR=str(tmp_path)) == "(False, False)"
    assert settings_value(secure, VAR_DIR=str(tmp_path), DEBUG="false") == "(False, False)"
    assert settings_value(secure, VAR_DIR=str(tmp_path), BEHIND_TLS_PROXY="true") == "(True, True)"
    assert settings_value(secure, VAR_DIR=str(tmp_path), HTTPS="true") == "(True, True)"


def test_host_0000_allows_this_machines_name(tmp_path):
    local = settings_value("settings.ALLOWED_HOSTS", VAR_DIR=str(tmp_path))
    assert socket.gethostname() not in ast.literal_eval(local)
    opened = ast.literal_eval(settings_value("settings.ALLOWED_HOSTS", VAR_DIR=str(tmp_path), HOST="0.0.0.0"))
    assert socket.gethostname() in opened and "127.0.0.1" in opened
    # An explicit ALLOWED_HOSTS still wins.
    assert (
        settings_value("settings.ALLOWED_HOSTS", VAR_DIR=str(tmp_path), HOST="0.0.0.0", ALLOWED_HOSTS="a.b")
        == "['a.b']"
    )


@pytest.mark.django_db(transaction=True)
def test_a_script_logs_in_over_plain_http(live_server, django_user_model):
    django_user_model.objects.create_user("scripted", password="a long pass phrase")
    with requests.Session() as browser:
        login = browser.get(f"{live_server.url}/accounts/login/", timeout=10)
        assert login.status_code == 200 and "csrftoken" in browser.cookies
        answer = browser.post(
            f"{live_server.url}/accounts/login/",
            data={
                "username": "scripted",
                "password": "a long pass phrase",
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": f"{live_server.url}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
    assert answer.status_code == 302 and answer.headers["Location"] == "/annotate/"


@pytest.mark.django_db
def test_a_refused_form_says_what_to_do(client):
    from django.test import Client

    answer = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert answer.status_code == 403
    page = answer.content.decode()
    assert "The form was refused" in page and "Reload the page" in page and "CSRF cookie not set" in page
    assert "make run HOST=0.0.0.0" in page
