"""What a training job trains on: the selection (sources, campaigns, languages, agreement
thresholds, expansion policy, trust weighting, time window), the split by translation group, and the
snapshot written into the job's folder so the run is reproducible and resumable.

Rows come from the single pair-derivation service through `export_rows`, so a snapshot and an export
with the same settings hold the same pairs (same ids).

**The judge gate.** In training, a judge's labels enter only through `judges` (a list of NAME@VERSION
origins): for each named judge and each language, its labels enter the snapshot when, at snapshot time,
its pairwise agreement with the human consensus (webapp/feedback/quality/judges.py, over every alive
task it ranked in that language that people ranked too, in any campaign) is at least
`judge_min_agreement` (default 0.8) on at least `judge_min_items` tasks with a compared pair (default
20); otherwise none of its labels in that language do. Naming judges adds them to the selected sources
(`sources`/`origins` then select among the others). A job that selects source `judge` without naming
`judges` is refused: judges' labels never train ungated. The snapshot's summary.json and the variant's
lineage list, per language, the judges admitted and refused with their evidence."""

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.utils.translation import gettext as _

from ml.llm.chat import with_system_prompt
from ml.llm.files import write_folder_atomically
from ml.training.trainers import kto_weights, trainer_for
from webapp.errors import ApplicationError
from webapp.feedback import sources
from webapp.feedback.content import plain_text
from webapp.feedback.extensions import judges as registered_judges
from webapp.feedback.formats.exporting import ExportSpec, export_rows, streaming_reads
from webapp.feedback.formats.splits import in_eval_split
from webapp.feedback.models import Annotation, PreferenceRecord
from webapp.feedback.quality.judges import JudgeAgreement, judge_agreement
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
    "judges",
    "judge_min_agreement",
    "judge_min_items",
    "kto_sources",
}
JUDGE_MIN_AGREEMENT = 0.8  # the gate's defaults
JUDGE_MIN_ITEMS = 20
MAX_JUDGES = 20


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", extra={"field": field})


@dataclass(frozen=True)
class GateRow:
    """One named judge in one language: admitted or not, and the evidence."""

    judge: str
    language: str
    admitted: bool
    evidence: JudgeAgreement
    reason: str  # why it was refused ("" when admitted)

    def as_dict(self) -> dict:
        e = self.evidence
        row = {
            "judge": self.judge,
            "agreement": e.agreement,
            "ci": e.ci,
            "n_tasks": e.n_tasks,
            "n_pairs": e.n_pairs,
            "abstentions": e.abstentions,
            "alpha": e.alpha,
            "labelled": e.labelled,
        }
        return row if self.admitted else {**row, "reason": self.reason}


@dataclass(frozen=True)
class JudgeGate:
    judges: tuple[str, ...]
    min_agreement: float
    min_items: int
    rows: tuple[GateRow, ...]

    def admitted(self) -> tuple[tuple[str, str], ...]:
        return tuple((row.judge, row.language) for row in self.rows if row.admitted)

    def summary(self) -> dict:
        """What summary.json and the lineage keep: the rule, and per language who was admitted or refused."""
        by_language: dict[str, dict[str, list[dict]]] = {}
        for row in self.rows:
            side = by_language.setdefault(row.language, {"admitted": [], "refused": []})
            side["admitted" if row.admitted else "refused"].append(row.as_dict())
        return {
            "judges": list(self.judges),
            "min_agreement": self.min_agreement,
            "min_items": self.min_items,
            "by_language": dict(sorted(by_language.items())),
            "unlabelled": sorted(set(self.judges) - {row.judge for row in self.rows}),
        }


def judge_gate(names: tuple[str, ...], min_agreement: float, min_items: int, languages: tuple[str, ...]) -> JudgeGate:
    """The gate's answer now, for the named judges in the job's languages (every language without a filter)."""
    rows = []
    for evidence in judge_agreement(judges=names):
        if languages and evidence.language not in languages:
            continue
        if evidence.n_tasks < min_items:
            reason = f"{evidence.n_tasks} task(s) compared with people, fewer than {min_items}"
        elif evidence.agreement is None or evidence.agreement < min_agreement:
            reason = f"agreement {evidence.agreement or 0:.3f} is below {min_agreement}"
        else:
            reason = ""
        rows.append(GateRow(evidence.judge, evidence.language, not reason, evidence, reason))
    return JudgeGate(judges=names, min_agreement=min_agreement, min_items=min_items, rows=tuple(rows))


def _judge_names(params: dict) -> tuple[str, ...]:
    value = params.get("judges")
    if value in (None, "", [], ()):
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise _field_error("data.judges", "must be a list of judges, each NAME@VERSION (e.g. llm@1)")
    if len(names) > MAX_JUDGES:
        raise _field_error("data.judges", f"at most {MAX_JUDGES} judges")
    bad = [n for n in names if n.count("@") < 1 or n.startswith("@") or n.endswith("@") or len(n) > sources.MAX_ORIGIN]
    if bad:
        raise _field_error("data.judges", f"{bad[0][:80]!r} is not NAME@VERSION (e.g. llm@1)")
    registered = {sources.judge_origin(j.name, j.version) for _, j in registered_judges.items()}
    known = set(registered)
    known |= set(
        Annotation.objects.filter(source=sources.Source.JUDGE, origin__in=names).values_list("origin", flat=True)
    )
    known |= set(
        PreferenceRecord.objects.filter(source=sources.Source.JUDGE, origin__in=names).values_list("origin", flat=True)
    )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise _field_error(
            "data.judges",
            f"no judge {unknown[0][:80]!r}: it is neither registered nor has it labelled anything "
            f"(registered: {', '.join(sorted(registered)) or 'none'})",
        )
    return tuple(dict.fromkeys(names))


def _gate_settings(params: dict, named: tuple[str, ...]) -> tuple[float, int]:
    agreement = params.get("judge_min_agreement", JUDGE_MIN_AGREEMENT)
    items = params.get("judge_min_items", JUDGE_MIN_ITEMS)
    if not named:
        given = [key for key in ("judge_min_agreement", "judge_min_items") if key in params]
        if given:
            raise _field_error(f"data.{given[0]}", "applies to the judges named in data.judges, which names none")
        selected, _ = sources.selection_from_params(params)
        if sources.Source.JUDGE in selected:
            raise _field_error(
                "data.judges",
                "name the judges (NAME@VERSION) whose labels may train: a judge's labels enter a snapshot only "
                "through the gate (data.judges, judge_min_agreement, judge_min_items)",
            )
    if isinstance(agreement, bool) or not isinstance(agreement, int | float) or not 0 < agreement <= 1:
        raise _field_error("data.judge_min_agreement", "must be a number above 0 and at most 1 (e.g. 0.8)")
    if isinstance(items, bool) or not isinstance(items, int) or items < 1:
        raise _field_error("data.judge_min_items", "must be a whole number of tasks, at least 1")
    return float(agreement), items


@dataclass(frozen=True)
class DataSpec:
    export: ExportSpec
    trust_weighting: bool = False
    eval_fraction: float = 0.1
    # Keep only pairs whose prompt is among the `near_top` prompts nearest to the prompts in
    # `near_language` (cross-lingual retrieval: data for a language with little of its own).
    near_language: str = ""
    near_top: int = 0
    # The judge gate (module docstring): the named judges, the rule, and once resolved its answer.
    judges: tuple[str, ...] = ()
    judge_min_agreement: float = JUDGE_MIN_AGREEMENT
    judge_min_items: int = JUDGE_MIN_ITEMS
    gate: JudgeGate | None = None

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
        export = ExportSpec.from_params({**params, "format": "dpo"})
        named = _judge_names(params)
        min_agreement, min_items = _gate_settings(params, named)
        return cls(
            export=export,
            trust_weighting=bool(params.get("trust_weighting", False)),
            eval_fraction=float(fraction),
            near_language=canonical_tag(near_language) if near_language else "",
            near_top=near_top if near_language else 0,
            judges=named,
            judge_min_agreement=min_agreement,
            judge_min_items=min_items,
        )

    def cut(self, created_before: datetime | None) -> "DataSpec":
        """The spec as of a launch: what was created at or after `created_before` is left out (an `until` of
        its own that is earlier stays)."""
        if created_before is None:
            return self
        until = self.export.until
        return replace(self, export=replace(self.export, until=min(until, created_before) if until else created_before))

    def with_gate(self) -> "DataSpec":
        """The spec with the judge gate decided now (snapshot time); unchanged when it names no judge."""
        if not self.judges or self.gate is not None:
            return self
        gate = judge_gate(self.judges, self.judge_min_agreement, self.judge_min_items, self.export.languages)
        return replace(self, gate=gate)

    def rows(self, format_: str):
        if self.near_language:
            return self._near_rows(format_)
        return export_rows(self._export(format_))

    def _export(self, format_: str) -> ExportSpec:
        export = replace(self.export, format=format_)
        if self.judges:
            gate = self.with_gate().gate
            assert gate is not None  # with_gate decides it for a spec that names judges
            export = replace(export, judges_admitted=gate.admitted())
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
        """The rule the Hugging Face export splits by too (webapp/feedback/formats/splits.py)."""
        return in_eval_split(row, self.eval_fraction)


def data_counts(spec: DataSpec, *, limit: int | None = None, rows: str = "dpo") -> dict:
    """Pairs per language before the filters (every source, default policy) and after them, split;
    with judges named, the gate's answer as it stands now (the snapshot decides again when it runs).
    With `limit`, each of the two passes stops after that many pairs: the counts are then lower bounds,
    and `approximate` says so (the form's preview, which must answer at once whatever the store's size).
    `rows` "kto" counts the kto export's labelled answers instead of pairs (a failed KTO job's counts, the
    form's KTO preview), and `balance` the training answers' desirable and undesirable counts."""
    with streaming_reads():  # a capped count must not wait for PostgreSQL to copy every row first
        return _data_counts(spec.with_gate(), limit, rows)


def _data_counts(spec: DataSpec, limit: int | None, rows: str) -> dict:
    before: Counter[str] = Counter()
    approximate = False
    for n, row in enumerate(export_rows(ExportSpec(format=rows)), start=1):
        before[row["language"]] += 1
        if limit is not None and n >= limit:
            approximate = True
            break
    after = {"train": Counter(), "eval": Counter()}
    by_source: Counter[str] = Counter()
    labels: Counter[bool] = Counter()
    for n, row in enumerate(spec.rows(rows), start=1):
        side = "eval" if spec.is_eval(row) else "train"
        after[side][row["language"]] += 1
        by_source[row["source"]] += 1
        if rows == "kto" and side == "train":
            labels[bool(row["label"])] += 1
        if limit is not None and n >= limit:
            approximate = True
            break
    counts = {
        "approximate": approximate,
        "before_filters": dict(before),
        "train": dict(after["train"]),
        "eval": dict(after["eval"]),
        "by_source": dict(by_source),
        "train_pairs": sum(after["train"].values()),
        "eval_pairs": sum(after["eval"].values()),
    }
    if rows == "kto":
        counts["balance"] = {"desirable": labels[True], "undesirable": labels[False]}
    if spec.gate is not None:
        counts["judges"] = spec.gate.summary()
    return counts


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
    spec = spec.with_gate()  # decided once, now, for every row of the snapshot

    def build(tmp: Path) -> None:
        tmp.mkdir(parents=True)
        with streaming_reads():
            summary = _write_rows(spec, kind, tmp, check, system_prompt)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))

    write_folder_atomically(target, build)
    return json.loads((target / "summary.json").read_text())


def _dumper(system_prompt: str | None) -> Callable[[dict], str]:
    def dumps(row: dict) -> str:
        return json.dumps({**row, "prompt": with_system_prompt(row["prompt"], system_prompt)}, ensure_ascii=False)

    return dumps


def _write_rows(spec: DataSpec, kind: str, tmp: Path, check: Callable[[], None], system_prompt: str | None) -> dict:
    rows = trainer_for(kind).rows  # which export rows this trainer learns from
    if trainer_for(kind).eval_rows == "kto":
        return _write_unpaired(spec, kind, tmp, check, system_prompt)
    dumps = _dumper(system_prompt)

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
    return _summary(spec, kind, counts, eval_groups, digest, system_prompt, train_rows)


def _summary(spec, kind, counts, eval_groups, digest, system_prompt, train_rows, **extra) -> dict:
    """What every kind's snapshot records (the job's data_summary.snapshot); `extra`: a kind's own keys."""
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
        **extra,
        **({"judges": spec.gate.summary()} if spec.gate is not None else {}),
    }


def _write_unpaired(spec: DataSpec, kind: str, tmp: Path, check: Callable[[], None], system_prompt: str | None) -> dict:
    """The kto snapshot: the kto export's rows (webapp/feedback/formats/kto.py), split by the same rule, the
    held-out ones in eval_pairs.jsonl (the file every kind's evaluations read). `train_pairs_by_language`
    and the other pair counts count rows here. `balance` records the training rows' desirable and undesirable
    counts and the loss weights the runner sets from them (ml.training.trainers.kto_weights)."""
    dumps = _dumper(system_prompt)
    counts = {"train": Counter(), "eval": Counter(), "source": Counter(), "label": Counter()}
    digest = hashlib.sha256()
    eval_groups = set()
    with (
        (tmp / "eval_pairs.jsonl").open("w", encoding="utf-8") as eval_file,
        (tmp / "train.jsonl").open("w", encoding="utf-8") as train_file,
        (tmp / "pair_ids.txt").open("w") as ids,
    ):
        for n, row in enumerate(spec.rows("kto")):
            if n % CHECK_EVERY == 0:
                check()
            line = dumps(row) + "\n"
            side = "eval" if spec.is_eval(row) else "train"
            counts[side][row["language"]] += 1
            counts["source"][row["source"]] += 1
            ids.write(f"{side}\t{row['id']}\n")
            if side == "eval":
                eval_file.write(line)
                eval_groups.add(row["group"])
            else:
                counts["label"][bool(row["label"])] += 1
                train_file.write(line)
                digest.update(line.encode())
    n_desirable, n_undesirable = counts["label"][True], counts["label"][False]
    desirable_weight, undesirable_weight = kto_weights(n_desirable, n_undesirable)
    return _summary(
        spec,
        kind,
        counts,
        eval_groups,
        digest,
        system_prompt,
        sum(counts["train"].values()),
        balance={
            "desirable": n_desirable,
            "undesirable": n_undesirable,
            "desirable_weight": desirable_weight,
            "undesirable_weight": undesirable_weight,
            "weighted_ratio": round(desirable_weight * n_desirable / (undesirable_weight * n_undesirable), 4)
            if n_undesirable
            else None,
        },
    )
