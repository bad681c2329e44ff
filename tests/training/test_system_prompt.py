"""One system-prompt rule for training and serving (ml/llm/chat.py): a variant's system prompt is fixed
when it is made (a base model: SYSTEM_PROMPT; a trained one: its job's, by default the parent's), written
into every training and held-out row, recorded in the lineage, and put first in every conversation it
is served, locally or by an OpenAI-compatible server."""

import dataclasses
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from ml.llm import inference
from ml.llm.chat import with_system_prompt
from ml.llm.inference import LocalBackend
from ml.llm.openai_backend import OpenAICompatibleBackend
from ml.llm.params import GenerationParams, VariantRef
from tests.llm.openai_server import serve
from tests.training.synthetic import marker_pairs, write
from webapp.feedback.services.importing import feedback_import
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import variant_ref, variant_register
from webapp.training.data import DataSpec, snapshot_write
from webapp.training.models import TrainingJob

USER = [{"role": "user", "content": "Nenne drei Farben."}]
GREEDY = GenerationParams(max_new_tokens=8)
ITALIAN = "Sei un assistente utile."


def test_the_rule_puts_the_variants_prompt_first_unless_the_conversation_has_its_own():
    system = {"role": "system", "content": ITALIAN}
    assert with_system_prompt(USER, ITALIAN) == [system, *USER]
    own = [{"role": "system", "content": "Be brief."}, *USER]
    assert with_system_prompt(own, ITALIAN) == own
    assert with_system_prompt(USER, "") == [{"role": "system", "content": ""}, *USER]
    assert with_system_prompt(USER, None) == USER  # registered before the rule: the template's default


@pytest.fixture(scope="module")
def backend():
    return LocalBackend()


def test_serving_puts_the_prompt_in_front_of_the_conversation(backend, tiny_model, monkeypatch):
    seen = []
    real = inference.encode_prompts
    monkeypatch.setattr(inference, "encode_prompts", lambda tok, convs: seen.append(convs) or real(tok, convs))
    ref = VariantRef("base", str(tiny_model), system_prompt=ITALIAN)
    plain = VariantRef("base", str(tiny_model))
    assert backend.generate(ref, USER, GREEDY) == backend.generate(plain, with_system_prompt(USER, ITALIAN), GREEDY)
    assert "".join(backend.stream(ref, USER, GREEDY)) == backend.generate(ref, USER, GREEDY)
    assert seen[0] == [with_system_prompt(USER, ITALIAN)] and all(c[0][0]["content"] == ITALIAN for c in seen)
    # The template's own default is what a variant without a system prompt gets.
    tokenizer = backend.tokenizer_for(plain)
    text = tokenizer.apply_chat_template(USER, add_generation_prompt=True, tokenize=False)
    assert ITALIAN not in text and "<|im_start|>system" in text


def test_an_openai_compatible_server_gets_the_system_message(backend, tiny_model):
    served = {"base": VariantRef("base", str(tiny_model))}  # the server adds nothing of its own
    server = serve(backend, served)
    try:
        remote = OpenAICompatibleBackend(f"http://127.0.0.1:{server.server_port}")
        ref = VariantRef("base", "unused", system_prompt=ITALIAN)
        expected = backend.generate(served["base"], with_system_prompt(USER, ITALIAN), GREEDY)
        assert remote.generate(ref, USER, GREEDY) == expected
    finally:
        server.shutdown()


@pytest.mark.django_db
def test_a_base_gets_the_setting_and_children_inherit_it(tiny_variants):
    base, a, _ = tiny_variants
    assert base.system_prompt == settings.SYSTEM_PROMPT and a.system_prompt == settings.SYSTEM_PROMPT
    assert variant_ref(a).system_prompt == settings.SYSTEM_PROMPT
    with override_settings(SYSTEM_PROMPT=ITALIAN):
        other = variant_register(name="tiny-base-it", kind="base", path=base.path)
        child = variant_register(name="tiny-base-it-dpo", kind="dpo", parent=other, path=a.path)
        explicit = variant_register(name="tiny-x", kind="dpo", parent=other, path=a.path, system_prompt="")
    assert (other.system_prompt, child.system_prompt, explicit.system_prompt) == (ITALIAN, ITALIAN, "")
    assert ModelVariant.objects.get(pk=base.pk).system_prompt == settings.SYSTEM_PROMPT  # never rewritten


@pytest.fixture
def preferences(tmp_path, db):
    feedback_import(path=write(tmp_path / "pairs.jsonl", marker_pairs(12, seed=5)))


def launch(api, staff, **extra):
    body = {"kind": "dpo", "parent": "tiny-base", "data": {"eval_fraction": 0.3}, "hyperparameters": {"max_steps": 1}}
    return api(staff).post("/api/v1/training-jobs/", {**body, **extra}, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "given,kept",
    [
        ({}, "parent"),
        ({"system_prompt": None}, "parent"),
        ({"system_prompt": ITALIAN}, ITALIAN),
        ({"system_prompt": ""}, ""),
    ],
)
def test_a_job_keeps_the_parents_prompt_unless_it_is_given_one(api, staff, tiny_variants, preferences, given, kept):
    reply = launch(api, staff, **given)
    assert reply.status_code == 202, reply.json()
    expected = tiny_variants[0].system_prompt if kept == "parent" else kept
    assert reply.json()["system_prompt"] == expected
    assert TrainingJob.objects.get(pk=reply.json()["id"]).system_prompt == expected


@pytest.mark.django_db
def test_a_too_long_system_prompt_is_a_400_naming_the_field(api, staff, tiny_variants, preferences):
    reply = launch(api, staff, system_prompt="x" * 4001)
    assert reply.status_code == 400 and "system_prompt" in reply.json()
    assert not TrainingJob.objects.exists()


@pytest.mark.django_db
def test_a_parent_from_before_the_rule_keeps_the_templates_default(api, staff, tiny_variants, preferences):
    ModelVariant.objects.filter(name="tiny-base").update(system_prompt=None)
    reply = launch(api, staff)
    assert reply.status_code == 202 and reply.json()["system_prompt"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["dpo", "sft", "kto"])
def test_every_training_and_held_out_row_starts_with_the_jobs_system_prompt(tmp_path, preferences, arena_votes, kind):
    spec = DataSpec.from_params({"eval_fraction": 0.3})
    summary = snapshot_write(spec, kind, tmp_path, system_prompt=ITALIAN)
    assert summary["system_prompt"] == ITALIAN
    train = [json.loads(line) for line in (tmp_path / "data/train.jsonl").read_text().splitlines()]
    held_out = [json.loads(line) for line in (tmp_path / "data/eval_pairs.jsonl").read_text().splitlines()]
    assert train and held_out
    for row in train + held_out:
        assert row["prompt"][0] == {"role": "system", "content": ITALIAN} and row["prompt"][1]["role"] == "user"
    plain = snapshot_write(spec, kind, tmp_path / "legacy", system_prompt=None)
    first = json.loads((tmp_path / "legacy/data/train.jsonl").read_text().splitlines()[0])
    assert first["prompt"][0]["role"] == "user" and plain["train_sha256"] != summary["train_sha256"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_trained_variant_is_served_with_its_jobs_prompt_and_the_lineage_says_so(
    api, staff, tiny_variants, tmp_path
):
    from webapp.training.services import training_run

    feedback_import(path=write(tmp_path / "pairs.jsonl", marker_pairs(16, seed=7)))
    reply = launch(api, staff, system_prompt=ITALIAN)
    training_run(reply.json()["id"])
    job = TrainingJob.objects.select_related("variant").get(pk=reply.json()["id"])
    assert job.status == "succeeded", job.error
    variant = job.variant
    assert variant.system_prompt == ITALIAN and variant.lineage["system_prompt"] == ITALIAN
    assert job.data_summary["snapshot"]["system_prompt"] == ITALIAN
    assert variant_ref(variant).system_prompt == ITALIAN
    assert api(staff).get(f"/api/v1/variants/{variant.pk}/").json()["system_prompt"] == ITALIAN
    row = json.loads((Path(settings.MODELS_STORE) / job.folder / "data/train.jsonl").read_text().splitlines()[0])
    ref = variant_ref(variant)
    tokenizer = LocalBackend().tokenizer_for(dataclasses.replace(ref, adapter_path=None))
    trained = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
    served = tokenizer.apply_chat_template(
        with_system_prompt([row["prompt"][1]], ref.system_prompt), add_generation_prompt=True, tokenize=False
    )
    assert trained == served  # the same prompt tokens on both sides
    browser = Client()
    browser.force_login(staff)
    assert ITALIAN in browser.get(f"/models/{variant.pk}/").content.decode()
    assert ITALIAN in browser.get(f"/jobs/{job.pk}/").content.decode()
