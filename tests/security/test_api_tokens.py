"""API tokens: POST /api/v1/auth/token/ issues a new token and revokes the old one; a token older than
API_TOKEN_TTL_DAYS is refused with 401 and a message that says how to get a new one."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def greta():
    return User.objects.create_user(username="greta", password="pw-greta")


def new_token(headers: dict | None = None) -> str:
    reply = APIClient(headers=headers).post(
        "/api/v1/auth/token/", {"username": "greta", "password": "pw-greta"}, format="json"
    )
    assert reply.status_code == 200, reply.content
    return reply.json()["token"]


def tasks_with(token: str):
    return APIClient().get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {token}")


def test_asking_again_issues_a_new_token_and_revokes_the_old(greta):
    first = new_token()
    assert tasks_with(first).status_code == 200
    second = new_token()
    assert second != first
    assert tasks_with(second).status_code == 200
    refused = tasks_with(first)
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"


def test_an_expired_token_gets_401_with_a_message_and_a_new_one_can_be_asked_with_it(greta, settings):
    settings.API_TOKEN_TTL_DAYS = 90
    old = new_token()
    Token.objects.filter(key=old).update(created=timezone.now() - timedelta(days=91))
    refused = tasks_with(old)
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"
    assert "expired" in refused.json()["detail"] and "/api/v1/auth/token/" in refused.json()["detail"]
    fresh = new_token(headers={"Authorization": f"Token {old}"})  # the stale header does not get in the way
    assert tasks_with(fresh).status_code == 200


def test_the_lifetime_comes_from_settings_and_zero_means_tokens_never_expire(greta, settings):
    token = new_token()
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(days=3650))
    settings.API_TOKEN_TTL_DAYS = 0
    assert tasks_with(token).status_code == 200
    settings.API_TOKEN_TTL_DAYS = 5000
    assert tasks_with(token).status_code == 200
    settings.API_TOKEN_TTL_DAYS = 3000
    assert tasks_with(token).status_code == 401
