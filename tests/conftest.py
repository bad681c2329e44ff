"""Shared fixtures: users in each role (who must *not* see each other's data), API clients, and a
real Celery worker process against the test database and the configured broker."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from webapp.feedback.roles import ANNOTATOR, REVIEWER, role_group
from webapp.feedback.services.catalog import annotator_set_languages


def make_annotator(username: str, languages: list[str]) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    user.groups.add(role_group(ANNOTATOR))
    annotator_set_languages(user=user, languages=languages)
    return user


@pytest.fixture
def staff(db):
    return User.objects.create_user(username="staff", password="pw-staff", is_staff=True)


@pytest.fixture
def reviewer(db):
    user = User.objects.create_user(username="reviewer", password="pw-reviewer")
    user.groups.add(role_group(REVIEWER))
    return user


@pytest.fixture
def annotator(db):
    return make_annotator("ann1", ["en", "ar", "zh-Hans"])


@pytest.fixture
def annotator2(db):
    return make_annotator("ann2", ["en", "ar", "zh-Hans"])


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    return client_for
