"""A learnable synthetic preference: the chosen answer starts with a fixed marker, the rejected one
with another, followed by random words, so a parent scores near chance and a short DPO run can
learn it."""

import json
import random
from pathlib import Path

WORDS = (
    "apple river stone cloud paper music garden window silver yellow quiet rapid ocean forest "
    "candle mirror planet button ticket bridge"
).split()
LANGS = ("en", "de", "fr", "ar")


def marker_pairs(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = lambda: " ".join(rng.choice(WORDS) for _ in range(4))  # noqa: E731
        rows.append(
            {
                "prompt": [{"role": "user", "content": f"Question {seed}-{i}: {words()}?"}],
                "chosen": [{"role": "assistant", "content": f"Certainly! {words()}"}],
                "rejected": [{"role": "assistant", "content": f"Whatever. {words()}"}],
                "language": LANGS[i % len(LANGS)],
                "id": f"s{seed}-{i}",
                "group": f"g{seed}-{i}",
            }
        )
    return rows


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def marker_labels(n: int, seed: int, desirable_every: int = 2) -> list[dict]:
    """The same signal unpaired (KTO): one answer per prompt, labelled desirable when it starts with the
    chosen marker; every `desirable_every`-th row is desirable, the others undesirable."""
    return [
        {
            "prompt": r["prompt"],
            "completion": r["chosen"] if i % desirable_every == 0 else r["rejected"],
            "label": i % desirable_every == 0,
            "language": r["language"],
            "id": r["id"],
            "group": r["group"],
        }
        for i, r in enumerate(marker_pairs(n, seed))
    ]
