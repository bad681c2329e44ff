"""What a training job trains on: the selection (sources, campaigns, languages, agreement
thresholds, expansion policy, trust weighting, time window), the split by translation group, and the
snapshot written into the job's folder so the run is reproducible and resumable.

Rows come from the single pair-derivation service through `export_rows`, so a snapshot and an export
with the same settings hold the same pairs (same ids)."""

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from django.utils.translation import gettext as _

from ml.llm.chat import with_system_prompt
from ml.llm.files import write_folder_atomically
from ml.training.trainers import trainer_for
from webapp.errors import ApplicationError
from webapp.feedback.content import plain_text
from webapp.feedback.formats.exporting import ExportSpec, export_rows
from webapp.feedback.quality.trust import trust_weights
from webapp.feedback.services.languages import canonical_tag

CHECK_EVERY = 500  # snapshot rows between two cancel checks

SPEC_KEYS = {
    "sources",
    "source",
    "origins",
    "origin",
    "campaigns",
    "languages",
    "min_agreement",
    "min_annotators",
    "pairs",
    "include_flagged",
    "trust_weighting",
    "since",
    "until",
    "eval_fraction",
    "near_language",
    "near_top",
}


@dataclass(frozen=True)
class DataSpec:
    export: ExportSpec
    trust_weighting: bool = False
    eval_fraction: float = 0.1
    # Keep only pairs whose prompt is among the `near_top` prompts nearest to the prompts in
    # `near_language` (cross-lingual retrieval: data for a language with little of its own).
    near_language: str = ""
    near_top: int = 0

    @classmethod
    def from_params(cls, params: dict) -> "DataSpec":
        unknown = sorted(set(params) - SPEC_KEYS)
        if unknown:
            raise ApplicationError(
                _("%(field)s: unknown setting; known: %(known)s")
                % {"field": f"data.{unknown[0]}", "known": ", ".join(sorted(SPEC_KEYS))},
                extra={"field": f"data.{unknown[0]}"},
            )
        fraction = params.get("eval_fraction", 0.1)
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 <= fraction <= 0.5:
            raise ApplicationError(
                _("data.eval_fraction must be a number from 0 to 0.5"), extra={"field": "data.eval_fraction"}
            )
        near_language, near_top = params.get("near_language") or "", params.get("near_top", 0)
        if near_language and (isinstance(near_top, bool) or not isinstance(near_top, int) or near_top < 1):
            raise ApplicationError(
                _("data.near_top must be a positive whole number of prompts when near_language is set"),
                extra={"field": "data.near_top"},
            )
        return cls(
            export=ExportSpec.from_params({**params, "format": "dpo"}),
            trust_weighting=bool(params.get("trust_weighting", False)),
            eval_fraction=float(fraction),
            near_language=canonical_tag(near_language) if near_language else "",
            near_top=near_top if near_language else 0,
        )

    def rows(self, format_: str):
        if self.near_language:
            return self._near_rows(format_)
        return export_rows(self._export(format_))

    def _export(self, format_: str) -> ExportSpec:
        export = replace(self.export, format=format_)
        if self.trust_weighting:
            export = replace(export, policy=replace(export.policy, weights=trust_weights()))
        return export

    def _near_rows(self, format_: str):
        """Chosen over the dpo rows' prompts, so dpo and sft snapshots keep the same prompts."""
        from webapp.retrieval.selectors import prompts_nearest_to_language

        prompts = [plain_text(row["prompt"]) for row in export_rows(self._export("dpo"))]
        keep = prompts_nearest_to_language(prompts=prompts, language=self.near_language, top=self.near_top)
        return (row for row in export_rows(self._export(format_)) if plain_text(row["prompt"]) in keep)

    def is_eval(self, row: dict) -> bool:
        """A whole translation group lands on one side: the split hashes the group (or, for rows
        without one, the id), so no translation of a training prompt is evaluated on."""
        key = row.get("group") or row["id"]
        return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32 < self.eval_fraction


def data_counts(spec: DataSpec) -> dict:
    """Pairs per language before the filters (every source, default policy) and after them, split."""
    before = Counter(row["language"] for row in export_rows(ExportSpec(format="dpo")))
    after = {"train": Counter(), "eval": Counter()}
    sources = Counter()
    for row in spec.rows("dpo"):
        after["eval" if spec.is_eval(row) else "train"][row["language"]] += 1
        sources[row["source"]] += 1
    return {
        "before_filters": dict(before),
        "train": dict(after["train"]),
        "eval": dict(after["eval"]),
        "by_source": dict(sources),
        "train_pairs": sum(after["train"].values()),
        "eval_pairs": sum(after["eval"].values()),
    }


def snapshot_write(
    spec: DataSpec,
    kind: str,
    folder: Path,
    check: Callable[[], None] = lambda: None,
    system_prompt: str | None = None,
) -> dict:
    """data/train.jsonl (dpo or sft rows), data/eval_pairs.jsonl (dpo rows of the held-out groups),
    data/summary.json. Written once, atomically; a resumed run reads the same snapshot. `check()` is
    called every CHECK_EVERY rows and may raise (a cancel): the half-written folder is then removed.
    Every row's prompt gets the job's system prompt by the serving rule (ml/llm/chat.py), so the model
    trains and is evaluated on the prompt tokens it is later served."""
    target = folder / "data"
    if (target / "summary.json").is_file():
        return json.loads((target / "summary.json").read_text())

    def build(tmp: Path) -> None:
        tmp.mkdir(parents=True)
        summary = _write_rows(spec, kind, tmp, check, system_prompt)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))

    write_folder_atomically(target, build)
    return json.loads((target / "summary.json").read_text())


def _write_rows(spec: DataSpec, kind: str, tmp: Path, check: Callable[[], None], system_prompt: str | None) -> dict:
    rows = trainer_for(kind).rows  # which export rows this trainer learns from

    def dumps(row: dict) -> str:
        return json.dumps({**row, "prompt": with_system_prompt(row["prompt"], system_prompt)}, ensure_ascii=False)

    counts = {"train": Counter(), "eval": Counter(), "source": Counter()}
    digest = hashlib.sha256()
    eval_groups = set()
    with (tmp / "eval_pairs.jsonl").open("w", encoding="utf-8") as eval_file, (tmp / "pair_ids.txt").open("w") as ids:
        train_file = (tmp / "train.jsonl").open("w", encoding="utf-8")
        for n, row in enumerate(spec.rows("dpo")):
            if n % CHECK_EVERY == 0:
                check()
            line = dumps(row) + "\n"
            side = "eval" if spec.is_eval(row) else "train"
            counts[side][row["language"]] += 1
            counts["source"][row["source"]] += 1
            ids.write(f"{side}\t{row['id']}\n")
            if side == "eval":
                eval_file.write(line)
                eval_groups.add(row.get("group") or row["id"])
            elif rows == "dpo":
                train_file.write(line)
                digest.update(line.encode())
        if rows != "dpo":
            for n, row in enumerate(spec.rows(rows)):
                if n % CHECK_EVERY == 0:
                    check()
                if not spec.is_eval(row):
                    line = dumps(row) + "\n"
                    train_file.write(line)
                    digest.update(line.encode())
        train_file.close()
    train_rows = sum(1 for _ in (tmp / "train.jsonl").open(encoding="utf-8"))
    return {
        "kind": kind,
        "train_rows": train_rows,
        "train_pairs_by_language": dict(counts["train"]),
        "eval_pairs_by_language": dict(counts["eval"]),
        "pairs_by_source": dict(counts["source"]),
        "eval_pairs": sum(counts["eval"].values()),
        "eval_groups": len(eval_groups),
        "train_sha256": digest.hexdigest(),
        "system_prompt": system_prompt,
        "files": ["train.jsonl", "eval_pairs.jsonl", "pair_ids.txt"],
    }
