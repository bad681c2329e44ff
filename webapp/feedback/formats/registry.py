"""The import and export formats (docs/formats.md). Adding one (OpenAssistant trees, UltraFeedback,
HH-RLHF, ...) registers an entry here from its own module; the importer and the exporter never
change.

* An import format turns one record of a file (a parsed JSON object or a Parquet row) into the
  store's two record kinds (`PairLine` or `RankingLine`, webapp.feedback.formats.parsing), which
  the importer writes. The store's own formats map one object to one record (`parse`) and recognise
  their objects (`detect`): without `--format` they are tried in registration order. A published
  dataset's format (`oasst`, `ultrafeedback`, `hh-rlhf`, ...) is used when named and may turn one
  record into several, or into none with a `Skip` naming the reason (`convert`).
* An export format turns an `ExportSpec` into a stream of JSON-ready rows (and may write them as text
  faster: `lines`)."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from webapp.registry import Registry

if TYPE_CHECKING:
    from webapp.feedback.formats.exporting import ExportSpec
    from webapp.feedback.formats.parsing import PairLine, RankingLine


@dataclass(frozen=True)
class ImportOptions:
    """What the person importing chose, for the formats that need it."""

    language: str = "en"  # canonical BCP-47 tag for records whose format has no language field


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

    def records(
        self, obj: dict[str, Any], number: int, options: ImportOptions
    ) -> "Iterable[PairLine | RankingLine | Skip]":
        if self.convert is not None:
            return self.convert(obj, number, options)
        if self.parse is None:
            raise ValueError(f"import format {self.name!r} has neither parse nor convert")
        return (self.parse(obj, number),)


@dataclass(frozen=True)
class ExportFormat:
    name: str
    rows: "Callable[[ExportSpec], Iterator[dict[str, Any]]]"
    # Optional fast path for files: the same rows as JSON text, one per item (the exporter writes these
    # when given; training snapshots and other callers read `rows`).
    lines: "Callable[[ExportSpec], Iterator[str]] | None" = None


import_formats: Registry[ImportFormat] = Registry(gettext_noop("import format"))
export_formats: Registry[ExportFormat] = Registry(gettext_noop("export format"))
