"""export_feedback --format hf: the store as a Hugging Face dataset folder (docs/formats.md,
"hf (a Hugging Face dataset folder)").

    manage.py export_feedback --format hf --out feedback-hf [--test-fraction 0.1] [--license cc-by-4.0]
    python -c 'import datasets; print(datasets.load_dataset("feedback-hf"))'         # the pairs config
    python -c 'import datasets; print(datasets.load_dataset("feedback-hf", "sft"))'

One config per export format that has rows — pairs (the default), dpo, sft, rankings — each in its own
folder holding `train.parquet` and `test.parquet` (a split is written even when empty: a Parquet file with
the schema and no rows), and a dataset card, README.md, whose YAML front matter names every config's files,
so `datasets.load_dataset(DIR)` needs nothing else. The card's `data_files` list only the splits that have
rows: `datasets` (5.2) refuses to load a whole dataset when one of its splits has none ("Instruction "test"
corresponds to no data!", huggingface/datasets#8401); the prose names the empty split and its file. An
export with no rows at all is refused. The split is training's (webapp/feedback/formats/splits.py): a
translation group never straddles it.

Rows come from the same generators as the JSON Lines formats (`export_rows`), one pass per config, and
pyarrow's ParquetWriter writes them in row groups of ROW_GROUP rows: memory stays flat whatever the size.
The folder is built under a temporary name beside `out` and renamed into place when complete.

The card is written in English whatever the interface language: it is part of the data, read on the Hub."""

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.content import as_messages
from webapp.feedback.formats.exporting import ExportSpec, export_rows
from webapp.feedback.formats.splits import in_eval_split

ROW_GROUP = 10_000
SPLITS = ("train", "test")
DEFAULT_CONFIG = "pairs"
TEXTS = ("prompt", "chosen", "rejected")

MESSAGES = pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())]))
RESPONSE = pa.struct([pa.field("text", pa.string()), pa.field("model", pa.string()), pa.field("id", pa.string())])
RANKING = pa.struct(
    [
        pa.field("annotator", pa.string()),
        pa.field("ranking", pa.list_(pa.list_(pa.int64()))),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("rationale", pa.string()),
    ]
)

# (column, Arrow type, what it holds: named in the card)
Column = tuple[str, pa.DataType, str]
_MSGS = "chat messages [{role, content}]"
PAIRS_COLUMNS: tuple[Column, ...] = (
    ("prompt", MESSAGES, f"the prompt, as {_MSGS}"),
    ("chosen", MESSAGES, "the preferred response, as chat messages"),
    ("rejected", MESSAGES, "the other response, as chat messages"),
    ("language", pa.string(), "BCP-47 tag"),
    ("id", pa.string(), "the pair's stable id"),
    ("group", pa.string(), 'translation group ("" when none)'),
    ("source", pa.string(), "annotation, import (or the imported dataset's name), arena or judge"),
    ("prompt_id", pa.string(), 'the prompt\'s id in the source ("" when none)'),
    ("agreement", pa.float64(), "the annotators' agreement on the pair (null when the source gave none)"),
    ("metadata", pa.string(), "everything else the store holds about the pair, as a JSON object"),
    ("text_fields", pa.list_(pa.string()), "which of prompt, chosen, rejected are plain strings in the store"),
)
DPO_COLUMNS: tuple[Column, ...] = (
    ("prompt", MESSAGES, f"the prompt, as {_MSGS}"),
    ("chosen", MESSAGES, "the preferred response"),
    ("rejected", MESSAGES, "the other response"),
    ("language", pa.string(), "BCP-47 tag"),
    ("id", pa.string(), "the pair's stable id (the same as in pairs)"),
    ("source", pa.string(), "annotation, import, arena or judge"),
    ("origin", pa.string(), "where within the source: rankings, pairs, oasst, local, a judge's NAME@VERSION, ..."),
    ("agreement", pa.float64(), "the annotators' agreement (1.0 for a vote or an imported pair without one)"),
    ("group", pa.string(), 'translation group ("" when none)'),
)
SFT_COLUMNS: tuple[Column, ...] = (
    ("prompt", MESSAGES, f"the prompt, as {_MSGS}"),
    ("completion", MESSAGES, "the best response of a ranked task, or the chosen response of a pair"),
    ("language", pa.string(), "BCP-47 tag"),
    ("id", pa.string(), "the row's stable id"),
    ("group", pa.string(), 'translation group ("" when none)'),
)
RANKINGS_COLUMNS: tuple[Column, ...] = (
    ("id", pa.string(), "the task's id"),
    ("prompt", MESSAGES, f"the prompt, as {_MSGS}"),
    ("text_fields", pa.list_(pa.string()), '["prompt"] when the prompt is a plain string in the store'),
    ("language", pa.string(), "BCP-47 tag"),
    ("group", pa.string(), 'translation group ("" when none)'),
    ("campaign", pa.string(), "the campaign the task belongs to"),
    ("responses", pa.list_(RESPONSE), 'the responses in stored order: {text, model, id} ("" when unknown)'),
    (
        "rankings",
        pa.list_(RANKING),
        "each annotator's ranking: indexes into responses, best first, one inner list per rank (ties share one)",
    ),
)


def _pairs_row(row: dict) -> dict:
    return {
        "prompt": as_messages(row["prompt"], "user"),
        "chosen": as_messages(row["chosen"], "assistant"),
        "rejected": as_messages(row["rejected"], "assistant"),
        "language": row["language"],
        "id": row["id"],
        "group": row.get("group") or "",
        "source": row.get("source") or "",
        "prompt_id": row.get("prompt_id") or "",
        "agreement": row.get("agreement"),
        "metadata": json.dumps(row.get("metadata") or {}, ensure_ascii=False, sort_keys=True),
        "text_fields": [name for name in TEXTS if isinstance(row[name], str)],
    }


def _plain_row(columns: tuple[Column, ...]) -> Callable[[dict], dict]:
    """dpo and sft rows are already in the dataset's shape: the columns, with "" for a missing string."""
    names = [name for name, kind, _what in columns]
    strings = {name for name, kind, _what in columns if kind == pa.string()}

    def shape(row: dict) -> dict:
        return {name: (row.get(name) or "") if name in strings else row.get(name) for name in names}

    return shape


def _rankings_row(row: dict) -> dict:
    return {
        "id": row["id"],
        "prompt": as_messages(row["prompt"], "user"),
        "text_fields": ["prompt"] if isinstance(row["prompt"], str) else [],
        "language": row["language"],
        "group": row.get("group") or "",
        "campaign": row.get("campaign") or "",
        "responses": [
            {"text": r["text"], "model": r.get("model") or "", "id": r.get("id") or ""} for r in row["responses"]
        ],
        "rankings": [
            {
                "annotator": r["annotator"],
                "ranking": r["ranking"],
                "flags": r.get("flags") or [],
                "rationale": r.get("rationale") or "",
            }
            for r in row.get("rankings") or ()
        ],
    }


@dataclass(frozen=True)
class Config:
    name: str  # the export format it holds, and the config's name
    what: str  # what one row is, for the card
    columns: tuple[Column, ...]
    shape: Callable[[dict], dict]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, kind) for name, kind, _what in self.columns])


CONFIGS = (
    Config("pairs", "one preference pair (the interchange form, lossless)", PAIRS_COLUMNS, _pairs_row),
    Config("dpo", "one preference pair, ready for TRL's DPOTrainer", DPO_COLUMNS, _plain_row(DPO_COLUMNS)),
    Config(
        "sft", "one prompt with its reference completion, for TRL's SFTTrainer", SFT_COLUMNS, _plain_row(SFT_COLUMNS)
    ),
    Config("rankings", "one ranked task: its responses and every annotator's ranking", RANKINGS_COLUMNS, _rankings_row),
)


class _SplitWriter:
    """One split's Parquet file, written a row group at a time."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema)
        self.buffer: list[dict] = []
        self.rows = 0
        self.languages: Counter[str] = Counter()

    def add(self, row: dict) -> None:
        self.buffer.append(row)
        self.rows += 1
        self.languages[row["language"]] += 1
        if len(self.buffer) >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema), row_group_size=ROW_GROUP)
            self.buffer = []

    def close(self) -> None:
        self.flush()  # with no row at all the file still holds the schema: an empty split loads
        self.writer.close()


@dataclass
class Written:
    """What the card reports: per config, the rows per split and per language, and the pairs' provenance."""

    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    languages: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    provenance: Counter[tuple[str, str]] = field(default_factory=Counter)

    def total(self, name: str) -> int:
        return sum(self.splits[name].values())


def hf_export(*, spec: ExportSpec, out: str | Path, on_progress: Callable[[int], None] | None = None) -> int:
    """Write the dataset folder at `out` (which must not exist, or be an empty folder) and return the
    number of rows written over every config."""
    out = Path(out)
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        written = _write_configs(spec, tmp, on_progress)
        (tmp / "README.md").write_text(dataset_card(spec, written), encoding="utf-8")
        _sync(tmp)
        _move_into_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return sum(written.total(name) for name in written.splits)


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ApplicationError(
            _("%(path)s exists and is not an empty folder: name a new folder for the dataset, or empty this one")
            % {"path": out}
        )


def _move_into_place(tmp: Path, out: Path) -> None:
    try:
        os.replace(tmp, out)  # over an empty folder too (POSIX rename)
    except OSError:
        # Someone wrote into `out` while the export ran.
        raise ApplicationError(
            _("%(path)s exists and is not an empty folder: name a new folder for the dataset, or empty this one")
            % {"path": out}
        ) from None


def _sync(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def _write_configs(spec: ExportSpec, folder: Path, on_progress: Callable[[int], None] | None) -> Written:
    written = Written()
    done = 0
    for config in CONFIGS:
        (folder / config.name).mkdir()
        writers = {split: _SplitWriter(folder / config.name / f"{split}.parquet", config.schema) for split in SPLITS}
        try:
            for row in export_rows(replace(spec, format=config.name)):
                writers["test" if in_eval_split(row, spec.test_fraction) else "train"].add(config.shape(row))
                if config.name == "dpo":
                    written.provenance[(row["source"], row["origin"] or "")] += 1
                done += 1
                if on_progress and done % 1000 == 0:
                    on_progress(done)
        finally:
            for writer in writers.values():
                writer.close()
        written.splits[config.name] = {split: w.rows for split, w in writers.items()}
        written.languages[config.name] = {split: w.languages for split, w in writers.items()}
        if not written.total(config.name):
            shutil.rmtree(folder / config.name)  # one config per format present
            del written.splits[config.name], written.languages[config.name]
    if not written.splits:
        raise ApplicationError(_("The selection holds no rows, so there is no dataset to write (nothing was written)."))
    return written


# The published datasets the importer reads (`origin` of what they gave): where they come from and their licence.
PUBLISHED = {
    "oasst": ("OpenAssistant Conversations (OpenAssistant/oasst1, oasst2)", "apache-2.0"),
    "ultrafeedback": ("UltraFeedback (openbmb/UltraFeedback)", "mit"),
    "hh-rlhf": ("Anthropic HH-RLHF (Anthropic/hh-rlhf)", "mit"),
}
SOURCE_PROVENANCE = {
    "annotation": "ranked by annotators in this project's campaigns",
    "arena": "votes cast in this project's public arena",
    "judge": "ranked by an automatic judge (origin: its NAME@VERSION)",
    "import": "imported from a file (origin: the format or dataset it came in)",
}
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def size_category(rows: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if rows < limit), "n>1B")


def _licence(spec: ExportSpec, origin: str) -> str:
    if origin in PUBLISHED:
        return PUBLISHED[origin][1]
    return spec.license or "not stated"


def card_metadata(spec: ExportSpec, written: Written) -> dict[str, Any]:
    """The card's YAML front matter (https://huggingface.co/docs/hub/datasets-cards)."""
    tags = sorted({tag for config in written.languages.values() for split in config.values() for tag in split})
    languages = sorted({tag.split("-")[0].lower() for tag in tags})
    licences = {_licence(spec, origin) for _source, origin in written.provenance}
    categories = ["text-generation"]
    if "rankings" in written.splits or any(written.splits[DEFAULT_CONFIG].values()):
        categories.append("text-classification")  # pairs and rankings train reward models too
    meta: dict[str, Any] = {
        "pretty_name": "Polyglot Feedback export",
        "language": languages,
        "language_details": tags,  # the BCP-47 tags; `language` holds their ISO 639 codes
        "multilinguality": "multilingual" if len(languages) > 1 else "monolingual",
        "task_categories": categories,
        "tags": ["human-feedback", "preference", "rlhf", "dpo", "sft"],
        "size_categories": [size_category(max(written.total(name) for name in written.splits))],
    }
    if spec.license:
        meta["license"] = spec.license
    elif len(licences) == 1 and "not stated" not in licences:
        meta["license"] = licences.pop()
    default = _default_config(written)
    meta["configs"] = [_config_entry(name, written.splits[name], name == default) for name in written.splits]
    return meta


def _default_config(written: Written) -> str:
    """pairs, or when the selection gave no pair (rankings without a majority, say) the first config written."""
    return DEFAULT_CONFIG if DEFAULT_CONFIG in written.splits else next(iter(written.splits))


def _config_entry(name: str, counts: dict[str, int], default: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"config_name": name}
    if default:
        entry["default"] = True
    # Only the splits with rows (module docstring: datasets cannot load an empty one); the file is there anyway.
    entry["data_files"] = [{"split": split, "path": f"{name}/{split}.parquet"} for split in SPLITS if counts[split]]
    return entry


def dataset_card(spec: ExportSpec, written: Written) -> str:
    front = yaml.safe_dump(card_metadata(spec, written), sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n" + "\n".join(_card_prose(spec, written)) + "\n"


def _card_prose(spec: ExportSpec, written: Written) -> Iterator[str]:
    yield "# Polyglot Feedback export"
    yield ""
    yield "Cross-lingual human feedback exported by Polyglot Feedback (`manage.py export_feedback --format hf`)."
    yield "Load it with `datasets.load_dataset(PATH)` (the default config) or `load_dataset(PATH, NAME)`."
    yield from _configs_section(written)
    yield from _languages_section(written)
    yield from _sources_section(spec, written)
    yield from _policy_section(spec)


def _configs_section(written: Written) -> Iterator[str]:
    yield ""
    yield "## Configs"
    yield ""
    yield "| config | one row is | train | test |"
    yield "|---|---|---|---|"
    default_name = _default_config(written)
    empty = []
    for config in CONFIGS:
        if config.name in written.splits:
            counts = written.splits[config.name]
            default = " (default)" if config.name == default_name else ""
            yield f"| `{config.name}`{default} | {config.what} | {counts['train']} | {counts['test']} |"
            empty += [f"`{config.name}/{split}.parquet`" for split in SPLITS if not counts[split]]
    if empty:
        yield ""
        yield (
            f"Empty splits, written with their schema but left out of `configs` because `datasets` cannot load a "
            f"split without rows: {', '.join(empty)}."
        )
    for config in CONFIGS:
        if config.name in written.splits:
            yield ""
            yield f"### Columns of `{config.name}`"
            yield ""
            yield from (f"- `{name}`: {what}" for name, _kind, what in config.columns)


def _languages_section(written: Written) -> Iterator[str]:
    names = list(written.splits)
    tags = sorted({tag for config in written.languages.values() for split in config.values() for tag in split})
    yield ""
    yield "## Rows per language (train / test)"
    yield ""
    yield "| language | " + " | ".join(f"`{name}`" for name in names) + " |"
    yield "|---|" + "---|" * len(names)
    for tag in tags:
        cells = (f"{written.languages[n]['train'][tag]} / {written.languages[n]['test'][tag]}" for n in names)
        yield f"| {tag} | " + " | ".join(cells) + " |"


def _sources_section(spec: ExportSpec, written: Written) -> Iterator[str]:
    yield ""
    yield "## Sources, provenance and licences"
    yield ""
    yield "Per source and origin of the preference pairs (the `dpo` config's `source` and `origin`):"
    yield ""
    yield "| source | origin | pairs | provenance | licence |"
    yield "|---|---|---|---|---|"
    for (source, origin), count in sorted(written.provenance.items()):
        provenance = PUBLISHED[origin][0] if origin in PUBLISHED else SOURCE_PROVENANCE.get(source, source)
        yield f"| {source} | {origin or '-'} | {count} | {provenance} | {_licence(spec, origin)} |"
    if not written.provenance:
        yield "| - | - | 0 | - | - |"
    yield ""
    if spec.license:
        yield f"This project's own data (annotations, arena votes, judges' labels) is released under `{spec.license}`."
    else:
        yield "No licence was given for this project's own data (`export_feedback --license ID` names one)."
    yield "A published dataset's rows keep its licence; check its terms before you redistribute them."


def _policy_section(spec: ExportSpec) -> Iterator[str]:
    policy = spec.policy
    yield ""
    yield "## How rankings became pairs, and the split"
    yield ""
    yield (
        f"Pairs come from annotators' rankings by agreement: a pair i over j is kept when more than "
        f"{policy.min_agreement:g} of at least {policy.min_annotators} annotation(s) put i above j (ties count "
        f"half); expansion `{policy.expansion}`; flagged tasks "
        f"{'included' if policy.include_flagged else 'left out'}. Arena votes and imported pairs give one pair "
        "each (ties and both-bad give none)."
    )
    selection = {
        "languages": ", ".join(spec.languages) or "all",
        "sources": ", ".join(spec.sources) or "all but judge",
        "origins": ", ".join(spec.origins) or "any",
        "campaigns": ", ".join(spec.campaigns) or "all",
    }
    yield "Selection: " + "; ".join(f"{k} {v}" for k, v in selection.items()) + "."
    yield (
        f"The test split holds about {spec.test_fraction:.0%} of the translation groups, chosen by a hash of the "
        "group (of the id for rows without one), as training jobs split: every translation of a prompt is on the "
        "same side."
    )


def hf_hub_token() -> str:
    """The token `--push-to-hub` pushes with (HF_TOKEN, or the one `hf auth login` stored), checked before the
    export runs so that a push that cannot happen costs nothing."""
    from huggingface_hub import constants, get_token  # noqa: PLC0415  (only a push needs it)

    token = get_token()
    if not token:
        raise ApplicationError(
            _("--push-to-hub needs a Hugging Face token: set HF_TOKEN or run `hf auth login`. Nothing was pushed.")
        )
    if constants.HF_HUB_OFFLINE:
        raise ApplicationError(_("--push-to-hub cannot push while HF_HUB_OFFLINE is set. Nothing was pushed."))
    return token


def hf_push(folder: Path, repo: str, *, token: str, private: bool = False) -> str:
    """Upload the dataset folder to the Hub's dataset repository `repo` (made when missing); its URL."""
    import httpx  # noqa: PLC0415  (the Hub client's transport)
    from huggingface_hub import HfApi  # noqa: PLC0415
    from huggingface_hub.errors import HfHubHTTPError  # noqa: PLC0415

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo, repo_type="dataset", exist_ok=True, private=private)
        api.upload_folder(folder_path=folder, repo_id=repo, repo_type="dataset", commit_message="export_feedback")
    except (HfHubHTTPError, httpx.HTTPError, OSError, ValueError) as exc:
        raise ApplicationError(
            _("Pushing to %(repo)s failed (%(error)s); the dataset is in %(folder)s.")
            % {"repo": repo, "error": exc, "folder": folder}
        ) from None
    return str(url)
