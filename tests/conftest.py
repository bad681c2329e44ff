"""Shared fixtures: users in each role (who must *not* see each other's data), API clients, and a
real Celery worker process against the test database and the configured broker."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation
from rest_framework.test import APIClient

from tests.llm.builders import build_random_adapter, build_tiny_chat_model
from webapp.feedback.services.catalog import annotator_set_languages
from webapp.permissions import ANNOTATOR, REVIEWER, role_group


@pytest.fixture(autouse=True)
def _interface_language_reset():
    """A request with another Accept-Language leaves that language active in this thread (Django's
    LocaleMiddleware does not reset it): every test starts and ends in the default language."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


# Tiny chat models: the real SmolLM2 tokenizer on random weights, and two random LoRA adapters.
@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    cache = Path(settings.VAR_DIR) / "smollm2-tokenizer"
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny") / "model", cache)


@pytest.fixture(scope="session")
def tiny_adapters(tiny_model, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return build_random_adapter(tiny_model, root / "a", 1), build_random_adapter(tiny_model, root / "b", 2)


@pytest.fixture
def tiny_variants(db, tiny_model, tiny_adapters):
    """The tiny base and its two adapters, copied into MODELS_STORE and registered as variants."""
    import shutil

    from ml.llm.files import write_folder_atomically
    from webapp.modelstore.services import variant_register

    def place(source: Path, relative: str) -> str:
        target = Path(settings.MODELS_STORE) / relative
        write_folder_atomically(target, lambda tmp: shutil.copytree(source, tmp))
        return relative

    base = variant_register(name="tiny-base", kind="base", path=place(tiny_model, "base/tiny-base"))
    adapters = [
        variant_register(name=f"tiny-{tag}", kind="dpo", parent=base, path=place(path, f"adapters/tiny-{tag}"))
        for tag, path in zip("ab", tiny_adapters, strict=True)
    ]
    return base, *adapters
