"""`import_feedback DIR --format hf`: a folder written by `export_feedback --format hf` read back (the round
trip), or the .zip the export's download serves (as the import API receives it).

    manage.py export_feedback --format hf --out feedback-hf
    manage.py import_feedback feedback-hf --format hf          # on another instance; here: all unchanged

The `rankings` config gives ranking tasks (as the rankings format reads them) and the `pairs` config pairs
(as the pairs format): the texts go back to plain strings where `text_fields` says the store held them so,
`metadata` back to an object. Pairs that were derived from rankings (their metadata is the derivation's
`task_id`, `campaign`, `n`) are skipped when the folder holds the `rankings` config, since they are derived
again from its rankings; without it they come in as pairs. The `dpo` and `sft` configs repeat what these
two hold and are not read. Both splits of each config are read, a batch of rows at a time."""

import json
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from webapp.errors import ApplicationError
from webapp.feedback.formats.parsing import LineError, PairLine, RankingLine, pair_record, ranking_record
from webapp.feedback.formats.readers import ParquetReader, Record
from webapp.feedback.formats.registry import ImportFormat, ImportOptions, Skip, import_formats

NAME = "hf"
READ = ("rankings", "pairs")  # rankings first: a task's pairs are derived from its rankings
SPLITS = ("train", "test")
TEXTS = ("prompt", "chosen", "rejected")
DERIVATION = {"task_id", "campaign", "n"}
# Keys the reader adds to each row: where it comes from (for messages) and whether the folder has rankings.
WHERE, CONFIG, WITH_RANKINGS = "__hf_where", "__hf_config", "__hf_with_rankings"
MAX_UNPACK_RATIO = 20
DERIVED = gettext_noop("a pair derived from rankings that this folder holds (derived again from them)")


class FolderReader:
    """The rows of a dataset folder's `rankings` and `pairs` Parquet files, each tagged with its file and row."""

    def __init__(self, folder: Path) -> None:
        self.files = [
            (config, folder / config / f"{split}.parquet")
            for config in READ
            for split in SPLITS
            if (folder / config / f"{split}.parquet").is_file()
        ]
        if not self.files:
            raise ApplicationError(
                _(
                    "%(path)s holds neither pairs/ nor rankings/ Parquet files: it is not a folder export_feedback "
                    "--format hf wrote"
                )
                % {"path": folder}
            )
        self.with_rankings = any(config == "rankings" for config, _path in self.files)
        self.readers = [(config, path, ParquetReader(path)) for config, path in self.files]
        self.total = sum(reader.total for _config, _path, reader in self.readers)
        self.done = 0

    def position(self) -> int:
        return self.done

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        for config, path, reader in self.readers:
            where = f"{path.parent.name}/{path.name}"
            for row_no, row in reader:
                self.done += 1
                assert isinstance(row, dict)  # a Parquet reader yields rows
                row.update({WHERE: f"{where} row {row_no}", CONFIG: config, WITH_RANKINGS: self.with_rankings})
                yield self.done, row


@contextmanager
def open_folder(path: Path, limit: int) -> Iterator[FolderReader]:
    """The folder at `path`, or the .zip of one (unpacked into a temporary folder while it is read)."""
    if path.is_dir():
        yield FolderReader(path)
        return
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ApplicationError(
            _("%(path)s: --format hf reads a folder written by export_feedback --format hf, or a .zip of one")
            % {"path": path}
        )
    with tempfile.TemporaryDirectory(prefix="hf-import-", dir=path.parent) as tmp:
        with zipfile.ZipFile(path) as archive:
            _check_unpacked_size(archive, path)
            archive.extractall(tmp)  # member names are made safe (no absolute paths, no "..")
        yield FolderReader(_dataset_folder(Path(tmp)))


def _check_unpacked_size(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse a zip bomb before unpacking it: the export's .zip stores its Parquet files as they are (about
    1:1), so an archive that would unpack to far more than its own size is not one."""
    unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_UNPACK_RATIO * path.stat().st_size + 2**20:
        raise ApplicationError(
            _("%(path)s would unpack to %(size)s bytes, over %(ratio)s times its own size: not an hf export's .zip")
            % {"path": path.name, "size": unpacked, "ratio": MAX_UNPACK_RATIO}
        )


def _dataset_folder(unpacked: Path) -> Path:
    """The export's download holds one top-level folder; a zip of the files themselves works too."""
    entries = list(unpacked.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked


def hf_records(obj: dict[str, Any], number: int, options: ImportOptions) -> Iterator[PairLine | RankingLine | Skip]:
    where = obj.pop(WHERE, "")
    config, with_rankings = obj.pop(CONFIG, ""), obj.pop(WITH_RANKINGS, False)
    try:
        if config == "rankings":
            yield ranking_record(_ranking_object(obj), number)
        elif with_rankings and _derived(obj):
            yield Skip(DERIVED)
        else:
            yield pair_record(_pair_object(obj), number)
    except (ApplicationError, KeyError, TypeError, ValueError) as exc:
        problem = exc.message if isinstance(exc, ApplicationError) else _("a column is missing or of the wrong type")
        raise LineError(f"{where}: {problem}") from None


def _derived(row: dict) -> bool:
    try:
        return set(json.loads(row.get("metadata") or "{}")) == DERIVATION
    except (TypeError, ValueError):
        return False


def _text(messages: Any, plain: bool) -> Any:
    """A text as the store held it: one message's content when it was a plain string, else the messages."""
    if plain and isinstance(messages, list) and len(messages) == 1:
        return messages[0]["content"]
    return messages


def _pair_object(row: dict) -> dict:
    plain = set(row.get("text_fields") or ())
    obj: dict[str, Any] = {name: _text(row[name], name in plain) for name in TEXTS}
    obj.update(language=row["language"], id=row["id"])
    obj.update({key: row[key] for key in ("group", "source", "prompt_id") if row.get(key)})
    if row.get("agreement") is not None:
        obj["agreement"] = row["agreement"]
    metadata = json.loads(row.get("metadata") or "{}")
    if metadata:
        obj["metadata"] = metadata
    return obj


def _ranking_object(row: dict) -> dict:
    obj: dict[str, Any] = {
        "id": row["id"],
        "prompt": _text(row["prompt"], "prompt" in (row.get("text_fields") or ())),
        "language": row["language"],
        "responses": [_present({"text": r["text"], "model": r["model"], "id": r["id"]}) for r in row["responses"]],
        "rankings": [
            _present(
                {"annotator": r["annotator"], "ranking": r["ranking"], "flags": r["flags"], "rationale": r["rationale"]}
            )
            for r in row["rankings"]
        ],
    }
    obj.update({key: row[key] for key in ("group", "campaign") if row.get(key)})
    return obj


def _present(entry: dict) -> dict:
    """Without the keys the export filled with "" or [] for "not given"."""
    return {key: value for key, value in entry.items() if value or key in ("text", "ranking")}


import_formats.register(
    NAME,
    ImportFormat(
        NAME,
        gettext_noop("a folder written by export_feedback --format hf"),
        convert=hf_records,
        open=open_folder,
    ),
)
