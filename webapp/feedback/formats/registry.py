"""The import and export formats (docs/formats.md). Adding one (OpenAssistant trees, UltraFeedback,
HH-RLHF, ...) registers an entry here from its own module; the importer and the exporter never
change.

* An import format turns one record of a file (a parsed JSON object or a Parquet row) into the
  store's two record kinds (`PairLine` or `RankingLine`, webapp.feedback.formats.parsing), which
  the importer writes. The store's own formats map one object to one record (`parse`) and recognise
  their objects (`detect`): without `--format` they are tried in registration order. A published
  dataset's format (`oasst`, `ultrafeedback`, `hh-rlhf`, ...) is used when named and may turn one
  record into several, or into none with a `Skip` naming the reason (`convert`).
* A format whose records are not pairs or rankings (`arena`: battles and votes, owned by a higher app)
  gives a `sink`: the importer hands it every other record `convert` yields, in the same batches and the
  same transaction as its own, so the file is still imported whole or not at all.
* An export format turns an `ExportSpec` into a stream of JSON-ready rows (and may write them as text
  faster: `lines`), or writes a folder of files itself (`write`: the Hugging Face dataset, `hf`).
* An unpaired source feeds the `kto` export (webapp/feedback/formats/kto.py): it turns an `ExportSpec` into
  labelled answers (`UnpairedLabel`: this completion to this prompt is desirable or not). `arena`, `ranking`
  and `flags` are registered there; a later source (e.g. `verify` votes) registers one more entry and
  `--kto-sources` offers it."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.translation import gettext_noop

from webapp.registry import Registry

if TYPE_CHECKING:
    from webapp.feedback.formats.exporting import ExportSpec
    from webapp.feedback.formats.parsing import PairLine, RankingLine
    from webapp.feedback.formats.readers import RecordReader


@dataclass(frozen=True)
class ImportOptions:
    """What the person importing chose, for the formats that need it."""

    language: str = "en"  # canonical BCP-47 tag for records whose format has no language field
    origin: str = ""  # the name of the file being imported (formats that keep where a record came from)


class ImportErrors(Protocol):
    """What a sink reports to: the import's report (webapp.feedback.services.importing.ImportReport)."""

    def add_error(self, line_no: int, message: str) -> None: ...

    def count(self, what: str, *, created: int = 0, unchanged: int = 0) -> None: ...

    def skip(self, reason: str) -> None: ...  # `reason` marked with gettext_noop, as a Skip's


class ImportSink(Protocol):
    """Writes the records of a format that are neither pairs nor rankings. `flush` checks the buffered
    records (reporting bad ones with their line numbers) and writes the good ones when `write`; an error
    found in `flush` still rolls the whole file back."""

    def add(self, record: Any) -> None: ...

    def pending(self) -> int: ...

    def flush(self, *, write: bool) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Skip:
    """A record a format leaves out on purpose (a known quirk of the published data): counted per
    reason in the import's report, never an error. `reason` is marked with gettext_noop."""

    reason: str


@dataclass(frozen=True)
class ImportFormat:
    name: str
    description: str  # what a line of it looks like, for the "neither ... nor ..." error
    # One object -> one record (the store's own formats); they take part in auto-detection with `detect`.
    parse: "Callable[[dict[str, Any], int], PairLine | RankingLine] | None" = None
    detect: Callable[[dict[str, Any]], bool] | None = None
    # One object -> zero or more records and skips (the published datasets' formats).
    convert: "Callable[[dict[str, Any], int, ImportOptions], Iterable[PairLine | RankingLine | Skip]] | None" = None
    # A format that reads its own kind of input (hf: a dataset folder, or a .zip of one) instead of one
    # JSON Lines or Parquet file: (path, line limit) -> a context manager giving a RecordReader.
    open: "Callable[[Path, int], AbstractContextManager[RecordReader]] | None" = None
    # A format whose `convert` yields records of its own kind: (report, options) -> the sink that writes them.
    sink: "Callable[[ImportErrors, ImportOptions], ImportSink] | None" = None

    def records(
        self, obj: dict[str, Any], number: int, options: ImportOptions
    ) -> "Iterable[PairLine | RankingLine | Skip | Any]":
        if self.convert is not None:
            return self.convert(obj, number, options)
        if self.parse is None:
            raise ValueError(f"import format {self.name!r} has neither parse nor convert")
        return (self.parse(obj, number),)


@dataclass(frozen=True)
class ExportFormat:
    name: str
    # None for a format that writes a folder (`write`) rather than a stream of rows.
    rows: "Callable[[ExportSpec], Iterator[dict[str, Any]]] | None"
    # Optional fast path for files: the same rows as JSON Lines, in blocks of (UTF-8 bytes of whole lines, each
    # ending in a newline, and how many lines). The exporter writes these when given; training snapshots and
    # other callers read `rows`.
    blocks: "Callable[[ExportSpec], Iterator[tuple[bytes, int]]] | None" = None
    # A format that writes a folder of files (`hf`: a Hugging Face dataset): (spec, folder, on_progress) -> rows.
    write: "Callable[[ExportSpec, Path, Callable[[int], None] | None], int] | None" = None


import_formats: Registry[ImportFormat] = Registry(gettext_noop("import format"))
export_formats: Registry[ExportFormat] = Registry(gettext_noop("export format"))


@dataclass(frozen=True)
class UnpairedLabel:
    """One answer labelled by one source: `prompt` and `completion` as stored (a string or chat messages)."""

    prompt: Any
    completion: Any
    desirable: bool
    language: str
    group: str = ""
    veto: bool = False  # undesirable whatever the other labels of the same answer say (an `unsafe` flag)


@dataclass(frozen=True)
class UnpairedSource:
    name: str
    description: str
    labels: "Callable[[ExportSpec], Iterator[UnpairedLabel]]"


unpaired_sources: Registry[UnpairedSource] = Registry(gettext_noop("KTO source"))
