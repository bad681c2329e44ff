"""The evaluation by generation that ends every training job: the held-out prompts (the held-out split and
the prompts of `prompt_sources`, unseen languages marked), the parent and the new variant answering through
the real inference backend on the tiny model, the stored figures, the parent's answers reused from the
cache by the next job, "off", cancel and retry, failures, and the launch's validation."""

import threading
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from ml.llm.inference import LocalBackend
from tests.training.synthetic import marker_pairs, write
from webapp.feedback.services.catalog import prompt_create
from webapp.feedback.services.importing import feedback_import
from webapp.modelstore.models import GenerationEvalCache
from webapp.training.models import TrainingJob
from webapp.training.services import training_job_cancel, training_job_retry, training_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST = {"learning_rate": 5e-3, "batch_size": 4, "lora_r": 4, "lora_alpha": 8, "max_length": 48, "max_steps": 2}
EVAL = {"max_prompts_per_language": 2, "max_new_tokens": 6, "prompt_sources": ["heldout"]}
FIGURES = {"variant", "language", "n", "fidelity", "ci_low", "ci_high", "mean_tokens", "degenerate", "echo"}


@pytest.fixture
def preferences(tmp_path):
    rows = marker_pairs(24, seed=5)  # en, de, fr, ar
    feedback_import(path=write(tmp_path / "pairs.jsonl", rows))
    for i, (language, text) in enumerate(
        [("sw", "Habari za asubuhi, rafiki yangu?"), ("es", "¿Qué tiempo hace hoy en Madrid?")] * 2
    ):
        prompt_create(content=f"{text} ({i})", language=language, source="heldout")
    return rows


@pytest.fixture
def generated(monkeypatch):
    """Which variant the real local backend generated for, batch by batch (it still generates)."""
    calls: list[str] = []
    original = LocalBackend.generate_batch

    def spy(self, ref, conversations, params):
        calls.append(ref.name)
        return original(self, ref, conversations, params)

    monkeypatch.setattr(LocalBackend, "generate_batch", spy)
    return calls


def launch(api, staff, **overrides):
    body = {
        "kind": "dpo",
        "parent": "tiny-base",
        "data": {"eval_fraction": 0.3},
        "hyperparameters": FAST,
        "eval_generation": EVAL,
    }
    return api(staff).post("/api/v1/training-jobs/", {**body, **overrides}, format="json")


def run_job(api, staff, **overrides) -> TrainingJob:
    reply = launch(api, staff, **overrides)
    assert reply.status_code == 202, reply.json()
    training_run(reply.json()["id"])
    job = TrainingJob.objects.get(pk=reply.json()["id"])
    assert job.status == "succeeded", job.error
    return job


def test_a_job_ends_with_the_evaluation_by_generation_per_language(api, staff, tiny_variants, preferences, generated):
    job = run_job(api, staff)
    result = job.evaluation["generation"]
    assert result["settings"] == EVAL
    assert result["parent"] == "tiny-base" and result["child"] == job.variant.name
    assert result["parent_cached"] is False
    languages = [row["language"] for row in result["languages"]]
    assert languages == sorted(languages) and {"es", "sw"} <= set(languages)
    trained = {lang for lang, n in job.data_summary["snapshot"]["train_pairs_by_language"].items() if n}
    for row in result["languages"]:
        assert row["unseen"] is (row["language"] not in trained)
        assert 1 <= row["n"] <= 2 and row["parent"]["n"] == row["child"]["n"] == row["n"]
        assert set(row["parent"]) == set(row["child"]) == FIGURES
        assert row["parent"]["variant"] == "tiny-base" and row["child"]["variant"] == job.variant.name
        measurable = row["language"] not in result["not_measurable"]
        assert (row["p_value"] is not None) is measurable and (row["only_child"] is not None) is measurable
    assert {r["language"]: r["unseen"] for r in result["languages"]}["sw"] is True
    pooled = result["pooled_trained"]
    assert pooled is not None
    assert set(pooled) == {"n", "estimate", "ci_low", "ci_high", "p_value", "only_parent", "only_child"}
    assert pooled["n"] == sum(
        r["n"] for r in result["languages"] if not r["unseen"] and r["language"] not in result["not_measurable"]
    )
    assert -1 <= pooled["ci_low"] <= pooled["estimate"] <= pooled["ci_high"] <= 1
    assert job.variant.metrics["evaluation"]["generation"] == result
    assert job.evaluation["all"]["n"] == job.data_summary["snapshot"]["eval_pairs"]  # the log-prob one is kept
    assert set(generated) == {"tiny-base", job.variant.name}
    assert "evaluation by generation" in job.log
    variant = api(staff).get(f"/api/v1/variants/{job.variant.pk}/").json()
    assert variant["generation_evaluation"] == result
    assert api(staff).get(f"/api/v1/training-jobs/{job.pk}/").json()["eval_generation"] == EVAL
    assert_pages_show(staff, job, result)


def assert_pages_show(staff, job, result):
    """The job and variant pages hold the table (caption, headers, a row per language, the unseen badge, the
    pooled line); the home page the latest before/after."""
    browser = Client()
    browser.force_login(staff)
    for url in (f"/jobs/{job.pk}/", f"/models/{job.variant.pk}/"):
        page = browser.get(url).content.decode()
        table = page[page.index('<table id="generation">') : page.index("</table>", page.index('id="generation"'))]
        assert "<caption>" in table and '<th scope="col">' in table
        assert table.count('<th scope="row">') == len(result["languages"]) + 1  # + the pooled line
        assert table.count('class="badge"') == sum(r["unseen"] for r in result["languages"])
        assert 'id="generation-pooled"' in table and f"{result['pooled_trained']['estimate']:.3f}" in table
        assert '<bdi translate="no">sw</bdi>' in table
    variant_page = browser.get(f"/models/{job.variant.pk}/").content.decode()
    evaluation = variant_page[variant_page.index('<table id="evaluation">') :]
    assert ">generation<" not in evaluation[: evaluation.index("</table>")]  # not a language of the log-prob table
    cache.clear()
    home = browser.get("/").content.decode()
    assert 'id="before-after"' in home and job.variant.name in home


def test_the_second_job_on_the_same_parent_and_prompts_reuses_the_parents_answers(
    api, staff, tiny_variants, preferences, generated
):
    first = run_job(api, staff)
    assert GenerationEvalCache.objects.filter(variant__name="tiny-base").count() == 1
    generated.clear()
    second = run_job(api, staff, hyperparameters={**FAST, "seed": 7})
    result = second.evaluation["generation"]
    assert result["parent_cached"] is True
    assert generated and set(generated) == {second.variant.name}  # the parent generated nothing
    parents = lambda job: [r["parent"] for r in job.evaluation["generation"]["languages"]]  # noqa: E731
    assert parents(second) == parents(first)
    assert GenerationEvalCache.objects.count() == 1


def test_eval_generation_off_generates_nothing(api, staff, tiny_variants, preferences, generated):
    job = run_job(api, staff, eval_generation="off")
    assert "generation" not in job.evaluation and "generation" not in job.variant.metrics["evaluation"]
    assert generated == [] and job.eval_generation == "off"
    assert api(staff).get(f"/api/v1/variants/{job.variant.pk}/").json()["generation_evaluation"] is None


def test_omitted_eval_generation_takes_the_defaults(api, staff, tiny_variants, preferences):
    body = {"kind": "dpo", "parent": "tiny-base", "data": {"eval_fraction": 0.3}, "hyperparameters": FAST}
    reply = api(staff).post("/api/v1/training-jobs/", body, format="json")
    assert reply.status_code == 202, reply.json()
    defaults = {"max_prompts_per_language": 24, "max_new_tokens": 64, "prompt_sources": []}
    assert reply.json()["eval_generation"] == defaults


def test_when_every_generation_fails_the_variant_is_registered_and_the_failure_recorded(
    api, staff, tiny_variants, preferences, monkeypatch
):
    def broken(self, ref, conversations, params):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(LocalBackend, "generate_batch", broken)
    job = run_job(api, staff)
    result = job.evaluation["generation"]
    assert job.variant is not None and job.variant.metrics["evaluation"]["generation"] == result
    total = sum(r["n"] for r in result["languages"])
    assert result["failures"]["child"]["count"] == result["failures"]["parent"]["count"] == total > 0
    assert "out of memory" in result["failures"]["child"]["first"]
    assert all(r["child"]["fidelity"] in (0.0, None) for r in result["languages"])
    assert not GenerationEvalCache.objects.exists()  # failures are never cached


def test_a_cancel_during_the_evaluation_stops_the_job_and_a_retry_evaluates_without_retraining(
    api, staff, tiny_variants, preferences, monkeypatch
):
    original = LocalBackend.generate_batch
    stopped = threading.Event()

    def cancel_first(self, ref, conversations, params):
        if not stopped.is_set():
            stopped.set()
            training_job_cancel(job=TrainingJob.objects.get())
            time.sleep(settings.JOB_HEARTBEAT_SECONDS + 1)  # the heartbeat sees the request
        return original(self, ref, conversations, params)

    monkeypatch.setattr(LocalBackend, "generate_batch", cancel_first)
    job_id = launch(api, staff).json()["id"]
    training_run(job_id)
    job = TrainingJob.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.variant is None and "generation" not in job.evaluation
    steps = [m["step"] for m in job.metrics]
    training_job_retry(job=job)
    training_run(job_id)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert [m["step"] for m in job.metrics] == steps  # not trained again
    assert "training finished in an earlier attempt" in job.log
    assert job.evaluation["generation"]["languages"] and job.variant is not None


@pytest.mark.parametrize(
    "value,field",
    [
        ("on", "eval_generation"),
        (3, "eval_generation"),
        ({"max_new_tokens": 0}, "eval_generation.max_new_tokens"),
        ({"max_new_tokens": 513}, "eval_generation.max_new_tokens"),
        ({"max_prompts_per_language": "many"}, "eval_generation.max_prompts_per_language"),
        ({"max_prompts_per_language": True}, "eval_generation.max_prompts_per_language"),
        ({"max_prompts_per_language": 501}, "eval_generation.max_prompts_per_language"),
        ({"prompt_sources": "heldout"}, "eval_generation.prompt_sources"),
        ({"prompt_sources": ["nowhere"]}, "eval_generation.prompt_sources"),
        ({"colour": "blue"}, "eval_generation.colour"),
    ],
)
def test_bad_eval_generation_values_get_a_400_naming_the_field(api, staff, tiny_variants, preferences, value, field):
    reply = launch(api, staff, eval_generation=value)
    assert reply.status_code == 400, reply.json()
    assert reply.json()["field"] == field, reply.json()
    assert not TrainingJob.objects.exists()


def test_the_launch_form_offers_the_evaluation_by_generation(staff, preferences):
    browser = Client()
    browser.force_login(staff)
    page = browser.get("/jobs/").content.decode()
    start = page.index('<form id="launch-form">')
    form = page[start : page.index("</form>", start)]
    for name in ("eval_generation", "max_prompts_per_language", "max_new_tokens", "prompt_sources"):
        assert f'name="{name}"' in form
    assert 'value="24"' in form and '<option value="heldout">' in page
