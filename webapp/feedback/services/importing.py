"""import_feedback: a file of pairs and rankings, or of a published dataset's records, into the store,
atomically.

One pass over the file (JSON Lines, gzip-compressed JSON Lines or Parquet: webapp/feedback/formats/
readers.py): each record is read (never more than IMPORT_LINE_MAX_BYTES of a line at once), parsed and
checked, good ones are written in batches inside one transaction, and every bad one is collected with
its line or row number. Any bad record rolls the whole file back (unless `skip_invalid`), so a failed
import leaves nothing behind, and its report counts nothing as stored. A named format (`--format
oasst`, ...) may turn one record into several, or skip one for a stated reason (counted, not an error)."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.content import content_hash_encoded, plain_text
from webapp.feedback.formats.exporting import RECORD_COLUMNS
from webapp.feedback.formats.parsing import (
    DEFAULT_CAMPAIGN,
    DemonstrationLine,
    PairLine,
    RankingLine,
    load_object,
    parse_line,
    parse_object,
)
from webapp.feedback.formats.readers import Record, open_records
from webapp.feedback.formats.registry import ImportFormat, ImportOptions, ImportSink, Skip, import_formats
from webapp.feedback.models import (
    Annotation,
    AnnotatorProfile,
    Campaign,
    Demonstration,
    DemonstrationStatus,
    Language,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TaskResponse,
)
from webapp.feedback.quality.fold import review_catch_up
from webapp.feedback.services.bulk import SeenKeys, Table, refresh_statistics
from webapp.feedback.services.languages import canonical_tag, language_get_or_create
from webapp.feedback.sources import ORIGIN_PAIRS, ORIGIN_RANKINGS, Source
from webapp.permissions import ANNOTATOR, role_group
from webapp.queue import send_task

log = logging.getLogger(__name__)
BATCH = 2000  # lines checked and written together
ANALYZE_AFTER_ROWS = 10_000  # rows written by an import, from which it refreshes the statistics (PostgreSQL)
MAX_REPORTED_ERRORS = 10_000
AUTO = "auto"  # the store's own formats, recognised line by line

LineT = TypeVar("LineT", PairLine, RankingLine, DemonstrationLine)
AnyLine = PairLine | RankingLine | DemonstrationLine


@dataclass
class ImportReport:
    lines: int = 0
    pairs_created: int = 0
    pairs_unchanged: int = 0
    tasks_created: int = 0
    tasks_unchanged: int = 0
    annotations_created: int = 0
    demonstrations_created: int = 0
    demonstrations_unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    invalid: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason (in the importer's language) -> records
    # Records of a format's own kind (a sink's: `battles` for arena logs), what -> how many.
    created: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, *, created: int = 0, unchanged: int = 0) -> None:
        self.created[what] = self.created.get(what, 0) + created
        self.unchanged[what] = self.unchanged.get(what, 0) + unchanged

    def skip(self, reason: str) -> None:
        reason = _(reason)
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add_error(self, line_no: int, message: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line_no, message))

    def nothing_stored(self) -> None:
        """The transaction was rolled back: this import stored nothing, whatever its batches counted."""
        self.pairs_created = self.pairs_unchanged = self.tasks_created = self.tasks_unchanged = 0
        self.annotations_created = 0
        self.demonstrations_created = self.demonstrations_unchanged = 0
        self.created = dict.fromkeys(self.created, 0)
        self.unchanged = dict.fromkeys(self.unchanged, 0)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {
            "errors": [{"line": n, "error": m} for n, m in self.errors]
        }


class ImportRejected(ApplicationError):
    """The file had bad lines and nothing was imported."""

    def __init__(self, report: ImportReport):
        shown = "\n".join("  " + _("line %(line)s: %(error)s") % {"line": n, "error": m} for n, m in report.errors[:50])
        more = "\n  " + _("... and %(count)s more") % {"count": report.invalid - 50} if report.invalid > 50 else ""
        summary = _("%(count)s invalid line(s); nothing was imported (use --skip-invalid to import the rest):") % {
            "count": report.invalid
        }
        super().__init__(
            f"{summary}\n{shown}{more}",
            extra={"errors": [{"line": n, "error": m} for n, m in report.errors]},
        )
        self.report = report


def feedback_import(
    *,
    path: str | Path,
    skip_invalid: bool = False,
    format: str = AUTO,  # noqa: A002  (the command's and the API's name for it)
    language: str = "en",
    on_progress: Callable[[int, int], None] | None = None,
    origin: str = "",
) -> ImportReport:
    """`format`: a registered import format, or `auto` for the store's own (pairs and rankings, told
    apart line by line); `language`: the language of records whose format has none; `origin`: the
    name formats that keep one give the records (import_feedback passes the file's name; an upload's
    stored name means nothing, so the API passes none)."""
    path = Path(path)
    chosen = None if format == AUTO else import_formats.get(format)
    opener = chosen.open if chosen is not None and chosen.open is not None else open_records
    if opener is open_records and not path.is_file():
        raise ApplicationError(_("%(path)s: no such file") % {"path": path})
    options = ImportOptions(language=canonical_tag(language), origin=origin)
    report = ImportReport()
    try:
        with transaction.atomic():
            sink = chosen.sink(report, options) if chosen is not None and chosen.sink is not None else None
            writer = _Writer(report, sink)
            with opener(path, settings.IMPORT_LINE_MAX_BYTES) as reader:
                for number, raw in reader:
                    report.lines = number
                    _read_record(raw, number, chosen, options, writer, report)
                    if writer.pending() >= BATCH:
                        # After a bad record (and no skip_invalid) the rest is still checked, not written.
                        writer.flush(write=not report.invalid or skip_invalid)
                        if on_progress:
                            on_progress(reader.position(), reader.total)
            writer.flush(write=not report.invalid or skip_invalid)
            writer.close()
            report.errors.sort(key=lambda error: error[0])
            if report.invalid and not skip_invalid:
                transaction.set_rollback(True)
                raise ImportRejected(report)
    except BaseException:
        report.nothing_stored()
        raise
    transaction.on_commit(lambda: _refresh_statistics(report))
    transaction.on_commit(_fold_review)
    return report


def _refresh_statistics(report: ImportReport) -> None:
    """After a large import, the statistics of the tables it writes (bulk.refresh_statistics): until autovacuum got
    there, the planner took the freshly filled tables for small ones, and a page of `GET /api/v1/tasks/` took 8 s
    at a million annotations instead of 50 ms."""
    written = report.tasks_created + report.annotations_created + report.pairs_created + report.demonstrations_created
    if written + sum(report.created.values()) >= ANALYZE_AFTER_ROWS:
        refresh_statistics(Prompt, Response, Task, TaskResponse, Annotation, PreferenceRecord, Demonstration)


def _fold_review() -> None:
    """After an import commits, the review summary takes its rows in: the periodic fold's task now, or,
    with no broker to send it to, a fold here (the summary stays right with no worker running)."""
    if not send_task("workers.tasks.review.fold_review", args=[], queue="sweep"):
        review_catch_up()


def _read_record(
    raw: Record,
    number: int,
    chosen: ImportFormat | None,
    options: ImportOptions,
    writer: "_Writer",
    report: ImportReport,
) -> None:
    if isinstance(raw, int):
        report.add_error(
            number,
            _("the line is %(size)s bytes long, over the limit of %(limit)s bytes (IMPORT_LINE_MAX_BYTES)")
            % {"size": raw, "limit": settings.IMPORT_LINE_MAX_BYTES},
        )
        return
    try:
        if chosen is None:  # the store's own formats: one record each, the fast path
            record = parse_line(raw, number) if isinstance(raw, bytes) else parse_object(raw, number)
            if record is not None:
                writer.add(record)
            return
        obj = load_object(raw) if isinstance(raw, bytes) else raw
        if obj is None:
            return
        # Whole before any of it is kept: a record that is bad halfway through adds nothing.
        produced = list(chosen.records(obj, number, options))
    except ApplicationError as exc:
        report.add_error(number, exc.message)
        return
    for item in produced:
        if isinstance(item, Skip):
            report.skip(item.reason)
        else:
            writer.add(item)  # a pair, a ranking, or a record of the format's own (its sink's)


PAIR_COLUMNS = ("id", "content_hash", "prompt_text", *RECORD_COLUMNS)  # RECORD_COLUMNS: what exports read
PROMPT_COLUMNS = ("id", "content", "text", "content_hash", "language_id", "group", "source", "metadata")
RESPONSE_COLUMNS = ("id", "prompt_id", "content", "text", "content_hash", "model_name", "metadata")
TASK_COLUMNS = ("id", "campaign_id", "prompt_id", "language_id", "external_id", "import_hash", "annotation_count")
ITEM_COLUMNS = ("id", "task_id", "response_id", "position")
ANNOTATION_COLUMNS = ("id", "task_id", "annotator_id", "ranking", "flags", "rationale", "source", "origin")
DEMONSTRATION_COLUMNS = (
    "id",
    "external_id",
    "content_hash",
    "prompt",
    "completion",
    "prompt_text",
    "language_id",
    "group",
    "source",
    "origin",
    "status",
    "metadata",
)


_text_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per value


def _text_json(value: object) -> str:
    """A TextJSONField value as Django stores it (UTF-8 as it is)."""
    return "{}" if value == {} else _text_encode(value)


def _stored_and_hash(value: Any) -> tuple[str, str]:
    """A content's stored JSON and its content_hash, a string encoded once for both."""
    stored = _text_json(value)
    return stored, content_hash_encoded(value, stored)


class _Writer:
    """Buffers parsed lines and writes each batch in bulk (webapp/feedback/services/bulk.py); checks ids
    against the earlier lines of the file (a temporary table, so memory stays flat) and the store.

    A task's `annotation_count` is written with the task (the number of its imported rankings): an import
    only ever inserts, and never updates a row that an annotator's submit updates."""

    def __init__(self, report: ImportReport, sink: ImportSink | None = None):
        self.report = report
        self.sink = sink
        self.pairs: list[PairLine] = []
        self.rankings: list[RankingLine] = []
        self.demonstrations: list[DemonstrationLine] = []
        self.seen = SeenKeys()
        self.languages: dict[str, Language] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.campaign_languages: set[tuple[int, str]] = set()
        self.annotators: dict[str, User] = {}
        self.annotator_languages: set[tuple[int, str]] = set()
        self.profiles: dict[str, int] = {}
        self.new_links: list = []  # campaign and annotator languages not linked yet
        self.tables = {
            "pairs": Table(PreferenceRecord, PAIR_COLUMNS),
            "prompts": Table(Prompt, PROMPT_COLUMNS),
            "responses": Table(Response, RESPONSE_COLUMNS),
            "tasks": Table(Task, TASK_COLUMNS),
            "items": Table(TaskResponse, ITEM_COLUMNS),
            "annotations": Table(Annotation, ANNOTATION_COLUMNS),
            "demonstrations": Table(Demonstration, DEMONSTRATION_COLUMNS),
        }

    def add(self, record: Any) -> None:
        if isinstance(record, RankingLine):
            self.rankings.append(record)
        elif isinstance(record, DemonstrationLine):
            self.demonstrations.append(record)
        elif isinstance(record, PairLine):
            self.pairs.append(record)
        elif self.sink is not None:
            self.sink.add(record)
        else:
            raise TypeError(f"an import format yielded {type(record).__name__} and has no sink for it")

    def pending(self) -> int:
        return (
            len(self.pairs)
            + len(self.rankings)
            + len(self.demonstrations)
            + (self.sink.pending() if self.sink is not None else 0)
        )

    def _unchanged(self, record: AnyLine) -> None:
        if isinstance(record, RankingLine):
            self.report.tasks_unchanged += 1
        elif isinstance(record, DemonstrationLine):
            self.report.demonstrations_unchanged += 1
        else:
            self.report.pairs_unchanged += 1

    def flush(self, *, write: bool = True) -> None:
        """Check the buffered lines' ids and, when `write`, store the fresh ones."""
        pairs, rankings = self._first_uses(self.pairs, "pair:"), self._first_uses(self.rankings, "task:")
        demonstrations = self._first_uses(self.demonstrations, "demonstration:")
        pairs = self._known(PreferenceRecord, pairs, "content_hash")
        rankings = self._known(Task, rankings, "import_hash")
        demonstrations = self._known(Demonstration, demonstrations, "content_hash")
        if write:
            self._write_pairs(pairs)
            self._write_rankings(rankings)
            self._write_demonstrations(demonstrations)
        self.pairs, self.rankings, self.demonstrations = [], [], []
        if self.sink is not None:
            self.sink.flush(write=write)

    def close(self) -> None:
        self.seen.close()
        if self.sink is not None:
            self.sink.close()

    def _first_uses(self, records: list[LineT], prefix: str) -> list[LineT]:
        """The records whose id this file has not used before; a later use with the same content is
        unchanged, with other content an error naming the first line."""

        def clash(record: LineT, line: int) -> None:
            self.report.add_error(
                record.line_no,
                _("id %(id)s was used on line %(line)s with different content") % {"id": repr(record.id), "line": line},
            )

        return self.seen.first_uses(records, lambda r: prefix + r.id, unchanged=self._unchanged, clash=clash)

    def language(self, code: str) -> Language:
        if code not in self.languages:
            self.languages[code] = language_get_or_create(code)
        return self.languages[code]

    def _known(
        self, model: type[PreferenceRecord | Task | Demonstration], records: list[LineT], hash_field: str
    ) -> list[LineT]:
        """Drop records whose id is already stored: unchanged when the content matches, else an error."""
        if not records:
            return records
        stored = dict(
            model.objects.filter(external_id__in=[r.id for r in records]).values_list("external_id", hash_field)
        )
        fresh: list[LineT] = []
        for record in records:
            if record.id not in stored:
                fresh.append(record)
            elif stored[record.id] == record.content_hash:
                self._unchanged(record)
            else:
                self.report.add_error(
                    record.line_no, _("id %(id)s is already stored with different content") % {"id": repr(record.id)}
                )
        return fresh

    def _write_pairs(self, records: list[PairLine]) -> None:
        table = self.tables["pairs"]
        ids = table.reserve(len(records))
        table.insert(
            (
                pk,
                r.content_hash,
                plain_text(r.prompt),
                r.id,
                _text_json(r.prompt),
                _text_json(r.chosen),
                _text_json(r.rejected),
                "a",
                Source.IMPORT.value,
                r.source or ORIGIN_PAIRS,
                self.language(r.language).pk,
                r.group,
                r.prompt_id,
                r.agreement,
                _text_json(r.metadata),
            )
            for pk, r in zip(ids, records, strict=True)
        )
        self.report.pairs_created += len(records)

    def _write_demonstrations(self, records: list[DemonstrationLine]) -> None:
        if not records:
            return
        table = self.tables["demonstrations"]
        ids = table.reserve(len(records))
        table.insert(
            (
                pk,
                r.id,
                r.content_hash,
                _text_json(r.prompt),
                _text_json(r.completion),
                plain_text(r.prompt),
                self.language(r.language).pk,
                r.group,
                Source.IMPORT.value,
                r.origin,
                DemonstrationStatus.ACCEPTED.value,
                _text_json(r.metadata),
            )
            for pk, r in zip(ids, records, strict=True)
        )
        self.report.demonstrations_created += len(records)

    def _write_rankings(self, records: list[RankingLine]) -> None:
        if not records:
            return
        t = self.tables
        prompt_ids = iter(t["prompts"].reserve(len(records)))
        task_ids = iter(t["tasks"].reserve(len(records)))
        response_ids = iter(t["responses"].reserve(sum(len(r.responses) for r in records)))
        item_ids = iter(t["items"].reserve(sum(len(r.responses) for r in records)))
        annotation_ids = iter(t["annotations"].reserve(sum(len(r.rankings) for r in records)))
        prompts, responses, tasks, items, annotations = [], [], [], [], []
        for r in records:
            language = self.language(r.language)
            campaign = self._campaign(r.campaign or DEFAULT_CAMPAIGN, language)
            prompt, task = next(prompt_ids), next(task_ids)
            stored, digest = _stored_and_hash(r.prompt)
            prompts.append(
                (
                    prompt,
                    stored,
                    plain_text(r.prompt),
                    digest,
                    language.pk,
                    r.group,
                    "import",
                    _text_json(r.metadata),
                )
            )
            tasks.append((task, campaign.pk, prompt, language.pk, r.id, r.content_hash, len(r.rankings)))
            for position, item in enumerate(r.responses):
                response = next(response_ids)
                text = item["text"]
                metadata = {"id": item["id"]} if item["id"] else {}
                stored, digest = _stored_and_hash(text)
                responses.append((response, prompt, stored, text, digest, item["model"], _text_json(metadata)))
                items.append((next(item_ids), task, response, position))
            for item in r.rankings:
                annotations.append(
                    (
                        next(annotation_ids),
                        task,
                        self._annotator(item["annotator"], language).pk,
                        json.dumps(item["ranking"]),
                        json.dumps(item["flags"]) if item["flags"] else "[]",
                        item["rationale"],
                        Source.IMPORT.value,
                        r.origin or ORIGIN_RANKINGS,
                    )
                )
        t["prompts"].insert(prompts)
        t["responses"].insert(responses)
        t["tasks"].insert(tasks)
        t["items"].insert(items)
        t["annotations"].insert(annotations)
        self._write_links()
        self.report.tasks_created += len(records)
        self.report.annotations_created += len(annotations)

    def _campaign(self, name: str, language: Language) -> Campaign:
        if name not in self.campaigns:
            self.campaigns[name], _created = Campaign.objects.get_or_create(
                name=name, defaults={"guidelines": "Imported tasks.", "overlap": 1}
            )
        campaign = self.campaigns[name]
        if (campaign.pk, language.code) not in self.campaign_languages:
            self.campaign_languages.add((campaign.pk, language.code))
            self.new_links.append(Campaign.languages.through(campaign_id=campaign.pk, language_id=language.code))
        return campaign

    def _annotator(self, name: str, language: Language) -> User:
        """Imported annotators become inactive external accounts named import:NAME."""
        if name not in self.annotators:
            username = f"import:{name}"[:150]
            user, created = User.objects.get_or_create(username=username, defaults={"is_active": False})
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(role_group(ANNOTATOR))
            self.profiles[name] = AnnotatorProfile.objects.get_or_create(user=user, defaults={"is_external": True})[
                0
            ].pk
            self.annotators[name] = user
        user = self.annotators[name]
        if (user.pk, language.code) not in self.annotator_languages:
            self.annotator_languages.add((user.pk, language.code))
            self.new_links.append(
                AnnotatorProfile.languages.through(annotatorprofile_id=self.profiles[name], language_id=language.code)
            )
        return user

    def _write_links(self) -> None:
        """The campaigns' and annotators' new languages of a batch, in one INSERT per table."""
        for through in (Campaign.languages.through, AnnotatorProfile.languages.through):
            links: list[Any] = [link for link in self.new_links if isinstance(link, through)]
            through.objects.bulk_create(links, ignore_conflicts=True)
        self.new_links = []
