"""Training jobs through the API and the service, run in-process on a tiny model: launch validation,
the data snapshot split by translation group, metrics, the registered variant and its lineage."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from ml.llm.inference import LocalBackend
from ml.llm.params import GenerationParams
from tests.training.synthetic import marker_pairs, write
from webapp.feedback.services.importing import feedback_import
from webapp.modelstore.services import variant_ref
from webapp.training.models import TrainingJob
from webapp.training.services import training_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST = {
    "learning_rate": 5e-3,
    "batch_size": 4,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "max_length": 64,
    "save_steps": 5,
    "max_steps": 10,
}


@pytest.fixture
def preferences(tmp_path):
    rows = marker_pairs(60, seed=3)
    for row in rows:  # translation groups of three: a whole group must land on one side
        row["group"] = f"grp-{int(row['id'].split('-')[1]) // 3}"
    feedback_import(path=write(tmp_path / "pairs.jsonl", rows))
    return rows


def launch(api, staff, **overrides):
    body = {"kind": "dpo", "parent": "tiny-base", "data": {"eval_fraction": 0.25}, "hyperparameters": FAST}
    return api(staff).post("/api/v1/training-jobs/", {**body, **overrides}, format="json")


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"kind": "ppo"}, "kind"),
        ({"parent": "nope"}, "parent"),
        ({"hyperparameters": {"beta": -1}}, "hyperparameters.beta"),
        ({"hyperparameters": {"learning_rate": "fast"}}, "hyperparameters.learning_rate"),
        ({"hyperparameters": {"warp": 9}}, "hyperparameters.warp"),
        ({"data": {"min_agreement": 0.2}}, "min_agreement"),
        ({"data": {"eval_fraction": 0.9}}, "eval_fraction"),
        ({"data": {"languages": ["???"]}}, "BCP-47"),
    ],
)
def test_bad_launch_requests_get_a_400_naming_the_field(api, staff, tiny_variants, preferences, overrides, field):
    reply = launch(api, staff, **overrides)
    assert reply.status_code == 400 and field in json.dumps(reply.json()), reply.json()
    assert not TrainingJob.objects.exists()


def test_a_job_without_usable_data_is_launched_at_once_and_fails_in_its_first_step_with_the_counts(
    api, staff, tiny_variants, preferences
):
    reply = launch(api, staff, data={"languages": ["ja"]})
    assert reply.status_code == 202, reply.json()
    assert reply.json()["data_summary"] == {} and reply.json()["created_before"]
    training_run(reply.json()["id"])
    job = api(staff).get(f"/api/v1/training-jobs/{reply.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["error"].startswith("No usable training pairs after the filters.")
    assert "before the filters: ar 15, de 15, en 15, fr 15; after them: none." in job["error"], job["error"]
    counts = job["data_summary"]["counts"]
    assert counts["train_pairs"] == 0 and counts["before_filters"] == {"ar": 15, "de": 15, "en": 15, "fr": 15}
    assert not job["metrics"] and job["variant"] is None
    folder = Path(settings.MODELS_STORE) / TrainingJob.objects.get(pk=job["id"]).folder
    assert not (folder / "data").exists()  # no empty snapshot left for a retry to reuse


def test_a_job_trains_on_the_data_as_of_its_launch(api, staff, tiny_variants, preferences, tmp_path):
    """Rows imported after the launch never enter it; a pair deleted before the snapshot is left out."""
    counted = api(staff).post("/api/v1/training-jobs/preview/", {"data": {"eval_fraction": 0.25}}, format="json")
    assert counted.status_code == 200 and counted.json()["approximate"] is False
    reply = launch(api, staff, preview=counted.json()["token"])
    assert reply.status_code == 202, reply.json()
    job_id = reply.json()["id"]
    later = marker_pairs(30, seed=9)
    for row in later:
        row["id"] = "late-" + row["id"]
    feedback_import(path=write(tmp_path / "late.jsonl", later))
    from webapp.feedback.models import PreferenceRecord
    from webapp.feedback.services.catalog import preference_delete

    preference_delete(record=PreferenceRecord.objects.get(external_id=preferences[0]["id"]))
    from webapp.training.data import snapshot_write

    job = TrainingJob.objects.get(pk=job_id)
    from webapp.training.data import DataSpec

    summary = snapshot_write(DataSpec.from_params(job.data_spec).cut(job.created_before), "dpo", tmp_path / "snap")
    taken = sum(summary["train_pairs_by_language"].values()) + summary["eval_pairs"]
    assert taken == 59  # the 60 of the launch, less the deleted one; none of the 30 imported later
    previewed = job.data_summary["preview"]
    assert previewed["train_pairs"] + previewed["eval_pairs"] == 60
    ids = (tmp_path / "snap" / "data" / "pair_ids.txt").read_text()
    assert "late-" not in ids and preferences[0]["id"] not in ids.split()


def test_the_preview_says_when_it_stopped_counting_early(api, staff, tiny_variants, preferences, settings):
    settings.TRAINING_PREVIEW_MAX_PAIRS = 10
    reads: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        reads.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        counted = api(staff).post("/api/v1/training-jobs/preview/", {"data": {}}, format="json").json()
    assert counted["approximate"] is True and counted["train_pairs"] + counted["eval_pairs"] == 10
    # On PostgreSQL the passes stream inside a transaction: a cursor declared outside one is WITH HOLD, computed
    # whole before its first row (formats/exporting.py), so a capped count would still read every pair. Never on
    # SQLite, where a transaction takes the write lock (IMMEDIATE) and would hold off every submit meanwhile.
    streamed = [atomic for sql, atomic in reads if 'FROM "feedback_preferencerecord"' in sql]
    assert streamed and set(streamed) == {connection.vendor == "postgresql"}
    settings.TRAINING_PREVIEW_MAX_PAIRS = 1000
    counted = api(staff).post("/api/v1/training-jobs/preview/", {"data": {}}, format="json").json()
    assert counted["approximate"] is False and counted["train_pairs"] + counted["eval_pairs"] == 60
    bad = api(staff).post("/api/v1/training-jobs/preview/", {"data": {"eval_fraction": 2}}, format="json")
    assert bad.status_code == 400 and "eval_fraction" in bad.json()["detail"]
    # A token is bound to its data settings.
    other = launch(api, staff, data={"languages": ["en"]}, preview=counted["token"])
    assert other.status_code == 400 and "other data settings" in json.dumps(other.json())
    forged = launch(api, staff, preview="not-a-token")
    assert forged.status_code == 400 and "not a token" in json.dumps(other.json() | forged.json())
    assert not TrainingJob.objects.exists()


def test_a_dpo_job_trains_registers_a_variant_with_lineage_and_it_generates(api, staff, tiny_variants, preferences):
    reply = launch(api, staff)
    assert reply.status_code == 202, reply.json()
    training_run(reply.json()["id"])
    job = api(staff).get(f"/api/v1/training-jobs/{reply.json()['id']}/").json()
    assert job["status"] == "succeeded", job["error"]
    assert [m["step"] for m in job["metrics"]] == list(range(1, 11))
    assert all("rewards/margins" in m for m in job["metrics"])
    snapshot = job["data_summary"]["snapshot"]
    assert snapshot["train_rows"] + snapshot["eval_pairs"] == 60 and snapshot["eval_pairs"] > 0
    assert job["evaluation"]["all"]["n"] == snapshot["eval_pairs"]
    variant = TrainingJob.objects.get(pk=job["id"]).variant
    assert variant.kind == "dpo" and variant.parent.name == "tiny-base" and job["variant"] == variant.name
    assert variant.lineage["job"] == job["id"] and variant.lineage["data"]["train_rows"] == snapshot["train_rows"]
    assert variant.metrics["evaluation"]["all"]["n"] == snapshot["eval_pairs"]
    assert (
        LocalBackend().generate(
            variant_ref(variant), [{"role": "user", "content": "Hi"}], GenerationParams(max_new_tokens=5)
        )
        is not None
    )
    folder = Path(settings.MODELS_STORE) / TrainingJob.objects.get(pk=job["id"]).folder / "data"
    sides = {}
    for line in (folder / "pair_ids.txt").read_text().splitlines():
        side, pair = line.split("\t")
        sides.setdefault(next(r["group"] for r in preferences if r["id"] == pair), set()).add(side)
    assert all(len(s) == 1 for s in sides.values())  # no translation group straddles the split


def test_an_sft_job_trains_on_the_chosen_responses(api, staff, tiny_variants, preferences):
    reply = launch(api, staff, kind="sft")
    training_run(reply.json()["id"])
    job = TrainingJob.objects.get(pk=reply.json()["id"])
    assert job.status == "succeeded", job.error
    assert job.variant.kind == "sft" and len(job.metrics) == 10 and "mean_token_accuracy" in job.metrics[-1]
    first = json.loads((Path(settings.MODELS_STORE) / job.folder / "data/train.jsonl").read_text().splitlines()[0])
    assert set(first) >= {"prompt", "completion"} and first["completion"][0]["role"] == "assistant"


def test_a_second_delivery_of_a_finished_job_does_nothing(api, staff, tiny_variants, preferences):
    job_id = launch(api, staff, hyperparameters={**FAST, "max_steps": 2}).json()["id"]
    training_run(job_id)
    training_run(job_id)
    job = TrainingJob.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.attempt == 1 and len(job.metrics) == 2
    assert TrainingJob.objects.get(pk=job_id).variant is not None


def test_a_kto_job_trains_on_unpaired_labels_records_its_balance_and_registers_a_variant(
    api, staff, tiny_variants, preferences, arena_votes
):
    data = {"eval_fraction": 0.25, "kto_sources": ["arena"]}
    reply = launch(api, staff, kind="kto", data=data)
    assert reply.status_code == 202, reply.json()
    training_run(reply.json()["id"])
    job = api(staff).get(f"/api/v1/training-jobs/{reply.json()['id']}/").json()
    assert job["status"] == "succeeded", job["error"]
    assert job["kind"] == "kto" and [m["step"] for m in job["metrics"]] == list(range(1, 11))
    assert all("kl" in m for m in job["metrics"])
    snapshot = job["data_summary"]["snapshot"]
    # 40 votes, two labelled answers each, only the arena's (the imported pairs are no KTO source here)
    assert snapshot["train_rows"] + snapshot["eval_pairs"] == 80 and snapshot["eval_pairs"] > 0
    assert snapshot["pairs_by_source"] == {"arena": 80}
    balance = snapshot["balance"]
    assert balance["desirable"] == balance["undesirable"] == snapshot["train_rows"] // 2
    assert (balance["desirable_weight"], balance["undesirable_weight"], balance["weighted_ratio"]) == (1.0, 1.0, 1.0)
    overall = job["evaluation"]["all"]
    assert overall["n"] == snapshot["eval_pairs"] and overall["parent_accuracy"] == 0.5
    assert 0 <= overall["reward_accuracy"] <= 1 and "metric" in overall
    assert job["evaluation"]["generation"]["languages"], job["evaluation"]["generation"]
    variant = TrainingJob.objects.get(pk=job["id"]).variant
    assert variant.kind == "kto" and variant.is_adapter and variant.parent.name == "tiny-base"
    assert variant.lineage["kind"] == "kto" and variant.lineage["data_spec"]["kto_sources"] == ["arena"]
    assert variant.metrics["evaluation"]["generation"] == job["evaluation"]["generation"]
    folder = Path(settings.MODELS_STORE) / TrainingJob.objects.get(pk=job["id"]).folder / "data"
    first = json.loads((folder / "train.jsonl").read_text().splitlines()[0])
    assert set(first) >= {"prompt", "completion", "label", "language", "source"} and isinstance(first["label"], bool)
    held_out = [json.loads(line) for line in (folder / "eval_pairs.jsonl").read_text().splitlines()]
    assert all("label" in row for row in held_out)
    client = Client()
    client.force_login(staff)
    page = client.get(f"/jobs/{job['id']}/").content.decode()  # the job page counts answers, not pairs
    assert "Training answers (labelled)" in page and 'id="balance"' in page and "Training pairs" not in page


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"hyperparameters": {**FAST, "batch_size": 1}}, "hyperparameters.batch_size"),
        ({"data": {"kto_sources": ["bogus"]}}, "KTO source"),
    ],
)
def test_a_kto_launch_refuses_what_kto_cannot_train_with(api, staff, tiny_variants, overrides, field):
    reply = launch(api, staff, kind="kto", **overrides)
    assert reply.status_code == 400 and field in json.dumps(reply.json()), reply.json()
    assert not TrainingJob.objects.exists()


def test_a_kto_job_without_labelled_answers_fails_with_their_counts(api, staff, tiny_variants, preferences):
    """The imported pairs are no KTO source: the job fails in its first step, counting labelled answers."""
    reply = launch(api, staff, kind="kto", data={"kto_sources": ["arena"]})
    assert reply.status_code == 202, reply.json()
    training_run(reply.json()["id"])
    job = TrainingJob.objects.get(pk=reply.json()["id"])
    assert job.status == "failed" and job.error.startswith("No labelled answers (KTO) after the filters."), job.error
    assert job.data_summary["counts"]["train_pairs"] == 0 and job.variant is None
