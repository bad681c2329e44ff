"""Generation throughput: our task path vs a bare `model.generate` loop, and batched vs one by one.

    .venv/bin/python bench/generate.py [--quick]

Uses the bundled SmolLM2-135M-Instruct (installed into var/bench/models_store on first use) on the
CPU (or CUDA when present). Same prompts, greedy decoding, same batch size in both paths, so both
produce the same tokens; tokens/s counts generated tokens only. Ours is the whole job: claim, heartbeat,
generation through LocalBackend, storing every response, building the ranking tasks.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("MODELS_STORE", str(ROOT / "var" / "bench" / "models_store"))
os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'generate.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

from bench.report import write_table  # noqa: E402

PROMPTS = [
    ("en", "What is the capital of France?"),
    ("en", "Give me three tips for sleeping better."),
    ("de", "Wie koche ich Reis?"),
    ("fr", "Pourquoi le ciel est-il bleu ?"),
    ("es", "¿Qué debo llevar para una excursión?"),
    ("en", "Explain photosynthesis in one sentence."),
    ("ar", "ما هي عاصمة مصر؟"),
    ("zh-Hans", "天空为什么是蓝色的？"),
    ("en", "Write a haiku about the sea."),
    ("ja", "日本の首都はどこですか？"),
    ("en", "How do I reverse a list in Python?"),
    ("hi", "भारत की राजधानी क्या है?"),
    ("en", "Name two primary colours."),
    ("sw", "Mji mkuu wa Kenya ni upi?"),
    ("en", "What is 12 times 12?"),
    ("de", "Nenne drei Farben."),
]


def setup_django():
    import django
    from django.core.management import call_command

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    django.setup()
    call_command("migrate", verbosity=0)


def fresh_store(prompts):
    from webapp.feedback.models import Campaign, Prompt, Response, Task
    from webapp.feedback.services.catalog import prompt_create
    from webapp.modelstore.models import ModelJob

    Task.objects.all().delete()
    Response.objects.all().delete()
    Prompt.objects.all().delete()
    ModelJob.objects.all().delete()
    Campaign.objects.filter(name="bench").delete()
    campaign = Campaign.objects.create(name="bench", overlap=1)
    return campaign, [prompt_create(content=text, language=lang).pk for lang, text in prompts]


def bare_loop(model, tokenizer, conversations, max_new_tokens: int, batch: int) -> list[str]:
    """The baseline: tokenizer + model.generate + decode, nothing else."""
    import torch

    texts_out = []
    for start in range(0, len(conversations), batch):
        chunk = conversations[start : start + batch]
        texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in chunk]
        inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            out = model.generate(
                **inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
        texts_out += tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    return texts_out


def our_task_path(variant, campaign, prompt_ids, max_new_tokens: int, batch: int, tokenizer) -> int:
    from webapp.feedback.models import Response
    from webapp.modelstore.generation import generation_job_create
    from webapp.modelstore.jobs import model_job_run
    from webapp.modelstore.models import ModelJob

    params = {
        "variants": [variant.pk],
        "campaign": campaign.pk,
        "prompts": prompt_ids,
        "samples": 2,
        "temperature": 0.0,
        "max_new_tokens": max_new_tokens,
        "batch_size": batch,
        "responses_per_task": 2,
    }
    job = generation_job_create(params=params, user=None, enqueue=False)
    model_job_run(job.pk)
    job = ModelJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    texts = Response.objects.filter(metadata__generation__job=job.pk).values_list("text", flat=True)
    return count_tokens(texts, tokenizer)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    setup_django()
    from ml.llm.inference import LocalBackend
    from ml.llm.params import GenerationParams
    from webapp.modelstore.services import base_install, variant_ref

    variant, _ = base_install()
    ref = variant_ref(variant)
    prompts = PROMPTS[:8] if args.quick else PROMPTS
    max_new = 16 if args.quick else 48
    conversations = [[{"role": "user", "content": text}] for _, text in prompts]
    backend = LocalBackend()
    tokenizer = backend.tokenizer_for(ref)
    model = backend._loaded[ref.model_path].model
    backend.generate(ref, conversations[0], GenerationParams(max_new_tokens=4))  # warm-up
    rows = []
    # Samples 0 and 1 are both greedy here (temperature 0): twice the prompts, like the bare loop's 2 passes.
    bare_tokens, bare_s = timed(
        lambda: sum(count_tokens(bare_loop(model, tokenizer, conversations, max_new, 8), tokenizer) for _ in range(2))
    )
    campaign, ids = fresh_store(prompts)
    ours_tokens, ours_s = timed(lambda: our_task_path(variant, campaign, ids, max_new, 8, tokenizer))
    rows.append(("generation task path vs bare generate loop, tokens/s", ours_tokens / ours_s, bare_tokens / bare_s))
    params = GenerationParams(max_new_tokens=max_new)
    batched_tokens, batched_s = timed(
        lambda: sum(count_tokens(texts, tokenizer) for texts in [backend.generate_batch(ref, conversations, params)])
    )
    single_tokens, single_s = timed(
        lambda: count_tokens([backend.generate(ref, c, params) for c in conversations], tokenizer)
    )
    rows.append(("batched (8) vs one by one, tokens/s", batched_tokens / batched_s, single_tokens / single_s))
    print_table(rows, len(prompts), max_new, backend.device.name)


def count_tokens(texts, tokenizer) -> int:
    """Generated tokens, counted the same way for every path (the +1 is the end-of-turn token)."""
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)


def print_table(rows, n_prompts: int, max_new: int, device: str) -> None:
    title = (
        f"`bench/generate.py`: SmolLM2-135M-Instruct, {n_prompts} prompts in 10 languages, greedy, "
        f"max_new_tokens {max_new}, device {device}, {os.cpu_count()} CPUs."
    )
    write_table(title, rows, ROOT / "var" / "bench" / "generate.md", digits=1)


if __name__ == "__main__":
    main()
