"""The training configuration: typed, validated, with the defaults a small LoRA run wants."""

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ml.training.trainers import kinds

DPO_LOSSES = ("sigmoid", "ipo", "hinge", "robust", "sppo_hard", "apo_zero", "apo_down")


# What a setting must be, per rule: the English wording here; `ConfigError.rule` and `.params` let a caller
# word it otherwise (the web layer translates it into the interface language).
RULES = {
    "interval": "in {interval}",
    "range": "{low}..{high}",
    "choice": "one of {choices}",
    "integer": "an integer",
    "at_least": "at least {low}",
    "names": "a non-empty list of module names",
}


class ConfigError(ValueError):
    """A setting that cannot work; `field` names it. `rule` (a key of RULES, "unknown" for an unknown
    setting, "" otherwise) and `params` (what the rule needs, `value` the refused value's repr, `known`
    the known settings) say why in data, for callers that word the message themselves."""

    def __init__(self, field_name: str, message: str, *, rule: str = "", params: dict[str, str] | None = None):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message
        self.rule = rule
        self.params = dict(params or {})

    @classmethod
    def broken(cls, field_name: str, rule: str, value: object, **params: str) -> "ConfigError":
        """The field's value breaks `rule` (a key of RULES)."""
        expected = RULES[rule].format(**params)
        return cls(
            field_name, f"must be {expected} (got {value!r})", rule=rule, params={**params, "value": repr(value)}
        )


@dataclass
class Hyperparameters:
    learning_rate: float = field(default=5e-5, metadata={"help": "AdamW learning rate"})
    epochs: float = field(default=1.0, metadata={"help": "passes over the data (ignored when max_steps > 0)"})
    max_steps: int = field(default=0, metadata={"help": "stop after this many optimizer steps (0: use epochs)"})
    batch_size: int = field(default=2, metadata={"help": "examples per device per step"})
    gradient_accumulation: int = field(default=1, metadata={"help": "steps accumulated per optimizer step"})
    max_length: int = field(default=512, metadata={"help": "longest tokenized prompt + completion"})
    beta: float = field(default=0.1, metadata={"help": "DPO: strength of the KL anchor to the parent"})
    loss_type: str = field(default="sigmoid", metadata={"help": f"DPO loss: one of {', '.join(DPO_LOSSES)}"})
    sft_weight: float = field(
        default=0.0,
        metadata={"help": "DPO: weight of an added SFT loss on the chosen answers (RPO; 0: none)"},
    )
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling"})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    lora_targets: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        metadata={"help": "module names that get adapters"},
    )
    seed: int = field(default=42, metadata={"help": "random seed"})
    save_steps: int = field(default=25, metadata={"help": "checkpoint every N steps"})
    logging_steps: int = field(default=1, metadata={"help": "report metrics every N steps"})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Hyperparameters":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            names = ", ".join(sorted(known))
            raise ConfigError(unknown[0], f"unknown setting; known: {names}", rule="unknown", params={"known": names})
        try:
            hp = cls(**values)
        except TypeError as exc:
            raise ConfigError("hyperparameters", str(exc)) from None
        hp.check()
        return hp

    def check(self) -> None:
        # (field, passes, rule, the rule's parameters)
        rules: list[tuple[str, object, str, dict[str, str]]] = [
            (
                "learning_rate",
                isinstance(self.learning_rate, int | float) and 0 < self.learning_rate <= 1,
                "interval",
                {"interval": "(0, 1]"},
            ),
            (
                "epochs",
                isinstance(self.epochs, int | float) and 0 < self.epochs <= 100,
                "interval",
                {"interval": "(0, 100]"},
            ),
            (
                "max_steps",
                _int(self.max_steps) and 0 <= self.max_steps <= 1_000_000,
                "range",
                {"low": "0", "high": "1,000,000"},
            ),
            ("batch_size", _int(self.batch_size) and 1 <= self.batch_size <= 256, "range", {"low": "1", "high": "256"}),
            (
                "gradient_accumulation",
                _int(self.gradient_accumulation) and 1 <= self.gradient_accumulation <= 256,
                "range",
                {"low": "1", "high": "256"},
            ),
            (
                "max_length",
                _int(self.max_length) and 16 <= self.max_length <= 32768,
                "range",
                {"low": "16", "high": "32768"},
            ),
            ("beta", isinstance(self.beta, int | float) and 0 < self.beta <= 10, "interval", {"interval": "(0, 10]"}),
            ("loss_type", self.loss_type in DPO_LOSSES, "choice", {"choices": ", ".join(DPO_LOSSES)}),
            (
                "sft_weight",
                isinstance(self.sft_weight, int | float)
                and not isinstance(self.sft_weight, bool)
                and 0 <= self.sft_weight <= 10,
                "interval",
                {"interval": "[0, 10]"},
            ),
            ("lora_r", _int(self.lora_r) and 1 <= self.lora_r <= 512, "range", {"low": "1", "high": "512"}),
            (
                "lora_alpha",
                _int(self.lora_alpha) and 1 <= self.lora_alpha <= 4096,
                "range",
                {"low": "1", "high": "4096"},
            ),
            (
                "lora_dropout",
                isinstance(self.lora_dropout, int | float) and 0 <= self.lora_dropout < 1,
                "interval",
                {"interval": "[0, 1)"},
            ),
            (
                "lora_targets",
                isinstance(self.lora_targets, list)
                and self.lora_targets
                and all(isinstance(t, str) and t for t in self.lora_targets),
                "names",
                {},
            ),
            ("seed", _int(self.seed), "integer", {}),
            ("save_steps", _int(self.save_steps) and 1 <= self.save_steps, "at_least", {"low": "1"}),
            ("logging_steps", _int(self.logging_steps) and 1 <= self.logging_steps, "at_least", {"low": "1"}),
        ]
        for name, ok, rule, params in rules:
            if not ok:
                raise ConfigError.broken(name, rule, getattr(self, name), **params)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class TrainingConfig:
    kind: str
    model_path: str  # the parent's full-model folder
    train_file: str  # JSON Lines in TRL's conversational dpo or sft (prompt/completion) form
    output_dir: str  # checkpoints/, staging/ and adapter/ go here
    eval_file: str = ""
    hp: Hyperparameters = field(default_factory=Hyperparameters)

    def __post_init__(self) -> None:
        if self.kind not in kinds():
            raise ConfigError.broken("kind", "choice", self.kind, choices=", ".join(kinds()))
