"""An API request without valid credentials is answered 401 with `WWW-Authenticate`, as HTTP clients
expect; a signed-in user without the right role still gets 403, and browser pages still send an
anonymous visitor to the login form."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_an_unknown_token_gets_401_with_the_token_scheme():
    reply = APIClient().get("/api/v1/tasks/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == "Token"
    assert "token" in reply.json()["detail"].lower()


def test_anonymous_gets_401_a_signed_in_annotator_403_and_pages_still_redirect(client, annotator):
    anonymous = APIClient().get("/api/v1/review/")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Token"
    assert client.get("/annotate/").status_code == 302
    assert client.get("/annotate/")["Location"].startswith("/accounts/login/")
    client.force_login(annotator)
    assert client.get("/api/v1/review/").status_code == 403  # signed in by session, without the role
    assert client.get("/api/v1/tasks/").status_code == 200
