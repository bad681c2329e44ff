import pytest

from tests.conftest import make_annotator
from webapp.feedback.services import catalog
from webapp.retrieval import selectors

# (group, {language: text}): translation groups of prompts, plus ungrouped prompts.
GROUPED = [
    ("g-train", {"en": "When does the train to Berlin leave?", "de": "Wann fährt der Zug nach Berlin ab?"}),
    ("g-soup", {"en": "Give me a recipe for vegetable soup.", "ar": "أعطني وصفة لحساء الخضار."}),
    ("g-sky", {"en": "Why is the sky blue?", "zh-Hans": "天空为什么是蓝色的？"}),
]
UNGROUPED = [
    ("de", "Wie setze ich mein Passwort zurück?"),
    ("en", "How do I reset my password?"),
    ("ar", "لماذا السماء زرقاء؟"),
    ("zh-Hans", "去柏林的火车什么时候出发？"),
    ("en", "The museum is closed on Mondays."),
]


@pytest.fixture(autouse=True)
def isolated_store(settings, tmp_path, monkeypatch):
    """Each test gets its own MODELS_STORE (index files outlive the rolled-back database rows)
    and records instead of sending the removal of deleted texts."""
    settings.MODELS_STORE = tmp_path / "models_store"
    settings.SEARCH_INDEX_ON_SAVE = False
    forgotten: list[int] = []
    monkeypatch.setattr(selectors, "_forget_later", forgotten.extend)
    return forgotten


@pytest.fixture
def prompts(db) -> dict[str, object]:
    """Prompts by text, each with two responses."""
    made = {}
    for group, texts in GROUPED:
        for language, text in texts.items():
            made[text] = catalog.prompt_create(content=text, language=language, group=group)
    for language, text in UNGROUPED:
        made[text] = catalog.prompt_create(content=text, language=language)
    for prompt in made.values():
        for k in range(2):
            catalog.response_create(prompt=prompt, content=f"Answer {k}: {prompt.text[::-1]}", model_name=f"m{k}")
    return made


@pytest.fixture
def annotator_de(db):
    return make_annotator("ann-de", ["de", "en"])
