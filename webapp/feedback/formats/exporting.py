"""export_feedback: stream the store as JSON Lines in the registered export formats (pairs, dpo, sft,
rankings, kto: docs/formats.md), or as a Hugging Face dataset folder of them (hf: hf_export.py).

Rows are produced by generators over `.iterator()` querysets, so memory stays flat whatever the size,
and the file is written under a temporary name and renamed when complete (a crash leaves no
half-written export). On PostgreSQL an export, and a reader that may stop early (the launch form's preview,
which counts the first pairs), iterate inside a transaction: Django declares a server-side cursor opened in
autocommit mode WITH HOLD, and PostgreSQL computes a held cursor's whole result at the end of the declaring
transaction, so the first rows would wait for all of them (and an export paid for a copy of every row: about a
fifth of reading 100,000 records). Not on SQLite, whose transactions begin IMMEDIATE (they take the write lock).

The pairs format's preference records, the bulk of most exports, have a faster path on PostgreSQL: the database
builds each JSON line and they stream out of one COPY (`_record_lines_copy`), byte for byte the lines Python
builds elsewhere (a test compares the two)."""

import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback import selectors, sources
from webapp.feedback.content import as_messages
from webapp.feedback.formats.pairs import DerivedPair, PairPolicy, TaskResult, derive_pairs, pair_id
from webapp.feedback.formats.registry import ExportFormat, export_formats, unpaired_sources
from webapp.feedback.services.languages import canonical_tag
from webapp.feedback.sources import ORIGIN_API, ORIGIN_PAIRS, SOURCES, Source


@dataclass(frozen=True)
class ExportSpec:
    format: str = "pairs"
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # none: every source but judges (webapp/feedback/sources.py)
    origins: tuple[str, ...] = ()  # none: any origin
    campaigns: tuple[str, ...] = ()
    policy: PairPolicy = PairPolicy()
    since: datetime | None = None  # annotations and records created in [since, until)
    until: datetime | None = None
    # None: judges' labels are selected like any source. Else the training gate's answer
    # (webapp/training/data.py): the (judge origin, language) pairs whose labels may enter, and no others.
    judges_admitted: tuple[tuple[str, str], ...] | None = None
    # The folder formats' (hf) settings: the share of translation groups in the test split, as training's
    # eval_fraction (webapp/feedback/formats/splits.py), and the licence the dataset card declares.
    test_fraction: float = 0.1
    license: str = ""
    # Contributions still being verified (their demonstrations and edit pairs) are left out unless asked.
    include_pending: bool = False
    # The kto format's unpaired sources (webapp/feedback/formats/kto.py); none named: all of them.
    kto_sources: tuple[str, ...] = ()

    def __post_init__(self):
        if self.format not in export_formats:
            raise ApplicationError(
                _("format must be one of %(choices)s") % {"choices": ", ".join(export_formats.names())}
            )
        unknown = set(self.sources) - set(SOURCES)
        if unknown:
            raise ApplicationError(
                _("unknown source(s) %(unknown)s; use %(choices)s")
                % {"unknown": sorted(unknown), "choices": ", ".join(SOURCES)}
            )
        unknown_kto = [name for name in self.kto_sources if name not in unpaired_sources]
        if unknown_kto:
            raise ApplicationError(
                _("unknown KTO source(s) %(unknown)s; use %(choices)s")
                % {"unknown": ", ".join(unknown_kto), "choices": ", ".join(unpaired_sources.names())}
            )
        if not 0 <= self.test_fraction <= 0.5:
            raise ApplicationError(_("test_fraction must be a number from 0 to 0.5"))
        if self.license and not LICENSE_ID.fullmatch(self.license):
            raise ApplicationError(
                _("license must be a licence id such as cc-by-4.0 or apache-2.0 (lower-case letters, digits, . and -)")
            )

    @classmethod
    def from_params(cls, params: dict) -> "ExportSpec":
        """From the flags of export_feedback or the body of the export API (validated here)."""
        selected_sources, origins = sources.selection_from_params(params)
        try:
            policy = PairPolicy(
                min_agreement=float(params.get("min_agreement", 0.5)),
                min_annotators=int(params.get("min_annotators", 1)),
                expansion=params.get("pairs", "best_vs_rest"),
                include_flagged=bool(params.get("include_flagged", False)),
            )
        except (TypeError, ValueError):
            raise ApplicationError(_("min_agreement must be a number and min_annotators an integer")) from None
        try:
            test_fraction = float(params.get("test_fraction", 0.1))
        except (TypeError, ValueError):
            raise ApplicationError(_("test_fraction must be a number from 0 to 0.5")) from None
        return cls(
            format=params.get("format", "pairs"),
            languages=tuple(canonical_tag(code) for code in params.get("languages") or ()),
            sources=selected_sources,
            origins=origins,
            campaigns=tuple(params.get("campaigns") or ()),
            policy=policy,
            since=_when(params.get("since"), "since"),
            until=_when(params.get("until"), "until"),
            test_fraction=test_fraction,
            license=str(params.get("license") or ""),
            include_pending=bool(params.get("include_pending", False)),
            kto_sources=_kto_sources(params.get("kto_sources")),
        )

    def window(self) -> dict:
        return {"since": self.since, "until": self.until}

    def rankings(self):
        """The filter on rankings (Annotation rows) this export takes, or None for none of them."""
        return sources.selected(
            self.sources,
            self.origins,
            sources.RANKING_SOURCES,
            judges=self.judges_admitted,
            language="task__language_id",
        )

    def records(self):
        """The filter on preference records, or None: records have no campaign, so naming campaigns
        leaves them out."""
        if self.campaigns:
            return None
        return sources.selected(self.sources, self.origins, sources.RECORD_SOURCES, judges=self.judges_admitted)

    def demonstrations(self):
        """The filter on demonstrations (SFT data: imported such as Aya, or written), or None; like records they
        have no campaign."""
        if self.campaigns:
            return None
        return sources.selected(self.sources, self.origins, sources.DEMONSTRATION_SOURCES)


def _kto_sources(value) -> tuple[str, ...]:
    """A list of names, or one string of comma-separated names (the command's `--kto-sources a,b`)."""
    if value in (None, "", [], ()):
        return ()
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ApplicationError(
            _("kto_sources must be a list of names from %(choices)s") % {"choices": ", ".join(unpaired_sources.names())}
        )
    return tuple(dict.fromkeys(n.strip() for n in names if n.strip()))


def _when(value, name: str) -> datetime | None:
    """An ISO 8601 date or time (UTC when it names no zone)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    from django.utils.dateparse import parse_date, parse_datetime
    from django.utils.timezone import make_aware

    parsed = parse_datetime(str(value)) or (parse_date(str(value)) and datetime.fromisoformat(str(value)))
    if not parsed:
        raise ApplicationError(
            _("%(field)s must be an ISO 8601 date or time such as 2026-11-01 or 2026-11-01T12:00Z") % {"field": name}
        )
    return parsed if parsed.tzinfo else make_aware(parsed, timezone=UTC)


def feedback_export(*, spec: ExportSpec, out: str | Path, on_progress: Callable[[int], None] | None = None) -> int:
    """Write the export to `out` (a file, or a folder for a folder format) and return the number of rows. On
    PostgreSQL in one transaction, so its cursors stream rather than being computed whole first (the module
    docstring); a job's progress is written by its heartbeat on another connection (webapp/jobs/services.py)."""
    with streaming_reads():
        return _export(spec, Path(out), on_progress)


def streaming_reads() -> AbstractContextManager:
    """Where a long or early-stopping read of these rows runs: a transaction on PostgreSQL, so its server-side
    cursors stream (the module docstring), nothing on SQLite. For readers that write nothing meanwhile on this
    connection (an export, a preview, a training snapshot: their jobs' progress goes by the heartbeat's)."""
    return transaction.atomic() if connection.vendor == "postgresql" else nullcontext()


def _export(spec: ExportSpec, out: Path, on_progress: Callable[[int], None] | None) -> int:
    fmt = export_formats.get(spec.format)
    if fmt.write is not None:
        return fmt.write(spec, out, on_progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    count = 0
    with tmp.open("wb") as handle:
        for block, lines in export_blocks(spec):
            handle.write(block)
            if on_progress and (count + lines) // PROGRESS_EVERY > count // PROGRESS_EVERY:
                on_progress(count + lines)
            count += lines
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(out)
    return count


PROGRESS_EVERY = 1000  # rows between a job's progress reports
BLOCK_LINES = 1000  # lines encoded and written at once


def export_blocks(spec: ExportSpec) -> Iterator[tuple[bytes, int]]:
    """The rows as JSON Lines in blocks of (UTF-8 bytes, lines): the format's fast path where it has one, else
    each row encoded."""
    fmt = export_formats.get(spec.format)
    if fmt.blocks is not None:
        return fmt.blocks(spec)
    return _blocks(map(_encode, _rows_of(fmt)(spec)))


def _blocks(lines: Iterable[str]) -> Iterator[tuple[bytes, int]]:
    """Lines of JSON text (no newline) as blocks of BLOCK_LINES lines."""
    iterator = iter(lines)
    while batch := list(itertools.islice(iterator, BLOCK_LINES)):
        yield ("\n".join(batch) + "\n").encode("utf-8"), len(batch)


def export_rows(spec: ExportSpec) -> Iterator[dict]:
    return _rows_of(export_formats.get(spec.format))(spec)


def _rows_of(fmt: ExportFormat) -> Callable[[ExportSpec], Iterator[dict]]:
    if fmt.rows is None:
        raise ApplicationError(_("format %(name)s writes a folder, not rows") % {"name": fmt.name})
    return fmt.rows


_encode = json.JSONEncoder(ensure_ascii=False).encode
LICENSE_ID = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}\Z")  # the Hub's licence ids: apache-2.0, cc-by-nc-4.0, other


PairRow = Callable[[DerivedPair], dict]
RecordRow = Callable[[Any, Any, Any], dict]  # (record, chosen, rejected)


def _pair_family(
    derived: Callable[[TaskResult], Iterator[dict]], record: RecordRow
) -> Callable[[ExportSpec], Iterator[dict]]:
    """The preference formats (pairs, dpo, sft): pairs derived from annotations (docs/formats.md),
    then arena votes and imported pairs, each shaped by the format's two row builders."""

    def rows(spec: ExportSpec) -> Iterator[dict]:
        yield from _derived_rows(spec, derived)
        records = spec.records()
        if records is not None:
            yield from _record_rows(spec, records, record)

    return rows


def _derived_rows(spec: ExportSpec, derived: Callable[[TaskResult], Iterator[dict]]) -> Iterator[dict]:
    """The rows of the pairs derived from the selected rankings (docs/formats.md)."""
    rankings = spec.rankings()
    if rankings is None:
        return
    tasks = selectors.tasks_for_pairs(
        languages=list(spec.languages), campaigns=list(spec.campaigns), rankings=rankings, **spec.window()
    )
    for result in derive_pairs(tasks.iterator(chunk_size=selectors.STREAM_CHUNK), spec.policy):
        yield from derived(result)


def _derived_pairs_rows(result: TaskResult) -> Iterator[dict]:
    for p in result.pairs:
        row = {
            "prompt": p.prompt,
            "chosen": p.chosen,
            "rejected": p.rejected,
            "language": p.language,
            "id": p.id,
            "source": p.source,
            "agreement": p.agreement,
            "metadata": {"task_id": p.task_external_id or str(p.task_id), "campaign": p.campaign, "n": p.n},
        }
        if p.group:
            row["group"] = p.group
        yield row


def _derived_dpo_rows(result: TaskResult) -> Iterator[dict]:
    for p in result.pairs:
        yield _dpo_row(p.prompt, p.chosen, p.rejected, p.language, p.id, p.source, p.origin, p.agreement, p.group)


def _derived_sft_rows(result: TaskResult) -> Iterator[dict]:
    """The aggregated best response of each task that emits pairs."""
    if result.best_response is not None:
        task = result.task
        best = result.best_response
        yield _sft_row(
            task.prompt.content, best.content, task.language_id, pair_id(task.pk, best.pk), task.prompt.group
        )


RECORD_COLUMNS = (
    "external_id",
    "prompt",
    "response_a",
    "response_b",
    "outcome",
    "source",
    "origin",
    "language_id",
    "group",
    "prompt_external_id",
    "agreement",
    "metadata",
)


def _record_rows(spec: ExportSpec, selection, shape: RecordRow) -> Iterator[dict]:
    records = selectors.preference_records(
        languages=list(spec.languages), selection=selection, include_pending=spec.include_pending, **spec.window()
    )
    # Ties and both-bad count in ratings, never as pairs. Named tuples of the needed columns only:
    # no model instances, no unused JSON decoded.
    records = records.filter(outcome__in=("a", "b")).values_list(*RECORD_COLUMNS, named=True)
    for r in records.iterator(chunk_size=2000):
        chosen, rejected = (r.response_a, r.response_b) if r.outcome == "a" else (r.response_b, r.response_a)
        yield shape(r, chosen, rejected)


RAW_JSON = {name: Cast(name, TextField()) for name in ("prompt", "response_a", "response_b", "metadata")}
RAW_COLUMNS = tuple(f"{name}__raw" if name in RAW_JSON else name for name in RECORD_COLUMNS)


def _pairs_blocks(spec: ExportSpec) -> Iterator[tuple[bytes, int]]:
    """Format pairs as JSON Lines: derived pairs encoded row by row, then the records' lines built from their
    stored JSON as the database writes it (never decoded and encoded again), key for key what `_pairs_row`
    gives: the same order, the same optional keys. On PostgreSQL the database builds those lines itself and
    they stream out of one COPY (`_record_lines_copy`); elsewhere Python builds them (`_record_lines`)."""
    yield from _blocks(map(_encode, _derived_rows(spec, _derived_pairs_rows)))
    selection = spec.records()
    if selection is None:
        return
    records = selectors.preference_records(
        languages=list(spec.languages), selection=selection, include_pending=spec.include_pending, **spec.window()
    ).filter(outcome__in=("a", "b"))
    if connection.vendor == "postgresql" and COPY_RECORD_LINES:
        yield from _record_lines_copy(records)
    else:
        yield from _blocks(_record_lines(records))


COPY_RECORD_LINES = True  # False: the Python path on PostgreSQL too (the tests compare the two)


def _record_lines(records) -> Iterator[str]:
    records = records.annotate(**{f"{k}__raw": v for k, v in RAW_JSON.items()})
    quote = encode_basestring
    for (
        ext,
        prompt,
        a,
        b,
        outcome,
        source,
        origin,
        language,
        group,
        prompt_id,
        agreement,
        metadata,
    ) in records.values_list(*RAW_COLUMNS).iterator(chunk_size=5000):
        chosen, rejected = (a, b) if outcome == "a" else (b, a)
        line = f'{{"prompt": {prompt}, "chosen": {chosen}, "rejected": {rejected}, "language": {quote(language)}, '
        line += f'"id": {quote(ext)}'
        if group:
            line += f', "group": {quote(group)}'
        if source := _interchange_source(source, origin):
            line += f', "source": {quote(source)}'
        if prompt_id:
            line += f', "prompt_id": {quote(prompt_id)}'
        if metadata != "{}":
            line += f', "metadata": {metadata}'
        if agreement is not None:
            line += f', "agreement": {_encode(agreement)}'
        yield line + "}"


# `_record_lines` in SQL, over the columns of the records' query (`r`). It writes the same bytes: jsonb's text
# form is what Python reads back and encodes with the default separators; to_json quotes a string as Python's
# encoder does (`\"`, `\\`, \b \f \n \r \t, other control characters as \u00XX, the rest as it is); a float
# prints the shortest digits that read back the same (extra_float_digits = 1, PostgreSQL's default, set here),
# which are Python's repr, with ".0" added to whole numbers as Python writes them (agreement lies in [0, 1]).
RECORD_LINE_SQL = """'{"prompt": ' || r.prompt::text
 || ', "chosen": ' || (CASE WHEN r.outcome = 'a' THEN r.response_a ELSE r.response_b END)::text
 || ', "rejected": ' || (CASE WHEN r.outcome = 'a' THEN r.response_b ELSE r.response_a END)::text
 || ', "language": ' || to_json(r.language_id)::text
 || ', "id": ' || to_json(r.external_id)::text
 || CASE WHEN r."group" <> '' THEN ', "group": ' || to_json(r."group")::text ELSE '' END
 || COALESCE(', "source": ' || to_json(NULLIF(CASE WHEN r.source = %s AND r.origin NOT IN ('', %s, %s)
                                                  THEN r.origin ELSE r.source END, ''))::text, '')
 || CASE WHEN r.prompt_external_id <> '' THEN ', "prompt_id": ' || to_json(r.prompt_external_id)::text ELSE '' END
 || CASE WHEN r.metadata <> '{}'::jsonb THEN ', "metadata": ' || r.metadata::text ELSE '' END
 || COALESCE(', "agreement": ' || r.agreement::text
             || CASE WHEN r.agreement = trunc(r.agreement) THEN '.0' ELSE '' END, '')
 || '}'"""


def _record_lines_copy(records) -> Iterator[tuple[bytes, int]]:
    """The records' JSON Lines out of one `COPY (SELECT line ...) TO STDOUT`: the database builds each line, and
    this process only undoes COPY's text escaping. That escaping doubles each backslash and writes newline,
    carriage return, tab, backspace, form feed and vertical tab as backslash sequences; a line built here holds
    none of those characters raw (jsonb's and to_json's text escape them), so every backslash in the stream is
    one of a doubled pair, and halving them, block by block on whole lines, gives the lines back exactly."""
    inner, params = records.values_list("id", *RECORD_COLUMNS).query.sql_with_params()
    statement = f"COPY (SELECT {RECORD_LINE_SQL} FROM ({inner}) AS r ORDER BY r.id) TO STDOUT"
    params = (Source.IMPORT.value, ORIGIN_PAIRS, ORIGIN_API, *params)
    carry = b""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL extra_float_digits = 1")
        with connection.wrap_database_errors, cursor.cursor.copy(statement, params) as copy:
            for data in copy:
                chunk = carry + bytes(data)
                end = chunk.rfind(b"\n") + 1
                carry = chunk[end:]
                if end:
                    whole = chunk[:end]
                    yield whole.replace(b"\\\\", b"\\"), whole.count(b"\n")
    if carry:
        raise RuntimeError("COPY ended inside a line")


def _dpo_record(r, chosen, rejected) -> dict:
    agreement = 1.0 if r.agreement is None else r.agreement
    return _dpo_row(r.prompt, chosen, rejected, r.language_id, r.external_id, r.source, r.origin, agreement, r.group)


def _sft_record(r, chosen, rejected) -> dict:
    return _sft_row(r.prompt, chosen, r.language_id, r.external_id, r.group)


def _interchange_source(source: str, origin: str) -> str:
    """The pairs format's `source`: the name an imported line gave (so it comes back as it went in), else
    the record's source (`import` for pairs that named none or came through the API, `arena`, ...)."""
    if source == Source.IMPORT and origin not in ("", ORIGIN_PAIRS, ORIGIN_API):
        return origin
    return source


def _pairs_row(r, chosen, rejected) -> dict:
    """The interchange form, written back exactly as imported: optional keys only when present."""
    row = {"prompt": r.prompt, "chosen": chosen, "rejected": rejected, "language": r.language_id, "id": r.external_id}
    source = _interchange_source(r.source, r.origin)
    optional = {"group": r.group, "source": source, "prompt_id": r.prompt_external_id, "metadata": r.metadata}
    row.update({k: v for k, v in optional.items() if v})
    if r.agreement is not None:
        row["agreement"] = r.agreement
    return row


def _dpo_row(prompt, chosen, rejected, language, id_, source, origin, agreement, group) -> dict:
    return {
        "prompt": as_messages(prompt, "user"),
        "chosen": as_messages(chosen, "assistant"),
        "rejected": as_messages(rejected, "assistant"),
        "language": language,
        "id": id_,
        "source": source,
        "origin": origin,
        "agreement": agreement,
        "group": group,
    }


def _sft_row(prompt, completion, language, id_, group="") -> dict:
    """`group` rides along so training splits keep translations together."""
    return {
        "prompt": as_messages(prompt, "user"),
        "completion": as_messages(completion, "assistant"),
        "language": language,
        "id": id_,
        "group": group,
    }


def _ranking_rows(spec: ExportSpec) -> Iterator[dict]:
    rankings = spec.rankings()
    if rankings is None:
        return
    tasks = selectors.tasks_for_pairs(languages=list(spec.languages), campaigns=list(spec.campaigns), rankings=rankings)
    for task in tasks.iterator(chunk_size=selectors.STREAM_CHUNK):
        row = {"id": task.external_id or f"task-{task.pk}", "prompt": task.prompt.content, "language": task.language_id}
        if task.prompt.group:
            row["group"] = task.prompt.group
        row["campaign"] = task.campaign.name
        row["responses"] = [_response_entry(item.response) for item in task.items.all()]
        row["rankings"] = [_ranking_entry(a) for a in task.annotations.all()]
        yield row


def _response_entry(response) -> dict:
    entry = {"text": response.text}
    if response.model_name:
        entry["model"] = response.model_name
    if response.metadata.get("id"):
        entry["id"] = response.metadata["id"]
    return entry


def _ranking_entry(annotation) -> dict:
    name = annotation.annotator.username
    entry = {"annotator": name.removeprefix("import:"), "ranking": annotation.ranking}
    if annotation.flags:
        entry["flags"] = annotation.flags
    if annotation.rationale:
        entry["rationale"] = annotation.rationale
    return entry


export_formats.register(
    "pairs", ExportFormat("pairs", _pair_family(_derived_pairs_rows, _pairs_row), blocks=_pairs_blocks)
)
export_formats.register("dpo", ExportFormat("dpo", _pair_family(_derived_dpo_rows, _dpo_record)))


def _sft_rows(spec: ExportSpec) -> Iterator[dict]:
    """The best answer of every selected ranking and preference record (as before), then the demonstrations.
    An edit yields both a demonstration and a pair whose chosen answer is the same text under the same id; the
    two selections take the same sources and origins, so with demonstrations selected the edit pairs are left to
    them (one row per edit, not two)."""
    yield from _derived_rows(spec, _derived_sft_rows)
    selection = spec.demonstrations()
    records = spec.records()
    if records is not None:
        if selection is not None:
            records &= ~Q(source=Source.EDIT)
        yield from _record_rows(spec, records, _sft_record)
    if selection is None:
        return
    rows = selectors.demonstrations(
        languages=list(spec.languages), selection=selection, include_pending=spec.include_pending, **spec.window()
    )
    for d in rows.only("external_id", "prompt", "completion", "language_id", "group").iterator(
        chunk_size=selectors.STREAM_CHUNK
    ):
        yield _sft_row(d.prompt, d.completion, d.language_id, d.external_id, d.group)


export_formats.register("sft", ExportFormat("sft", _sft_rows))
export_formats.register("rankings", ExportFormat("rankings", _ranking_rows))


def _hf_write(spec: ExportSpec, out: Path, on_progress: Callable[[int], None] | None) -> int:
    # Imported here: pyarrow loads only when a Hugging Face export runs, never at the web process's start.
    from webapp.feedback.formats.hf_export import hf_export  # noqa: PLC0415

    return hf_export(spec=spec, out=out, on_progress=on_progress)


export_formats.register("hf", ExportFormat("hf", None, write=_hf_write))
