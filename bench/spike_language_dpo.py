"""The proof issue's spike: does one small DPO run on on-policy samples make the bundled SmolLM2-135M
answer in the prompt's language more often, without more degenerate or echoing answers?

No language instruction anywhere (the system prompt is the default SYSTEM_PROMPT). For each training
prompt it samples answers at temperature 0.8, labels them with the shared measures (ml/evaluation), and
pairs an in-language answer (chosen) with one in another language (rejected); then it trains one DPO
LoRA with the runner and compares parent and child greedily on the held-out prompts, per language, with
the exact McNemar test, Newcombe's paired interval and the degenerate and echo shares.

    .venv/bin/python bench/spike_language_dpo.py --languages de it nl fr --train 12 --heldout 12 \
        --samples 6 --steps 60 --learning-rate 2e-4 [--clean-chosen]

`--clean-chosen` keeps only non-degenerate, non-echo answers as chosen and puts degenerate or echo
answers among the rejected ones (what the language-fidelity judge does). Prompts come from
webapp/proof/prompts/ (split train / heldout). Work files go to --out (default var/spike)."""

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.evaluation.language import in_language  # noqa: E402
from ml.evaluation.repetition import degenerate, echo  # noqa: E402
from ml.evaluation.stats import mcnemar_exact, paired_difference  # noqa: E402
from ml.llm.params import GenerationParams, VariantRef  # noqa: E402

PROMPTS = ROOT / "webapp" / "proof" / "prompts"
SYSTEM_PROMPT = "You are a helpful assistant."


def prompts(language: str, split: str, limit: int) -> list[str]:
    rows = [json.loads(line) for line in (PROMPTS / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["prompt"] for r in rows if r["split"] == split][:limit]


def label(text: str, prompt: str, language: str, tokenizer, limit: int) -> dict:
    return {
        "hit": bool(in_language(text, language)),
        "degenerate": degenerate(text, tokenizer, max_new_tokens=limit),
        "echo": echo(text, prompt, tokenizer),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="", help="base model folder (default: convert the bundled SmolLM2)")
    parser.add_argument("--languages", nargs="+", default=["de", "it", "nl", "fr"])
    parser.add_argument("--train", type=int, default=12, help="training prompts per language")
    parser.add_argument("--heldout", type=int, default=12, help="held-out prompts per language")
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--max-new-tokens", type=int, default=64, help="for the evaluation (samples: 96)")
    parser.add_argument("--clean-chosen", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "var" / "spike"))
    a = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    from ml.llm.inference import LocalBackend
    from ml.training.config import Hyperparameters, TrainingConfig
    from ml.training.runner import main as train

    torch.set_num_threads(2)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = a.model
    if not model:
        from ml.llm.install import bundled_gguf, convert_gguf

        model = str(out / "base")
        if not (out / "base" / "config.json").is_file():
            convert_gguf(bundled_gguf(), Path(model))
    tokenizer = AutoTokenizer.from_pretrained(model)
    backend = LocalBackend()
    base = VariantRef("base", model, system_prompt=SYSTEM_PROMPT)
    started = time.time()

    def user(text: str) -> list[dict]:
        return [{"role": "user", "content": text}]

    pairs, rng = [], random.Random(1)
    for language in a.languages:
        texts = prompts(language, "train", a.train)
        answers: list[list[str]] = [[] for _ in texts]
        for sample in range(a.samples):
            params = GenerationParams(max_new_tokens=96, temperature=0.8, top_p=0.95, seed=100 + sample)
            for i, answer in enumerate(backend.generate_batch(base, [user(t) for t in texts], params)):
                answers[i].append(answer)
        for prompt, sampled in zip(texts, answers, strict=True):
            labelled = [(s, label(s, prompt, language, tokenizer, 96)) for s in sampled]
            clean = [s for s, m in labelled if m["hit"] and not (m["degenerate"] or m["echo"])]
            good = clean if a.clean_chosen else [s for s, m in labelled if m["hit"] and len(s) > 20]
            bad = [s for s, m in labelled if not m["hit"] or (a.clean_chosen and (m["degenerate"] or m["echo"]))]
            rng.shuffle(bad)
            for chosen, rejected in list(zip(good, bad, strict=False))[:3]:
                pairs.append(
                    {
                        "prompt": [{"role": "system", "content": SYSTEM_PROMPT}, *user(prompt)],
                        "chosen": [{"role": "assistant", "content": chosen}],
                        "rejected": [{"role": "assistant", "content": rejected}],
                        "language": language,
                    }
                )
    (out / "train.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs))
    print(f"pairs: {len(pairs)} in {time.time() - started:.0f} s", flush=True)

    def evaluate(ref: VariantRef) -> dict[str, list[dict]]:
        params = GenerationParams(max_new_tokens=a.max_new_tokens)
        result = {}
        for language in a.languages:
            texts = prompts(language, "heldout", a.heldout)
            answers = backend.generate_batch(ref, [user(t) for t in texts], params)
            result[language] = [
                label(s, t, language, tokenizer, a.max_new_tokens) for s, t in zip(answers, texts, strict=True)
            ]
        return result

    parent = evaluate(base)
    shutil.rmtree(out / "job", ignore_errors=True)
    hp = Hyperparameters(
        learning_rate=a.learning_rate, max_steps=a.steps, batch_size=4, max_length=256, save_steps=10_000
    )
    outcome = train(
        TrainingConfig(
            kind="dpo", model_path=model, train_file=str(out / "train.jsonl"), output_dir=str(out / "job"), hp=hp
        )
    )
    child = evaluate(VariantRef("child", model, outcome.adapter_path, system_prompt=SYSTEM_PROMPT))
    print("language  n  parent  child  parent-only  child-only  McNemar p  degenerate p/c  echo p/c")
    for language in a.languages:
        p, c = parent[language], child[language]
        only_p = sum(x["hit"] and not y["hit"] for x, y in zip(p, c, strict=True))
        only_c = sum(y["hit"] and not x["hit"] for x, y in zip(p, c, strict=True))
        print(
            f"{language:8} {len(p):2} {sum(x['hit'] for x in p):7} {sum(y['hit'] for y in c):6} {only_p:12} {only_c:11}"
            f" {mcnemar_exact(only_p, only_c):10.4f}"
            f" {sum(x['degenerate'] for x in p):7}/{sum(y['degenerate'] for y in c)}"
            f" {sum(x['echo'] for x in p):6}/{sum(y['echo'] for y in c)}"
        )
    pooled = paired_difference(
        [y["hit"] for lang in a.languages for y in child[lang]],
        [x["hit"] for lang in a.languages for x in parent[lang]],
    )
    print(f"pooled child - parent: {pooled.estimate:+.3f} [{pooled.ci_low:+.3f}, {pooled.ci_high:+.3f}]")
    print(f"total: {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
