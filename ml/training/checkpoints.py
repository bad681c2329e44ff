"""Checkpoints that are either complete or absent. The Trainer writes `staging/checkpoint-N` in
place; when it reports the save finished, the folder is renamed into `checkpoints/` (one atomic
rename on the same file system). A crash mid-save leaves only a staging folder, which is ignored."""

import re
import shutil
from pathlib import Path

PATTERN = re.compile(r"^checkpoint-(\d+)$")
KEEP = 2


def promote(staging: Path, checkpoints: Path, step: int) -> Path:
    source = staging / f"checkpoint-{step}"
    checkpoints.mkdir(parents=True, exist_ok=True)
    target = checkpoints / source.name
    if target.exists():
        shutil.rmtree(target)
    source.rename(target)
    for old in sorted(completed(checkpoints))[:-KEEP]:
        shutil.rmtree(checkpoints / f"checkpoint-{old}", ignore_errors=True)
    return target


def completed(checkpoints: Path) -> list[int]:
    if not checkpoints.is_dir():
        return []
    steps = [int(m.group(1)) for p in checkpoints.iterdir() if (m := PATTERN.match(p.name))]
    return sorted(s for s in steps if (checkpoints / f"checkpoint-{s}" / "trainer_state.json").is_file())


def latest(checkpoints: Path) -> Path | None:
    steps = completed(checkpoints)
    return checkpoints / f"checkpoint-{steps[-1]}" if steps else None
