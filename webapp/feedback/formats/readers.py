"""Reading an import file record by record: JSON Lines (`.jsonl`), gzip-compressed JSON Lines
(`.jsonl.gz`, as the OpenAssistant and Chatbot Arena dumps are published) and Parquet (`.parquet`, as
the Hugging Face Hub serves datasets). Memory stays flat whatever the file's size: JSON Lines are read a
line at a time (never more than the line limit of one line), gzip is decompressed as it is read, and
Parquet is read a batch of rows at a time.

The kind of file is told by its first bytes (gzip and Parquet have magic numbers; an upload is stored
under a name of our own), and a name that promises one kind while the bytes say another is an error.

Each reader yields (record number, record): the number counts lines (blank ones included) or rows from
1, and the record is a line's bytes, a line's size when it is over the limit, or a Parquet row as a
dict of JSON values."""

import datetime
import decimal
import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from django.utils.translation import gettext as _

from webapp.errors import ApplicationError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
CHUNK = 1024 * 1024  # how much of an over-long line is read at a time while skipping it
PARQUET_BATCH = 1000  # rows decoded at a time

Record = bytes | int | dict[str, Any]


class RecordReader(Protocol):
    total: int  # what progress counts up to: bytes of the file, or rows

    def __iter__(self) -> Iterator[tuple[int, Record]]: ...

    def position(self) -> int: ...


def file_kind(path: Path) -> str:
    """jsonl, gzip or parquet, from the first bytes, checked against the name's extension."""
    with path.open("rb") as handle:
        head = handle.read(4)
    kind = "gzip" if head[:2] == GZIP_MAGIC else "parquet" if head == PARQUET_MAGIC else "jsonl"
    named = "gzip" if path.suffix == ".gz" else "parquet" if path.suffix == ".parquet" else None
    if named is not None and named != kind:
        raise ApplicationError(
            _("%(name)s is named as a %(named)s file but its content is not %(named)s")
            % {"name": path.name, "named": named}
        )
    return kind


@contextmanager
def open_records(path: Path, limit: int) -> Iterator[RecordReader]:
    """A reader for the file at `path`; `limit`: the longest JSON line read whole, in bytes."""
    kind = file_kind(path)
    if kind == "parquet":
        yield ParquetReader(path)
        return
    with path.open("rb") as raw:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=raw) as stream:
                yield JsonLinesReader(raw, stream, limit, total=path.stat().st_size, compressed=True)
        else:
            yield JsonLinesReader(raw, raw, limit, total=path.stat().st_size)


class JsonLinesReader:
    def __init__(self, raw: BinaryIO, stream: BinaryIO, limit: int, *, total: int, compressed: bool = False):
        self.raw, self.stream, self.limit, self.total, self.compressed = raw, stream, limit, total, compressed

    def position(self) -> int:
        return self.raw.tell()  # of the file on disk, compressed or not, so progress ends at its size

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        if not self.compressed:
            yield from lines(self.stream, self.limit)
            return
        line_no = 0
        try:
            for line_no, raw in lines(self.stream, self.limit):
                yield line_no, raw
        except (EOFError, OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise ApplicationError(
                _("the gzip data is damaged after line %(line)s: %(problem)s") % {"line": line_no, "problem": exc}
            ) from None


def lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | int]]:
    """(line number, the line without its line ending) for each line, or for a line over `limit` bytes
    (line ending not counted) its size instead. At most `limit` + 2 bytes of a line are held at once: the
    rest of a long line is read in chunks, counted and dropped."""
    line_no = 0
    while raw := handle.readline(limit + 2):  # room for the limit and a CRLF
        line_no += 1
        if raw.endswith(b"\n") or len(raw) < limit + 2:  # the whole line (the last one may have no ending)
            body = raw.rstrip(b"\r\n")
            yield line_no, body if len(body) <= limit else len(body)
            continue
        size, last = len(raw), raw[-1:]
        while chunk := handle.readline(CHUNK):
            size += len(chunk)
            if chunk.endswith(b"\n"):
                size -= 2 if chunk.endswith(b"\r\n") or (chunk == b"\n" and last == b"\r") else 1
                break
            last = chunk[-1:]
        yield line_no, size


class ParquetReader:
    def __init__(self, path: Path):
        import pyarrow  # noqa: PLC0415  (only an import of a Parquet file needs it)
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            self.file = pq.ParquetFile(path)
        except (pyarrow.ArrowException, OSError) as exc:
            raise ApplicationError(
                _("%(name)s is not a readable Parquet file: %(problem)s") % {"name": path.name, "problem": exc}
            ) from None
        self.total = self.file.metadata.num_rows
        self.done = 0

    def position(self) -> int:
        return self.done

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        import pyarrow  # noqa: PLC0415

        try:
            for batch in self.file.iter_batches(batch_size=PARQUET_BATCH):
                for row in batch.to_pylist():
                    self.done += 1
                    yield self.done, _json_values(row)
        except pyarrow.ArrowException as exc:
            raise ApplicationError(
                _("the Parquet data is damaged after row %(row)s: %(problem)s") % {"row": self.done, "problem": exc}
            ) from None


def _json_values(value: Any) -> Any:
    """A Parquet row's values as JSON would hold them (dates and times as ISO 8601 text, decimals as
    numbers, bytes as UTF-8 text), so a row and the same record as a JSON line import alike."""
    if isinstance(value, dict):
        return {key: _json_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_values(item) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
