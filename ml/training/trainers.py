"""The trainers: one entry per training kind (dpo, sft; KTO and others register the same way), each
saying which snapshot rows it learns from and how it builds its TRL config and trainer. The runner
(`ml.training.runner`) and the web side (job validation, the API's choices, the snapshot writer)
read this registry, so adding a kind touches neither. TRL is imported inside the builders, so
importing this module is cheap (web processes do)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trainer:
    kind: str
    rows: str  # the snapshot rows it trains on: "dpo" (prompt, chosen, rejected) or "sft" (prompt, completion)
    description: str
    config: Callable[[dict[str, Any], Any], Any]  # (common TrainingArguments kwargs, Hyperparameters) -> TRL config
    trainer: Callable[
        ..., Any
    ]  # TRL trainer class, called with model, args, train_dataset, processing_class, peft_config


_TRAINERS: dict[str, Trainer] = {}


def register(trainer: Trainer) -> Trainer:
    if trainer.kind in _TRAINERS:
        raise ValueError(f"trainer {trainer.kind!r} is registered already")
    _TRAINERS[trainer.kind] = trainer
    return trainer


def kinds() -> tuple[str, ...]:
    return tuple(_TRAINERS)


def trainer_for(kind: str) -> Trainer:
    """The registered trainer; KeyError for an unknown kind (configs validate before this)."""
    return _TRAINERS[kind]


def _dpo_config(common: dict[str, Any], hp: Any) -> Any:
    from trl import DPOConfig

    # sft_weight > 0 adds TRL's "sft" loss (negative log-likelihood of the chosen answer) beside the preference
    # loss, as RPO does: it keeps the chosen answers likely, which curbs the repetition DPO alone brings on.
    if hp.sft_weight:
        return DPOConfig(**common, beta=hp.beta, loss_type=[hp.loss_type, "sft"], loss_weights=[1.0, hp.sft_weight])
    return DPOConfig(**common, beta=hp.beta, loss_type=[hp.loss_type])


def _dpo_trainer(**kwargs: Any) -> Any:
    from trl import DPOTrainer

    return DPOTrainer(**kwargs)


def _sft_config(common: dict[str, Any], hp: Any) -> Any:
    from trl import SFTConfig

    return SFTConfig(**common, completion_only_loss=True)


def _sft_trainer(**kwargs: Any) -> Any:
    from trl import SFTTrainer

    return SFTTrainer(**kwargs)


register(Trainer("dpo", "dpo", "Direct preference optimisation on chosen/rejected pairs", _dpo_config, _dpo_trainer))
register(Trainer("sft", "sft", "Supervised fine-tuning on the best response of each task", _sft_config, _sft_trainer))
