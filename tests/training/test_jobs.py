"""Training jobs through the API and the service, run in-process on a tiny model: launch validation,
the data snapshot split by translation group, metrics, the registered variant and its lineage."""

import json
from pathlib import Path

import pytest
from django.conf import settings

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


def test_a_job_without_usable_data_is_refused_with_the_counts(api, staff, tiny_variants, preferences):
    reply = launch(api, staff, data={"languages": ["ja"]})
    assert reply.status_code == 400
    counts = reply.json()["counts"]
    assert counts["train_pairs"] == 0 and counts["before_filters"]["en"] > 0
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
