"""The launch form's preview counts what the chosen kind trains on: pairs for dpo and sft, labelled answers with
their desirable/undesirable balance for kto (its sources chosen as the launch chooses them), and its token only
serves a launch that would count the same rows."""

import json

import pytest

pytestmark = pytest.mark.django_db


def preview(client, **body) -> dict:
    reply = client.post("/api/v1/training-jobs/preview/", body, format="json")
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_a_kto_preview_counts_labelled_answers_and_its_token_is_bound_to_the_kind(
    api, staff, tiny_variants, arena_votes
):
    client = api(staff)
    data = {"eval_fraction": 0, "kto_sources": ["arena"]}
    pairs = preview(client, data=data)
    assert pairs["rows"] == "dpo" and pairs["train_pairs"] == len(arena_votes) and "balance" not in pairs
    answers = preview(client, data=data, kind="kto")
    assert answers["rows"] == "kto" and answers["train_pairs"] == 2 * len(arena_votes)  # a winner and a loser each
    assert answers["balance"] == {"desirable": len(arena_votes), "undesirable": len(arena_votes)}
    assert preview(client, data=data, kind="sft")["rows"] == "dpo"
    assert client.post("/api/v1/training-jobs/preview/", {"kind": "ppo"}, format="json").status_code == 400

    launch = {"kind": "kto", "parent": "tiny-base", "data": data}
    mixed = client.post("/api/v1/training-jobs/", {**launch, "preview": pairs["token"]}, format="json")
    assert mixed.status_code == 400 and "another kind" in json.dumps(mixed.json())
    kept = client.post("/api/v1/training-jobs/", {**launch, "preview": answers["token"]}, format="json")
    assert kept.status_code == 202, kept.content
    assert kept.json()["data_summary"]["preview"]["balance"] == answers["balance"]
