"""Writing model folders safely: build under a temporary name beside the target, rename when complete,
so a reader never sees half a model."""

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

COMPLETE_MARKER = ".complete"


def write_folder_atomically(target: Path, build: Callable[[Path], None]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        build(tmp)
        (tmp / COMPLETE_MARKER).write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def is_complete(folder: Path) -> bool:
    return (folder / COMPLETE_MARKER).is_file()


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
