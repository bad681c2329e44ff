"""The import and export formats (docs/formats.md). Adding one (OpenAssistant trees, UltraFeedback,
HH-RLHF, ...) registers an entry here from its own module; the importer and the exporter never
change.

* An import format recognises a parsed JSON object (`detect`) and turns it into one of the store's
  two record kinds (`PairLine` or `RankingLine`, webapp.feedback.formats.parsing), which the
  importer writes. Formats are tried in registration order.
* An export format turns an `ExportSpec` into a stream of JSON-ready rows (and may write them as text
  faster: `lines`)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from webapp.registry import Registry

if TYPE_CHECKING:
    from webapp.feedback.formats.exporting import ExportSpec
    from webapp.feedback.formats.parsing import PairLine, RankingLine


@dataclass(frozen=True)
class ImportFormat:
    name: str
    description: str  # what a line of it looks like, for the "neither ... nor ..." error
    detect: Callable[[dict[str, Any]], bool]
    parse: "Callable[[dict[str, Any], int], PairLine | RankingLine]"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    rows: "Callable[[ExportSpec], Iterator[dict[str, Any]]]"
    # Optional fast path for files: the same rows as JSON text, one per item (the exporter writes these
    # when given; training snapshots and other callers read `rows`).
    lines: "Callable[[ExportSpec], Iterator[str]] | None" = None


import_formats: Registry[ImportFormat] = Registry(gettext_noop("import format"))
export_formats: Registry[ExportFormat] = Registry(gettext_noop("export format"))
