"""Run one DPO, SFT or KTO training with a LoRA adapter, resumable from its last checkpoint.

    python -m ml.training.runner --kind dpo --model models_store/base/smollm2-135m-instruct \
        --train var/jobs/1/train.jsonl --eval var/jobs/1/eval_pairs.jsonl --out var/jobs/1 --max-steps 20

`main(config, on_progress, should_stop)` is what the Celery task calls; `on_progress(event)` gets every
step, every logged metric and the resume point, and returns False to ask for a stop (a checkpoint is
saved first). `should_stop()` is asked between the phases before training (model load, dataset load,
trainer set-up), at every step, and between evaluation batches, so a cancel never waits for a phase
to end; a stop before the first step or during evaluation leaves the checkpoints as they were.
No second model copy is made for the DPO reference: TRL switches the adapter off instead."""

import argparse
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.llm.files import write_folder_atomically
from ml.llm.loading import Device, best_device
from ml.training import checkpoints
from ml.training.config import Hyperparameters, TrainingConfig
from ml.training.evaluate import Stopped, evaluate_pairs, evaluate_unpaired, never
from ml.training.trainers import kinds, trainer_for

METRIC_KEYS = (
    "loss",
    "rewards/margins",
    "rewards/accuracies",
    "rewards/chosen",
    "rewards/rejected",
    "learning_rate",
    "grad_norm",
    "mean_token_accuracy",
    "entropy",
    "kl",
)
# The held-out evaluation of each trainer's `eval_rows` (ml/training/evaluate.py).
EVALUATORS = {"dpo": evaluate_pairs, "kto": evaluate_unpaired}


@dataclass
class Event:
    step: int
    total: int
    metrics: dict[str, float] = field(default_factory=dict)
    resumed_from: int | None = None
    message: str = ""


@dataclass
class Outcome:
    cancelled: bool
    step: int
    resumed_from: int
    adapter_path: str = ""
    evaluation: dict[str, Any] = field(default_factory=dict)
    eval_logprobs: dict[str, Any] = field(default_factory=dict)
    train_runtime: float = 0.0
    tokens_seen: int = 0
    phase: str = ""  # where a cancelled run stopped: "loading", "training" or "evaluation"


def main(
    config: TrainingConfig,
    on_progress: Callable[[Event], bool] = lambda event: True,
    should_stop: Callable[[], bool] = never,
) -> Outcome:
    from transformers import TrainerCallback

    out = Path(config.output_dir)
    staging, ckpts = out / "staging", out / "checkpoints"
    shutil.rmtree(staging, ignore_errors=True)  # half-written saves of a run that died
    resume = checkpoints.latest(ckpts)
    resumed_from = int(resume.name.split("-")[1]) if resume else 0

    def check() -> None:  # every process calls it at the same points, and they agree
        if _all_agree(should_stop()):
            raise Stopped()

    try:
        check()
        model, tokenizer, trainer = _build(config, staging, check)
    except Stopped:
        return Outcome(cancelled=True, step=resumed_from, resumed_from=resumed_from, phase="loading")

    class Reporter(TrainerCallback):
        cancelled = False

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                on_progress(
                    Event(
                        state.global_step,
                        state.max_steps,
                        resumed_from=resumed_from,
                        message=f"resuming from step {resumed_from}" if resumed_from else "starting",
                    )
                )

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
        ) -> None:
            metrics = {k: float(v) for k, v in (logs or {}).items() if k in METRIC_KEYS}
            if metrics and state.is_world_process_zero:
                on_progress(Event(state.global_step, state.max_steps, metrics=metrics))

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            stop = state.is_world_process_zero and (
                not on_progress(Event(state.global_step, state.max_steps)) or should_stop()
            )
            if _all_agree(stop):  # every process must stop at the same step, or collectives hang
                self.cancelled = control.should_save = control.should_training_stop = True

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            _barrier()  # every process has written its part (e.g. its RNG state) before the rename
            if state.is_world_process_zero:
                checkpoints.promote(staging, ckpts, state.global_step)
            _barrier()

    reporter = Reporter()
    trainer.add_callback(reporter)
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    step = trainer.state.global_step
    if reporter.cancelled or not trainer.is_world_process_zero():
        return Outcome(cancelled=reporter.cancelled, step=step, resumed_from=resumed_from, phase="training")
    adapter = write_folder_atomically(out / "adapter", lambda tmp: _save_adapter(trainer, tokenizer, tmp))
    on_progress(Event(step, step, message="evaluating on the held-out split"))
    try:  # process zero alone evaluates, so it decides alone
        evaluate = EVALUATORS[trainer_for(config.kind).eval_rows]
        evaluation, logprobs = evaluate(
            trainer.model, tokenizer, _rows(config.eval_file), config.hp.beta, should_stop=should_stop
        )
    except Stopped:
        return Outcome(cancelled=True, step=step, resumed_from=resumed_from, phase="evaluation")
    return Outcome(
        cancelled=False,
        step=step,
        resumed_from=resumed_from,
        adapter_path=str(adapter),
        evaluation=evaluation,
        eval_logprobs=logprobs,
        train_runtime=float(result.metrics.get("train_runtime", 0.0)),
        tokens_seen=int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0),
    )


def _distributed() -> bool:
    import torch.distributed as dist

    return bool(dist.is_available() and dist.is_initialized())


def _all_agree(flag: bool) -> bool:
    """Process zero's decision, shared with every process."""
    if not _distributed():
        return flag
    import torch
    import torch.distributed as dist

    decision = torch.tensor([1 if flag else 0])
    dist.broadcast(decision, src=0)
    return bool(decision.item())


def _barrier() -> None:
    if _distributed():
        import torch.distributed as dist

        dist.barrier()


def _save_adapter(trainer: Any, tokenizer: Any, folder: Path) -> None:
    trainer.model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _rows(path: str) -> list[dict[str, Any]]:
    if not path or not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _build(config: TrainingConfig, staging: Path, check: Callable[[], None]) -> tuple[Any, Any, Any]:
    """Load the tokenizer, the model and the data, and set the trainer up (TRL tokenizes the dataset
    here); `check()` between the steps raises Stopped when a stop was asked for."""
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = best_device()
    hp = config.hp
    tokenizer = AutoTokenizer.from_pretrained(config.model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    check()
    model = AutoModelForCausalLM.from_pretrained(config.model_path, use_safetensors=True, dtype=device.dtype)
    check()
    train = load_dataset("json", data_files=config.train_file, split="train")
    check()
    lora = LoraConfig(
        r=hp.lora_r,
        lora_alpha=hp.lora_alpha,
        lora_dropout=hp.lora_dropout,
        target_modules=hp.lora_targets,
        task_type="CAUSAL_LM",
    )
    args = _trainer_args(config, staging, device)
    build = trainer_for(config.kind).trainer
    trainer = build(model=model, args=args, train_dataset=train, processing_class=tokenizer, peft_config=lora)
    check()
    return model, tokenizer, trainer


def _trainer_args(config: TrainingConfig, staging: Path, device: Device) -> Any:
    """TRL configs default to bf16 and gradient checkpointing: both are set explicitly per device."""
    hp = config.hp
    common = dict(
        output_dir=str(staging),
        per_device_train_batch_size=hp.batch_size,
        gradient_accumulation_steps=hp.gradient_accumulation,
        learning_rate=hp.learning_rate,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps or -1,
        logging_steps=hp.logging_steps,
        save_strategy="steps",
        save_steps=hp.save_steps,
        save_total_limit=None,
        report_to=[],
        seed=hp.seed,
        bf16=device.dtype_name == "bfloat16",
        fp16=device.dtype_name == "float16",
        gradient_checkpointing=False,
        use_cpu=device.name == "cpu",
        max_length=hp.max_length,
        dataloader_num_workers=0,
        include_num_input_tokens_seen=True,
        disable_tqdm=True,
    )
    return trainer_for(config.kind).config(common, hp)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=kinds(), required=True)
    parser.add_argument("--model", required=True, help="parent full-model folder (safetensors)")
    parser.add_argument("--train", required=True, help="JSON Lines: TRL conversational dpo, sft or kto rows")
    parser.add_argument("--eval", default="", help="JSON Lines of held-out rows: dpo pairs (kto rows for kto)")
    parser.add_argument("--out", required=True, help="folder for checkpoints and the adapter")
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--hp", default="{}", help="JSON object of Hyperparameters fields")
    a = parser.parse_args()
    hp = Hyperparameters.from_dict({**json.loads(a.hp), **({"max_steps": a.max_steps} if a.max_steps else {})})
    config = TrainingConfig(
        kind=a.kind, model_path=a.model, train_file=a.train, eval_file=a.eval, output_dir=a.out, hp=hp
    )

    def show(event: Event) -> bool:
        print(json.dumps({"step": event.step, "total": event.total, **event.metrics, "message": event.message}))
        return True

    outcome = main(config, show)
    print(json.dumps({"adapter": outcome.adapter_path, "evaluation": outcome.evaluation.get("all", {})}))


if __name__ == "__main__":
    cli()
