"""The demo seed: multilingual content built through the services, partly annotated, with contribution
campaigns and arena battles, so every page and export has rows; and idempotent."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from webapp.arena.demo import read_battles
from webapp.arena.models import Battle, ExternalVariant, Vote
from webapp.feedback.demo import (
    ANNOTATIONS,
    ANNOTATORS,
    CAMPAIGN_NAME,
    CONTRIBUTION_CAMPAIGNS,
    CONTRIBUTIONS,
    DATA_DIR,
    PROMPTS,
    demo_seed,
    ranking_seed,
)
from webapp.feedback.extensions import demo_seeders
from webapp.feedback.models import (
    Annotation,
    Campaign,
    Contribution,
    Demonstration,
    Language,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    Verdict,
)
from webapp.modelstore.models import ModelVariant
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
    "contribution_campaigns": 5,
    "contributions": 12,
    "verdicts": 11,
    "battles": 10,
}
DATA_FILES = {
    "campaign.jsonl",
    "annotators.jsonl",
    "prompts.jsonl",
    "annotations.jsonl",
    "contribution_campaigns.jsonl",
    "contributions.jsonl",
}
DEMO_MODELS = {"demo-model-a", "demo-model-b", "demo-model-c"}


def _store_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (
            Campaign,
            Prompt,
            Response,
            Task,
            Annotation,
            User,
            Language,
            Contribution,
            Verdict,
            Demonstration,
            PreferenceRecord,
            Battle,
            Vote,
            ModelVariant,
        )
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
        "Campaign": 6,  # ranking; write, edit, translate; two verify
        "Prompt": 52,  # and 3 translations
        "Response": 114,
        "Task": 74,  # 49 ranking; 6 write, 6 edit, 4 translate; a verify task per written answer and edit (9)
        "Annotation": 20,
        "User": 3,
        "Language": 9,
        "Contribution": 12,
        "Verdict": 11,
        "Demonstration": 9,  # one per written answer and edit
        "PreferenceRecord": 14,  # one per edit, one per battle
        "Battle": 10,
        "Vote": 10,
        "ModelVariant": 3,
    }
    # the 5 demo groups, and the one that the translations of a prompt in no group start
    assert Prompt.objects.exclude(group="").values("group").distinct().count() == 6


def test_seed_creates_multilingual_prompts():
    counts = demo_seed()
    assert counts["already_seeded"] is False
    prompts = Prompt.objects.filter(source="demo")
    assert prompts.count() == counts["prompts"] >= 36
    codes = set(prompts.values_list("language_id", flat=True))
    assert len(codes) >= 8
    assert {"en", "de", "fr", "es", "ar", "zh-Hans", "ja", "hi"} <= codes
    assert Language.objects.get(code="ar").direction == "rtl"
    assert Language.objects.get(code="zh-Hans").direction == "ltr"
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.overlap == 2
    assert set(campaign.languages.values_list("code", flat=True)) == codes


def test_translation_groups_span_languages():
    ranking_seed()  # the ranking campaign alone: what this test reads
    groups = Prompt.objects.exclude(group="").values("group").annotate(languages=Count("language", distinct=True))
    assert sum(1 for g in groups if g["languages"] >= 3) >= 3
    assert Prompt.objects.filter(group="").exists()


def test_every_prompt_has_one_task_with_two_to_four_responses():
    ranking_seed()  # the ranking campaign alone: what this test reads
    ranking = Task.objects.filter(campaign__name=CAMPAIGN_NAME)
    assert ranking.count() == Prompt.objects.filter(source="demo").count()
    for task in ranking.prefetch_related("items__response"):
        items = list(task.items.all())
        assert 2 <= len(items) <= 4
        assert [i.position for i in items] == list(range(len(items)))
        assert all(i.response.prompt_id == task.prompt_id for i in items)
        assert all(i.response.model_name.startswith("demo-model-") for i in items)


def test_demo_annotators_and_annotations():
    ranking_seed()  # the ranking campaign alone: what this test reads
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
    ranking = Task.objects.filter(campaign__name=CAMPAIGN_NAME)
    annotated = ranking.filter(annotation_count__gt=0).count()
    assert 0 < annotated < ranking.count() / 2
    for task in ranking.filter(annotation_count__gt=0):
        assert task.annotation_count == task.annotations.count() <= 2


def test_seed_twice_creates_nothing_new():
    first = demo_seed()
    before = _store_counts()
    second = demo_seed()
    assert second["already_seeded"] is True
    assert all(value == 0 for key, value in second.items() if key != "already_seeded")
    assert _store_counts() == before
    translations = sum(1 for c in CONTRIBUTIONS if c.language)
    assert first["prompts"] + translations == before["Prompt"]


def test_command_twice_says_nothing_to_do():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data created" in out.getvalue()
    before = _store_counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert out.getvalue().strip() == "Demo data already present; nothing to do."
    assert _store_counts() == before


# --- Contribution campaigns and arena battles ---------------------------------------------------------------


def test_contributions_name_demo_prompts_and_readers_of_their_language():
    prompts = {p.key: p for p in PROMPTS}
    campaigns = {row["name"]: row for row in CONTRIBUTION_CAMPAIGNS}
    for number, c in enumerate(CONTRIBUTIONS, 1):
        where = f"contributions.jsonl:{number}"
        kind = campaigns[c.campaign]["kind"]
        prompt = prompts[c.prompt]
        language = c.language or prompt.language
        if kind == "edit":
            assert c.model in {r["model"] for r in prompt.responses}, where
            assert f"{c.prompt} {c.model}" in campaigns[c.campaign]["responses"], where
        else:
            assert c.prompt in campaigns[c.campaign]["prompts"], where
        assert (kind == "translate") == bool(c.language) == (language != prompt.language), where
        for name in [c.contributor, *(v["voter"] for v in c.votes)]:
            assert language in ANNOTATORS[name], f"{where}: {name} does not read {language}"
        assert c.contributor not in {v["voter"] for v in c.votes}, where
        assert len({v["voter"] for v in c.votes}) == len(c.votes), where


def test_battles_name_demo_prompts_and_two_of_their_models():
    prompts = {p.key: p for p in PROMPTS}
    for number, battle in enumerate(read_battles(), 1):
        letters = {r["model"] for r in prompts[battle["prompt"]].responses}
        assert {battle["model_a"], battle["model_b"]} <= letters and battle["model_a"] != battle["model_b"], number
    assert {b["winner"] for b in read_battles()} == {"model_a", "model_b", "tie", "tie (bothbad)"}


def test_contributions_are_decided_by_the_demo_annotators_votes():
    demo_seed()
    found = {(c.kind, c.status, c.disputed, c.flagged) for c in Contribution.objects.all()}
    assert {("write", "accepted", False, False), ("write", "rejected", False, False)} <= found
    assert {("edit", "accepted", False, False), ("edit", "rejected", False, False)} <= found
    assert ("write", "pending", True, False) in found, "one disputed"
    assert ("translate", "pending", False, True) in found, "one flagged by the similarity check"
    assert Contribution.objects.filter(disputed=True).count() == Contribution.objects.filter(flagged=True).count() == 1
    flagged = Contribution.objects.get(flagged=True)
    assert flagged.content == flagged.task.prompt.text and flagged.checked_at is not None
    assert set(Contribution.objects.values_list("language_id", flat=True)) >= {"en", "de", "ar", "zh-Hans", "es"}
    assert set(Contribution.objects.filter(kind="translate").values_list("language_id", flat=True)) == {"ar", "zh-Hans"}
    for translation in Contribution.objects.filter(kind="translate").select_related("created_prompt", "task__prompt"):
        assert translation.created_prompt.group == translation.task.prompt.group != ""
    assert not Task.objects.filter(leases__isnull=False).exists(), "every lease the seed took ended in its work"
    assert Task.objects.filter(campaign__kind__in=["write", "edit", "translate"], annotation_count=0).exists()


def test_a_store_seeded_before_the_contributions_gains_them_and_the_battles():
    with transaction.atomic():
        ranking_seed()
    counts = demo_seed()
    assert counts["already_seeded"] is False and counts["campaigns"] == counts["prompts"] == 0
    assert (counts["contributions"], counts["battles"]) == (12, 10)


def _export(tmp_path, fmt: str, *flags: str) -> list[dict]:
    path = tmp_path / f"{fmt}-{'-'.join(flags) or 'all'}.jsonl"
    call_command("export_feedback", "--format", fmt, "--out", str(path), *flags, stdout=StringIO())
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_export_has_demo_rows(tmp_path):
    demo_seed()
    for source, labels in (("arena", {True, False}), ("ranking", {True, False}), ("verify", {True, False})):
        rows = _export(tmp_path, "kto", "--kto-sources", source)
        assert {row["source"] for row in rows} == {source} and {row["label"] for row in rows} == labels, source
    flagged = _export(tmp_path, "kto", "--kto-sources", "flags")
    assert flagged and {(row["source"], row["label"]) for row in flagged} == {("flags", False)}
    accepted = set(Demonstration.objects.filter(status="accepted").values_list("external_id", flat=True))
    pending = set(Demonstration.objects.filter(status="pending").values_list("external_id", flat=True))
    rejected = set(Demonstration.objects.filter(status="rejected").values_list("external_id", flat=True))
    assert accepted and pending and rejected
    ids = {row["id"] for row in _export(tmp_path, "sft")}
    assert accepted <= ids and not (pending | rejected) & ids
    ids = {row["id"] for row in _export(tmp_path, "sft", "--include-pending")}
    assert accepted | pending <= ids and not rejected & ids
    battles = _export(tmp_path, "arena")
    assert len(battles) == 10 and {b["model_a"] for b in battles} | {b["model_b"] for b in battles} == DEMO_MODELS
    assert {b["winner"] for b in battles} == {"model_a", "model_b", "tie", "tie (bothbad)"}
    assert len({b["language"] for b in battles}) >= 5


def test_review_queue_and_contributors_show_the_demo_work(api, reviewer):
    demo_seed()
    queue = api(reviewer).get("/api/v1/contributions/review-queue/").json()["results"]
    assert sorted((c["kind"], c["flagged"], c["disputed"]) for c in queue) == [
        ("translate", True, False),
        ("write", False, True),
    ]
    stats = api(reviewer).get("/api/v1/contributors/stats/").json()
    assert {row["contributor"] for row in stats} == set(ANNOTATORS)
    assert all(sum(row[status] for row in stats) for status in ("accepted", "rejected", "pending"))
    assert any(row["median_edit_distance"] for row in stats)


def test_arena_stats_and_leaderboard_show_the_demo_models(api, client, staff):
    demo_seed()
    assert set(demo_seeders.names()) >= {"arena"}
    ratings = api(None).get("/api/v1/arena/leaderboard/").json()["ratings"]
    assert {row["variant"] for row in ratings} == DEMO_MODELS
    assert all(row["votes"] for row in ratings)
    assert ExternalVariant.objects.filter(variant__name__in=DEMO_MODELS).count() == 3, "rated, never served"
    assert not ModelVariant.objects.filter(enrolled_in_arena=True).exists()
    client.force_login(staff)
    page = client.get("/arena-stats/").content.decode()
    assert all(name in page for name in DEMO_MODELS)
    models = client.get("/models/").content.decode()  # marked external there, not "failed" with 0 bytes
    rows = [models[models.index(f">{name}</a>") :].split("</tr>")[0] for name in DEMO_MODELS]
    assert all("external" in row and "failed" not in row for row in rows), rows


def test_a_demo_prompt_deleted_before_the_contributions_are_seeded_is_named():
    with transaction.atomic():
        ranking_seed()
    Prompt.objects.filter(source="demo", group="demo-g2", language_id="en").update(deleted_at=timezone.now())
    with pytest.raises(CommandError, match="The demo item demo-g2:en is missing"):
        call_command("seed_demo", stdout=StringIO())
    assert not Contribution.objects.exists() and not Battle.objects.exists()
