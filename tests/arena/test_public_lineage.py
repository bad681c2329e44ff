"""The public leaderboard (the Gradio tab and GET /api/v1/arena/leaderboard/) says what each variant was made
from and on what data, and never shows a local path, a job or a database id."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.arena.conftest import finished_battle
from webapp.arena import gradio_app, selectors, services
from webapp.arena.gradio_app import ALL, CONTROL, PLAIN
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import variant_register

CLIENT = "d" * 64
JOB = 4242


@pytest.fixture
def trained(tiny_variants, languages):
    """A variant registered from a real folder under MODELS_STORE with the lineage a training job writes
    (job id, snapshot paths), next to a base installed from a local folder."""
    base, adapter, _other = tiny_variants
    ModelVariant.objects.filter(pk=base.pk).update(source=str(Path(settings.MODELS_STORE) / "imports" / "my-base"))
    base.refresh_from_db()
    data = {
        "snapshot": f"jobs/{JOB}/data",
        "pair_ids": f"jobs/{JOB}/data/pair_ids.txt",
        "train_rows": 1234,
        "train_sha256": "ab" * 32,
        "by_language": {"fr": 600, "de": 634},
    }
    dpo = variant_register(
        name="tiny-dpo-de-fr",
        kind="dpo",
        path=adapter.path,
        parent=base,
        lineage={"job": JOB, "kind": "dpo", "parent": base.name, "data": data, "steps": 10},
    )
    for winner, loser in [(dpo, base), (dpo, adapter), (adapter, base), (base, dpo)]:
        battle = finished_battle(winner, loser, client=CLIENT, language="de")
        services.vote_cast(token=str(battle.token), outcome="a", client_hash=CLIENT)
    selectors._cache.clear()
    return base, adapter, dpo


def leaks(text: str, variants) -> list[str]:
    secrets = [str(settings.MODELS_STORE), "models_store", "jobs/", str(JOB), *(v.path for v in variants)]
    secrets += [f"#{v.pk}" for v in variants] + [f"id {v.pk}" for v in variants]
    return [secret for secret in secrets if secret in text]


def test_lineage_names_the_parent_and_summarises_the_data(trained):
    base, adapter, dpo = trained
    assert selectors.lineage(dpo) == "DPO on 1,234 pairs in de, fr from tiny-base"
    assert selectors.lineage(adapter) == "DPO adapter on tiny-base"  # registered by hand: no data recorded
    assert selectors.lineage(base) == "base model"  # its source is a local folder: not shown


def test_the_public_api_board_shows_no_path_or_internal_id(trained, client):
    reply = client.get("/api/v1/arena/leaderboard/", {"language": "de"})
    assert reply.status_code == 200
    body = reply.json()
    assert {row["lineage"] for row in body["ratings"]} == {
        "DPO on 1,234 pairs in de, fr from tiny-base",
        "DPO adapter on tiny-base",
        "base model",
    }
    text = json.dumps(body, ensure_ascii=False)
    assert "/" not in text and not leaks(text, trained)
    assert all("variant_id" not in row for row in body["ratings"])
    control = client.get("/api/v1/arena/leaderboard/", {"style": "control"}).json()
    assert not leaks(json.dumps(control), trained)


@pytest.mark.parametrize("style", [PLAIN, CONTROL])
def test_the_gradio_board_shows_no_path_or_internal_id(trained, style):
    table, plot = gradio_app.show_leaderboard(ALL, style)
    cells = json.dumps(table["data"], ensure_ascii=False)
    assert "/" not in cells and not leaks(cells, trained) and not leaks(plot, trained)
    assert "DPO on 1,234 pairs in de, fr from tiny-base" in cells


def test_the_lineage_is_in_the_visitors_language(trained):
    from django.utils import translation

    with translation.override("de"):
        line = selectors.lineage(trained[2])
    assert "1.234" in line  # German digit grouping
