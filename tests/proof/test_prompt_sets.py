"""The shipped proof prompts pass their checks (scripts/validate_proof_prompts.py: counts per language and
split, distinct groups, train and held-out topics disjoint, no language named, no English words) and load."""

import subprocess
import sys
from pathlib import Path

from webapp.proof.prompt_sets import by_language, read_prompt_set

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_prompt_sets_pass_their_checks():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate_proof_prompts.py")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_each_training_language_has_30_training_and_50_held_out_prompts_and_three_are_never_trained():
    prompts = read_prompt_set()
    train, heldout = by_language(prompts, "train"), by_language(prompts, "heldout")
    assert sorted(train) == ["de", "es", "fr", "it", "nl", "pt"]
    assert all(len(train[lang]) >= 30 and len(heldout[lang]) >= 50 for lang in train)
    assert sorted(set(heldout) - set(train)) == ["pl", "sv", "sw"]
