"""Training throughput: our runner (the code a training job runs) vs a bare TRL script with the same
model, data and settings, and peak memory of DPO vs SFT.

    .venv/bin/python bench/train.py [--quick]

Uses the bundled SmolLM2-135M-Instruct (installed into var/bench/models_store on first use), LoRA
r=16 on the attention projections, batch 2, on the CPU (or CUDA when present). Each measurement runs in
its own process so peak memory (VmHWM) is its own. Seconds per step come from the Trainer's own
train_runtime, so model loading is excluded on both sides; our side includes its callbacks
(progress, metrics, cancel checks) and atomic checkpoints.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = ROOT / "var" / "bench"
os.environ.setdefault("VAR_DIR", str(BENCH))
os.environ.setdefault("MODELS_STORE", str(BENCH / "models_store"))
os.environ["DATABASE_URL"] = f"sqlite:///{BENCH / 'generate.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

from bench.report import write_table  # noqa: E402

HP = {
    "learning_rate": 5e-5,
    "batch_size": 2,
    "lora_r": 16,
    "lora_alpha": 32,
    "max_length": 128,
    "save_steps": 1000,
    "lora_dropout": 0.0,
}


def base_model_path() -> str:
    import django
    from django.core.management import call_command

    BENCH.mkdir(parents=True, exist_ok=True)
    django.setup()
    call_command("migrate", verbosity=0)
    from webapp.modelstore.services import base_install, variant_ref

    variant, _ = base_install()
    return variant_ref(variant).model_path


def write_data(n: int) -> dict[str, Path]:
    from tests.training.synthetic import marker_pairs, write

    rows = marker_pairs(n, seed=11)
    sft = [{"prompt": r["prompt"], "completion": r["chosen"], "language": r["language"], "id": r["id"]} for r in rows]
    return {"dpo": write(BENCH / "train-dpo.jsonl", rows), "sft": write(BENCH / "train-sft.jsonl", sft)}


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(mode: str, model: str, data: str, steps: int) -> dict:
    side, kind = mode.split("-")
    out = BENCH / f"run-{mode}"
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    if side == "ours":
        from ml.training.config import Hyperparameters, TrainingConfig
        from ml.training.runner import main

        config = TrainingConfig(
            kind=kind,
            model_path=model,
            train_file=data,
            output_dir=str(out),
            hp=Hyperparameters.from_dict({**HP, "max_steps": steps}),
        )
        outcome = main(config, lambda event: True)
        runtime, tokens = outcome.train_runtime, outcome.tokens_seen
    else:
        runtime, tokens = bare_trl(kind, model, data, steps, out)
    return {"s_per_step": runtime / steps, "tokens_per_s": tokens / runtime, "peak_mib": peak_mib()}


def bare_trl(kind: str, model_path: str, data: str, steps: int, out: Path) -> tuple[float, int]:
    """What a user would write with TRL alone: same model, data, LoRA and settings."""
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    dataset = load_dataset("json", data_files=data, split="train")
    lora = LoraConfig(
        r=16,
        lora_alpha=32,
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )
    common = dict(
        output_dir=str(out),
        per_device_train_batch_size=2,
        learning_rate=5e-5,
        max_steps=steps,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=True,
        max_length=128,
        include_num_input_tokens_seen=True,
        disable_tqdm=True,
        seed=42,
    )
    if kind == "dpo":
        from trl import DPOConfig, DPOTrainer

        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(**common, beta=0.1),
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora,
        )
    else:
        from trl import SFTConfig, SFTTrainer

        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(**common, completion_only_loss=True),
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora,
        )
    result = trainer.train()
    return result.metrics["train_runtime"], int(trainer.state.num_input_tokens_seen)


def measure(mode: str, model: str, data: Path, steps: int) -> dict:
    reply = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--model", model, "--data", str(data), "--steps", str(steps)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if reply.returncode:
        raise SystemExit(f"{mode} failed:\n{reply.stderr[-3000:]}")
    result = json.loads(reply.stdout.strip().splitlines()[-1])
    print(f"{mode}: {result}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--model")
    parser.add_argument("--data")
    parser.add_argument("--steps", type=int)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model, args.data, args.steps)))
        return
    model = base_model_path()
    steps = 4 if args.quick else 30
    data = write_data(64)
    r = {
        mode: measure(mode, model, data[mode.split("-")[1]], steps)
        for mode in ("bare-dpo", "ours-dpo", "bare-sft", "ours-sft")
    }
    rows = [
        ("DPO seconds/step (lower is better)", r["ours-dpo"]["s_per_step"], r["bare-dpo"]["s_per_step"]),
        ("DPO tokens/s", r["ours-dpo"]["tokens_per_s"], r["bare-dpo"]["tokens_per_s"]),
        ("SFT seconds/step (lower is better)", r["ours-sft"]["s_per_step"], r["bare-sft"]["s_per_step"]),
        ("SFT tokens/s", r["ours-sft"]["tokens_per_s"], r["bare-sft"]["tokens_per_s"]),
        ("peak RSS MiB, ours: DPO vs baseline: SFT", r["ours-dpo"]["peak_mib"], r["ours-sft"]["peak_mib"]),
    ]
    title = (
        f"`bench/train.py`: SmolLM2-135M-Instruct, LoRA r=16 (q,k,v,o), batch 2, max_length 128, {steps} steps, "
        f"CPU, {os.cpu_count()} cores. Baseline: the same run written with TRL alone."
    )
    write_table(title, rows, BENCH / "train.md")


if __name__ == "__main__":
    main()
