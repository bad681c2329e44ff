"""The trainers: one entry per training kind (dpo, sft, kto; others register the same way), each
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
    # The snapshot rows it trains on: "dpo" (prompt, chosen, rejected), "sft" (prompt, completion) or "kto"
    # (prompt, completion, label).
    rows: str
    description: str
    config: Callable[[dict[str, Any], Any], Any]  # (common TrainingArguments kwargs, Hyperparameters) -> TRL config
    trainer: Callable[
        ..., Any
    ]  # TRL trainer class, called with model, args, train_dataset, processing_class, peft_config
    # The held-out rows it is evaluated on (ml.training.evaluate): "dpo" pairs, or "kto" labelled rows.
    eval_rows: str = "dpo"
    min_batch_size: int = 1  # KTO estimates its KL term from the other rows of a batch: at least 2


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


def kto_weights(n_desirable: int, n_undesirable: int) -> tuple[float, float]:
    """(desirable_weight, undesirable_weight) from the data's balance, as TRL's KTO docs advise: the weighted
    ratio desirable_weight * n_desirable / (undesirable_weight * n_undesirable) should lie in [1, 4/3]. Both stay
    1 when the counts already do; otherwise the lighter side is weighted up (the other stays 1) to the range's
    middle, 7/6, which no rounding pushes out of it. With one side empty there is nothing to balance: (1, 1)."""
    if not n_desirable or not n_undesirable or 1 <= n_desirable / n_undesirable <= 4 / 3:
        return 1.0, 1.0
    target = 7 / 6
    if n_desirable < n_undesirable:
        return round(target * n_undesirable / n_desirable, 4), 1.0
    return 1.0, round(n_desirable / (target * n_undesirable), 4)


def _kto_config(common: dict[str, Any], hp: Any) -> Any:
    from trl import KTOConfig

    # The weights are set from the training rows when the trainer is built (_kto_trainer).
    return KTOConfig(**common, beta=hp.beta)


def _kto_trainer(**kwargs: Any) -> Any:
    """TRL's KTO reads its batches in order (its KL estimate pairs each row with a neighbour's completion), so
    the rows are shuffled once with the run's seed (the same order on a resume) so that batches mix labels;
    the loss weights come from the rows' balance (kto_weights)."""
    from trl import KTOTrainer

    args, train = kwargs["args"], kwargs["train_dataset"].shuffle(seed=kwargs["args"].seed)
    labels = train["label"]
    n_desirable = sum(bool(label) for label in labels)
    args.desirable_weight, args.undesirable_weight = kto_weights(n_desirable, len(labels) - n_desirable)
    return KTOTrainer(**{**kwargs, "train_dataset": train})


register(Trainer("dpo", "dpo", "Direct preference optimisation on chosen/rejected pairs", _dpo_config, _dpo_trainer))
register(Trainer("sft", "sft", "Supervised fine-tuning on the best response of each task", _sft_config, _sft_trainer))
register(
    Trainer(
        "kto",
        "kto",
        "Kahneman-Tversky optimisation on answers labelled desirable or undesirable (unpaired)",
        _kto_config,
        _kto_trainer,
        eval_rows="kto",
        min_batch_size=2,
    )
)
