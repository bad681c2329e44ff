"""The Django-free runner on a tiny real model: DPO learns a learnable preference, SFT runs, a stop
request keeps a checkpoint and a rerun resumes from it, and the saved adapter reproduces the trained
model's log-probabilities."""

import json
from pathlib import Path

import pytest

from ml.training import checkpoints
from ml.training.config import ConfigError, Hyperparameters, TrainingConfig
from ml.training.evaluate import pair_logprobs
from ml.training.runner import main
from tests.training.synthetic import marker_pairs, write

pytestmark = pytest.mark.slow

FAST = dict(
    learning_rate=5e-3, batch_size=4, lora_r=8, lora_alpha=16, lora_dropout=0.0, max_length=64, save_steps=10, beta=0.1
)


def config(tmp_path, tiny_model, kind="dpo", **hp):
    train = write(tmp_path / "train.jsonl", marker_pairs(80, seed=1))
    held_out = write(tmp_path / "eval.jsonl", marker_pairs(40, seed=2))
    if kind == "sft":
        rows = [json.loads(line) for line in train.read_text().splitlines()]
        write(
            train,
            [
                {"prompt": r["prompt"], "completion": r["chosen"], "language": r["language"], "id": r["id"]}
                for r in rows
            ],
        )
    return TrainingConfig(
        kind=kind,
        model_path=str(tiny_model),
        train_file=str(train),
        eval_file=str(held_out),
        output_dir=str(tmp_path / "run"),
        hp=Hyperparameters.from_dict({**FAST, **hp}),
    )


def test_dpo_learns_a_learnable_preference_and_the_saved_adapter_reproduces_it(tmp_path, tiny_model):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    events = []
    outcome = main(config(tmp_path, tiny_model, max_steps=40), lambda e: events.append(e) or True)
    overall = outcome.evaluation["all"]
    assert overall["n"] == 40 and overall["accuracy"] >= 0.9, overall
    assert 0.2 <= overall["parent_accuracy"] <= 0.8, overall  # the parent is near chance
    assert overall["reward_accuracy"] >= 0.9 and overall["reward_margin"] > 0
    assert overall["accuracy_per_token"] >= 0.9 and 0 <= overall["parent_accuracy_per_token"] <= 1
    assert set(outcome.evaluation) == {"all", "ar", "de", "en", "fr"}
    assert any("rewards/margins" in e.metrics for e in events)
    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), outcome.adapter_path)
    tokenizer = AutoTokenizer.from_pretrained(outcome.adapter_path)
    chosen, rejected = pair_logprobs(reloaded.eval(), tokenizer, marker_pairs(40, seed=2))
    assert chosen == pytest.approx(outcome.eval_logprobs["chosen"], abs=1e-3)
    assert rejected == pytest.approx(outcome.eval_logprobs["rejected"], abs=1e-3)


def test_an_sft_weight_adds_the_chosen_answers_nll_to_dpo_and_still_learns(tmp_path, tiny_model):
    from ml.training.trainers import trainer_for

    common = {"output_dir": str(tmp_path / "args"), "report_to": [], "use_cpu": True, "bf16": False}
    built = trainer_for("dpo").config(common, Hyperparameters.from_dict({**FAST, "sft_weight": 0.5}))
    assert list(built.loss_type) == ["sigmoid", "sft"] and list(built.loss_weights) == [1.0, 0.5]
    assert list(trainer_for("dpo").config(common, Hyperparameters()).loss_type) == ["sigmoid"]
    events = []
    outcome = main(config(tmp_path, tiny_model, max_steps=40, sft_weight=0.5), lambda e: events.append(e) or True)
    assert outcome.evaluation["all"]["accuracy"] >= 0.9, outcome.evaluation["all"]
    assert any("rewards/margins" in e.metrics for e in events)


def test_sft_trains_on_completions(tmp_path, tiny_model):
    outcome = main(config(tmp_path, tiny_model, kind="sft", max_steps=6), lambda e: True)
    assert outcome.step == 6 and not outcome.cancelled
    assert outcome.evaluation["all"]["n"] == 40


def test_a_stop_request_keeps_a_checkpoint_and_the_next_run_resumes_from_it(tmp_path, tiny_model):
    cfg = config(tmp_path, tiny_model, max_steps=30)
    stopped = main(cfg, lambda e: e.step < 12)
    assert stopped.cancelled and stopped.step == 12
    assert checkpoints.completed(tmp_path / "run" / "checkpoints")[-1] == 12
    steps = []
    resumed = main(cfg, lambda e: steps.append((e.step, e.resumed_from)) or True)
    assert resumed.resumed_from == 12 and resumed.step == 30 and not resumed.cancelled
    assert min(step for step, _ in steps) >= 12


@pytest.mark.parametrize(
    "bad,field",
    [
        ({"learning_rate": 0}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"loss_type": "magic"}, "loss_type"),
        ({"sft_weight": -0.5}, "sft_weight"),
        ({"sft_weight": True}, "sft_weight"),
        ({"lora_targets": []}, "lora_targets"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_hyperparameters_name_their_field(bad, field):
    with pytest.raises(ConfigError) as info:
        Hyperparameters.from_dict(bad)
    assert info.value.field == field


def test_the_torchrun_launch_path_reports_events_stops_and_resumes(tmp_path, tiny_model):
    """The multi-GPU path, exercised with one CPU process under torchrun (gloo): events cross the
    process boundary, a stop request is shared through process zero, and the rerun resumes."""
    from ml.training.launch import run_distributed

    cfg = config(tmp_path, tiny_model, max_steps=12, save_steps=4)
    events = []
    stopped = run_distributed(cfg, lambda e: events.append(e) or e.step < 6, processes=1)
    # The request crosses a process boundary, so the run stops at the next step it sees it.
    assert stopped.cancelled and 6 <= stopped.step <= 8 and any(e.metrics for e in events)
    done = run_distributed(cfg, lambda e: True, processes=1)
    assert done.resumed_from == stopped.step and done.step == 12 and not done.cancelled
    assert done.evaluation["all"]["n"] == 40 and Path(done.adapter_path).is_dir()


def test_a_stop_asked_while_loading_or_evaluating_ends_the_run_there(tmp_path, tiny_model):
    (tmp_path / "a").mkdir()
    loading = main(config(tmp_path / "a", tiny_model, max_steps=4), should_stop=lambda: True)
    assert (loading.cancelled, loading.phase, loading.step) == (True, "loading", 0)
    assert not checkpoints.completed(tmp_path / "a" / "run" / "checkpoints")

    (tmp_path / "b").mkdir()
    evaluating = []

    def on_progress(event) -> bool:
        evaluating.extend([event] if event.message.startswith("evaluating") else [])
        return True

    outcome = main(config(tmp_path / "b", tiny_model, max_steps=2), on_progress, should_stop=lambda: bool(evaluating))
    assert (outcome.cancelled, outcome.phase, outcome.step, outcome.evaluation) == (True, "evaluation", 2, {})
