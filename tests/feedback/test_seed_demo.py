"""The demo seed: multilingual content built through the services, partly annotated, and idempotent."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count

from webapp.feedback.demo import ANNOTATIONS, ANNOTATORS, CAMPAIGN_NAME, DATA_DIR, PROMPTS, demo_seed
from webapp.feedback.models import Annotation, Campaign, Language, Prompt, Response, Task
from webapp.permissions import ANNOTATOR

pytestmark = pytest.mark.django_db

# What the demo seeded when its content was still Python literals; the data files must keep it.
SEEDED = {
    "already_seeded": False,
    "campaigns": 1,
    "prompts": 49,
    "languages": 9,
    "groups": 5,
    "responses": 114,
    "tasks": 49,
    "annotators": 3,
    "annotations": 20,
}
DATA_FILES = {"campaign.jsonl", "annotators.jsonl", "prompts.jsonl", "annotations.jsonl"}


def _store_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Campaign, Prompt, Response, Task, Annotation, User, Language)
    }


@pytest.mark.parametrize("name", sorted(DATA_FILES))
def test_every_data_line_is_one_readable_json_object(name):
    lines = (DATA_DIR / name).read_text(encoding="utf-8").split("\n")
    assert lines.pop() == "", "the file ends with a newline"
    for number, line in enumerate(lines, 1):
        assert isinstance(json.loads(line), dict), f"{name}:{number}"
        assert "\\u" not in line, f"{name}:{number} escapes a character; write it as UTF-8"


def test_no_stray_data_files():
    assert {path.name for path in DATA_DIR.iterdir()} == DATA_FILES


def test_annotations_rank_exactly_their_prompts_models():
    letters = {p.key: sorted(r["model"] for r in p.responses) for p in PROMPTS}
    assert len(letters) == len(PROMPTS), "prompt keys are unique"
    for number, annotation in enumerate(ANNOTATIONS, 1):
        ranked = sorted(letter.strip() for rank in annotation.ranking.split(">") for letter in rank.split("="))
        assert ranked == letters[annotation.prompt], f"annotations.jsonl:{number}"
        assert annotation.annotator in ANNOTATORS, f"annotations.jsonl:{number}"


def test_seed_from_the_data_files_keeps_the_counts():
    assert demo_seed() == SEEDED
    assert _store_counts() == {
        "Campaign": 1,
        "Prompt": 49,
        "Response": 114,
        "Task": 49,
        "Annotation": 20,
        "User": 3,
        "Language": 9,
    }
    assert Prompt.objects.exclude(group="").values("group").distinct().count() == 5


def test_seed_creates_multilingual_prompts():
    counts = demo_seed()
    assert counts["already_seeded"] is False
    assert Prompt.objects.count() == counts["prompts"] >= 36
    codes = set(Prompt.objects.values_list("language_id", flat=True))
    assert len(codes) >= 8
    assert {"en", "de", "fr", "es", "ar", "zh-Hans", "ja", "hi"} <= codes
    assert Language.objects.get(code="ar").direction == "rtl"
    assert Language.objects.get(code="zh-Hans").direction == "ltr"
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.overlap == 2
    assert set(campaign.languages.values_list("code", flat=True)) == codes


def test_translation_groups_span_languages():
    demo_seed()
    groups = Prompt.objects.exclude(group="").values("group").annotate(languages=Count("language", distinct=True))
    assert sum(1 for g in groups if g["languages"] >= 3) >= 3
    assert Prompt.objects.filter(group="").exists()


def test_every_prompt_has_one_task_with_two_to_four_responses():
    demo_seed()
    assert Task.objects.count() == Prompt.objects.count()
    for task in Task.objects.prefetch_related("items__response"):
        items = list(task.items.all())
        assert 2 <= len(items) <= 4
        assert [i.position for i in items] == list(range(len(items)))
        assert all(i.response.prompt_id == task.prompt_id for i in items)
        assert all(i.response.model_name.startswith("demo-model-") for i in items)


def test_demo_annotators_and_annotations():
    demo_seed()
    annotators = User.objects.filter(username__startswith="demo-annotator-")
    assert annotators.count() == 3
    for user in annotators:
        assert not user.has_usable_password()
        assert user.groups.filter(name=ANNOTATOR).exists()
    for code in Campaign.objects.get(name=CAMPAIGN_NAME).languages.values_list("code", flat=True):
        assert annotators.filter(profile__languages__code=code).count() >= 2, code
    annotations = list(Annotation.objects.select_related("task"))
    assert annotations
    assert any(any(len(rank) > 1 for rank in a.ranking) for a in annotations), "no tie"
    assert any("wrong_language" in a.flags for a in annotations)
    assert any(a.rationale for a in annotations)
    annotated = Task.objects.filter(annotation_count__gt=0).count()
    assert 0 < annotated < Task.objects.count() / 2
    for task in Task.objects.filter(annotation_count__gt=0):
        assert task.annotation_count == task.annotations.count() <= 2


def test_seed_twice_creates_nothing_new():
    first = demo_seed()
    before = _store_counts()
    second = demo_seed()
    assert second["already_seeded"] is True
    assert all(value == 0 for key, value in second.items() if key != "already_seeded")
    assert _store_counts() == before
    assert first["prompts"] == before["Prompt"]


def test_command_twice_says_nothing_to_do():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data created" in out.getvalue()
    before = _store_counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert out.getvalue().strip() == "Demo data already present; nothing to do."
    assert _store_counts() == before
