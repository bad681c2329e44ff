"""Settings come from the environment, strictly; production values pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp.env import env_bool, env_float, env_int

ROOT = Path(__file__).resolve().parents[1]


def test_bad_values_are_refused_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG")
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT"):
        env_int("PORT", 8000)
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="outside"):
        env_int("PORT", 8000, maximum=65535)
    for bad, message in (("high", "not a number"), ("nan", "not a finite"), ("1.5", "outside")):
        monkeypatch.setenv("SEARCH_MIN_SCORE", bad)
        with pytest.raises(ImproperlyConfigured, match=message):
            env_float("SEARCH_MIN_SCORE", 0.35, minimum=0.0, maximum=1.0)
    monkeypatch.setenv("SEARCH_MIN_SCORE", " 0.4 ")
    assert env_float("SEARCH_MIN_SCORE", 0.35, minimum=0.0, maximum=1.0) == 0.4


def manage(*args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    full.update(env, DJANGO_SETTINGS_MODULE="webapp.settings")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True)


def test_production_settings_pass_check_deploy_but_for_what_the_tls_proxy_decides(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 20 + "-a-long-random-production-secret-key-0123456789",
        ALLOWED_HOSTS="feedback.example.org",
        BEHIND_TLS_PROXY="true",  # production is served over TLS, so its cookies are Secure
        VAR_DIR=str(tmp_path),
    )
    # Left to the TLS proxy: HTTPS redirect (W008) and HSTS (W004), which the proxy sets.
    remaining = [line for line in result.stderr.splitlines() if line.startswith("?: (")]
    assert all("W004" in line or "W008" in line for line in remaining), result.stderr


def test_a_bad_environment_value_stops_manage_py_with_its_name(tmp_path):
    result = manage("check", DEBUG="maybe", VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "DEBUG='maybe' is not a boolean" in result.stderr


ARENA = {"ARENA_URL": "http://127.0.0.1:8001"}
POOL = "{'min_size': 1, 'max_size': %d, 'timeout': 30} True"


@pytest.mark.parametrize(
    ("entry", "environment", "expected"),
    [
        ("import webapp.asgi", ARENA, POOL % 8),  # forwards the arena: pools, checking each connection
        ("import webapp.asgi", {**ARENA, "DB_POOL_SIZE": "3"}, POOL % 3),
        ("import webapp.asgi", {}, "None False"),  # mounts Gradio, whose handler threads never give one back
        ("import webapp.arena_asgi", {}, "None False"),
        ("import webapp.asgi", {**ARENA, "DB_CONN_MAX_AGE": "60"}, "None False"),  # kept connections win
        ("import workers", {**ARENA, "DB_POOL_SIZE": "8"}, "None False"),  # a worker never pools
        ("import django; django.setup()", {}, "None False"),  # commands and shells: one connection
    ],
)
def test_a_web_process_that_forwards_the_arena_pools_its_connections_and_no_other_does(entry, environment, expected):
    code = (
        f"{entry}; from django.db import connection; "
        "print(connection.settings_dict['OPTIONS'].get('pool'), connection.settings_dict['CONN_HEALTH_CHECKS'])"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DB_POOL_SIZE", "ARENA_URL", "DB_CONN_MAX_AGE")},
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/polyglot_settings_check",  # parsed, never connected
        **environment,
    }
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == expected
