"""The prompts written for the proof (webapp/proof/prompts/<language>.jsonl): per language, training
prompts and held-out prompts of other topics, each in its own translation group, none naming a language
(checked by scripts/validate_proof_prompts.py). sv, pl and sw have held-out prompts only: languages the
proof never trains on."""

import json
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "prompts"


@dataclass(frozen=True)
class ProofPrompt:
    text: str
    language: str
    group: str
    split: str  # "train" or "heldout"


class PromptSetError(ValueError):
    pass


def read_prompt_set(folder: Path = FOLDER) -> list[ProofPrompt]:
    """Every prompt of the folder's files, in file and line order; errors name the file and line."""
    prompts: list[ProofPrompt] = []
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise PromptSetError(f"{folder}: no <language>.jsonl file")
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                prompt = ProofPrompt(str(row["prompt"]), str(row["language"]), str(row["group"]), str(row["split"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise PromptSetError(f"{path.name} line {number}: {exc}") from None
            if prompt.split not in ("train", "heldout") or not prompt.text.strip():
                raise PromptSetError(f"{path.name} line {number}: split must be train or heldout, prompt non-empty")
            prompts.append(prompt)
    return prompts


def by_language(prompts: list[ProofPrompt], split: str) -> dict[str, list[ProofPrompt]]:
    out: dict[str, list[ProofPrompt]] = {}
    for prompt in prompts:
        if prompt.split == split:
            out.setdefault(prompt.language, []).append(prompt)
    return out
