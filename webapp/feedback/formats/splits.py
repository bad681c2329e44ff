"""The train/test split shared by training snapshots (webapp/training/data.py) and the Hugging Face
export (webapp/feedback/formats/hf_export.py): one rule, so the rows a training job evaluates on are
the rows the exported dataset calls `test`."""

import hashlib
from collections.abc import Mapping
from typing import Any


def in_eval_split(row: Mapping[str, Any], fraction: float) -> bool:
    """A whole translation group lands on one side: the split hashes the group (or, for rows without
    one, the id), so no translation of a training prompt is evaluated on."""
    key = row.get("group") or row["id"]
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32 < fraction
