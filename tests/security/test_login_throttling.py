"""Wrong passwords are throttled per username and address: after LOGIN_FAILURE_LIMIT (5) failures the
pair is locked out (429 with Retry-After and a clear message), on the login form and on the token
endpoint, while another user, or the same user from another address, can still sign in."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

HERE, ELSEWHERE = "10.0.0.1", "10.0.0.2"


@pytest.fixture
def people():
    return [User.objects.create_user(username=name, password=f"pw-{name}") for name in ("greta", "omar")]


def log_in(username: str, password: str, address: str = HERE):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def ask_token(username: str, password: str, address: str = HERE):
    body = {"username": username, "password": password}
    return APIClient(REMOTE_ADDR=address).post("/api/v1/auth/token/", body, format="json")


def test_the_login_form_locks_a_user_out_after_five_wrong_passwords_from_one_address(people):
    for _ in range(4):
        reply = log_in("greta", "wrong")
        assert reply.status_code == 200 and b"correct username and password" in reply.content
    assert log_in("greta", "wrong").status_code == 429
    sixth = log_in("greta", "wrong")
    assert sixth.status_code == 429
    assert int(sixth["Retry-After"]) == 15 * 60
    assert "Too many failed sign-in attempts" in sixth.content.decode()
    assert log_in("greta", "pw-greta").status_code == 429  # even the right password, until the lockout ends
    # Neither another user from the same address, nor the same user from another address, is refused.
    assert log_in("omar", "pw-omar").status_code == 302
    assert log_in("greta", "pw-greta", ELSEWHERE).status_code == 302


def test_a_successful_login_resets_the_count(people):
    for _ in range(4):
        log_in("greta", "wrong")
    assert log_in("greta", "pw-greta").status_code == 302
    for _ in range(4):
        assert log_in("greta", "wrong").status_code == 200
    assert log_in("greta", "wrong").status_code == 429


def test_the_token_endpoint_answers_429_with_retry_after_after_five_wrong_passwords(people):
    for _ in range(4):
        assert ask_token("greta", "wrong").status_code == 400
    assert ask_token("greta", "wrong").status_code == 429
    sixth = ask_token("greta", "pw-greta")
    assert sixth.status_code == 429 and int(sixth["Retry-After"]) == 15 * 60
    assert "Too many failed sign-in attempts" in sixth.json()["detail"]
    assert ask_token("omar", "pw-omar").status_code == 200
    assert ask_token("greta", "pw-greta", ELSEWHERE).status_code == 200


def test_the_limit_and_lockout_come_from_settings(people, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.LOGIN_LOCKOUT_MINUTES = 3
    assert log_in("greta", "wrong").status_code == 200
    refused = log_in("greta", "wrong")
    assert refused.status_code == 429 and refused["Retry-After"] == "180" and "3 minutes" in refused.content.decode()
