"""KTO on a tiny real model: it learns the synthetic signal unpaired (held-out rows whose implicit reward has
the label's sign), its loss weights follow the data's balance as TRL advises, and a batch of one is refused."""

import pytest

from ml.training.config import ConfigError, Hyperparameters, TrainingConfig, check_kind
from ml.training.runner import main
from ml.training.trainers import kto_weights
from tests.training.synthetic import marker_labels, write

FAST = dict(learning_rate=5e-3, batch_size=4, lora_r=8, lora_alpha=16, lora_dropout=0.0, max_length=64, save_steps=10)


def config(tmp_path, tiny_model, train_rows, **hp) -> TrainingConfig:
    return TrainingConfig(
        kind="kto",
        model_path=str(tiny_model),
        train_file=str(write(tmp_path / "train.jsonl", train_rows)),
        eval_file=str(write(tmp_path / "eval.jsonl", marker_labels(40, seed=2))),
        output_dir=str(tmp_path / "run"),
        hp=Hyperparameters.from_dict({**FAST, **hp}),
    )


@pytest.mark.slow
def test_kto_learns_the_signal_the_parent_cannot_tell(tmp_path, tiny_model):
    events = []
    outcome = main(
        config(tmp_path, tiny_model, marker_labels(80, seed=1), max_steps=40), lambda e: events.append(e) or True
    )
    overall = outcome.evaluation["all"]
    assert overall["n"] == 40 and overall["n_desirable"] == overall["n_undesirable"] == 20
    assert overall["reward_accuracy"] >= 0.8, overall  # the implicit reward has the label's sign
    assert overall["parent_accuracy"] == 0.5  # by definition: the parent's reward is 0
    assert overall["reward_desirable"] > 0 > overall["reward_undesirable"]
    assert set(outcome.evaluation) == {"all", "ar", "de", "en", "fr"}
    assert any("kl" in e.metrics for e in events)
    assert len(outcome.eval_logprobs["completion"]) == 40


@pytest.mark.slow
def test_unbalanced_data_trains_with_the_weights_its_balance_asks_for(tmp_path, tiny_model, monkeypatch):
    import trl

    seen = {}
    original = trl.KTOTrainer.__init__

    def spy(self, *args, **kwargs):
        seen["weights"] = (kwargs["args"].desirable_weight, kwargs["args"].undesirable_weight)
        seen["first_labels"] = kwargs["train_dataset"]["label"][:8]
        original(self, *args, **kwargs)

    monkeypatch.setattr(trl.KTOTrainer, "__init__", spy)
    rows = marker_labels(40, seed=1, desirable_every=4)  # 10 desirable, 30 undesirable
    outcome = main(config(tmp_path, tiny_model, rows, max_steps=2), lambda e: True)
    assert not outcome.cancelled
    assert seen["weights"] == kto_weights(10, 30) == (3.5, 1.0)
    assert sum(seen["first_labels"]) not in (0, 8)  # shuffled: the first batches mix the labels


@pytest.mark.parametrize(
    "desirable,undesirable,weights",
    [(50, 50, (1.0, 1.0)), (60, 50, (1.0, 1.0)), (10, 30, (3.5, 1.0)), (300, 100, (1.0, 2.5714)), (7, 0, (1.0, 1.0))],
)
def test_the_weights_put_the_weighted_ratio_inside_trls_advised_range(desirable, undesirable, weights):
    assert kto_weights(desirable, undesirable) == weights
    d, u = weights
    if undesirable:
        assert 1 <= d * desirable / (u * undesirable) <= 4 / 3


def test_kto_needs_a_batch_of_two():
    with pytest.raises(ConfigError) as info:
        check_kind("kto", Hyperparameters.from_dict({"batch_size": 1}))
    assert info.value.field == "batch_size" and "at least 2" in str(info.value)
    check_kind("dpo", Hyperparameters.from_dict({"batch_size": 1}))


@pytest.mark.slow
def test_a_stopped_kto_run_keeps_a_checkpoint_and_resumes_from_it(tmp_path, tiny_model):
    cfg = config(tmp_path, tiny_model, marker_labels(40, seed=1), max_steps=12, save_steps=4)
    stopped = main(cfg, lambda e: e.step < 4)
    assert stopped.cancelled and stopped.step == 4
    resumed = main(cfg, lambda e: True)
    assert resumed.resumed_from == 4 and resumed.step == 12 and not resumed.cancelled
