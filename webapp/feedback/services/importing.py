"""import_feedback: pair and ranking JSON Lines into the store, atomically.

One pass over the file: each line is read (never more than IMPORT_LINE_MAX_BYTES of it at once), parsed
and checked, good lines are written in batches inside one transaction, and every bad line is collected
with its number. Any bad line rolls the whole file back (unless `skip_invalid`), so a failed import
leaves nothing behind, and its report counts nothing as stored."""

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.content import content_hash, plain_text
from webapp.feedback.formats.parsing import DEFAULT_CAMPAIGN, PairLine, RankingLine, parse_line
from webapp.feedback.models import (
    Annotation,
    AnnotatorProfile,
    Campaign,
    Language,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TaskResponse,
)
from webapp.feedback.services.languages import language_get_or_create
from webapp.feedback.sources import ORIGIN_PAIRS, ORIGIN_RANKINGS, Source
from webapp.permissions import ANNOTATOR, role_group

log = logging.getLogger(__name__)
BATCH = 1000
MAX_REPORTED_ERRORS = 10_000
CHUNK = 1024 * 1024  # how much of an over-long line is read at a time while skipping it

LineT = TypeVar("LineT", PairLine, RankingLine)


@dataclass
class ImportReport:
    lines: int = 0
    pairs_created: int = 0
    pairs_unchanged: int = 0
    tasks_created: int = 0
    tasks_unchanged: int = 0
    annotations_created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    invalid: int = 0

    def add_error(self, line_no: int, message: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line_no, message))

    def nothing_stored(self) -> None:
        """The transaction was rolled back: this import stored nothing, whatever its batches counted."""
        self.pairs_created = self.pairs_unchanged = self.tasks_created = self.tasks_unchanged = 0
        self.annotations_created = 0

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
    *, path: str | Path, skip_invalid: bool = False, on_progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    path = Path(path)
    if not path.is_file():
        raise ApplicationError(_("%(path)s: no such file") % {"path": path})
    total = path.stat().st_size
    report = ImportReport()
    try:
        with transaction.atomic():
            writer = _Writer(report)
            with path.open("rb") as handle:
                for line_no, raw in _lines(handle, settings.IMPORT_LINE_MAX_BYTES):
                    report.lines = line_no
                    _read_line(raw, line_no, writer, report)
                    if line_no % BATCH == 0:
                        if not report.invalid or skip_invalid:
                            writer.flush()
                        if on_progress:
                            on_progress(handle.tell(), total)
            if not report.invalid or skip_invalid:
                writer.flush()
            if report.invalid and not skip_invalid:
                transaction.set_rollback(True)
                raise ImportRejected(report)
    except BaseException:
        report.nothing_stored()
        raise
    return report


def _lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | int]]:
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


def _read_line(raw: bytes | int, line_no: int, writer: "_Writer", report: ImportReport) -> None:
    if isinstance(raw, int):
        report.add_error(
            line_no,
            _("the line is %(size)s bytes long, over the limit of %(limit)s bytes (IMPORT_LINE_MAX_BYTES)")
            % {"size": raw, "limit": settings.IMPORT_LINE_MAX_BYTES},
        )
        return
    try:
        record = parse_line(raw, line_no)
    except ApplicationError as exc:
        report.add_error(line_no, exc.message)
        return
    if record is not None:
        writer.add(record)


class _Writer:
    """Buffers parsed lines and writes them in bulk; checks ids against the file and the store."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.pairs: list[PairLine] = []
        self.rankings: list[RankingLine] = []
        self.seen: dict[str, tuple[str, int]] = {}  # id -> (content hash, first line), within the file
        self.languages: dict[str, Language] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.annotators: dict[str, User] = {}

    def add(self, record: PairLine | RankingLine) -> None:
        key = ("task:" if isinstance(record, RankingLine) else "pair:") + record.id
        earlier = self.seen.get(key)
        if earlier and earlier[0] != record.content_hash:
            self.report.add_error(
                record.line_no,
                _("id %(id)s was used on line %(line)s with different content")
                % {"id": repr(record.id), "line": earlier[1]},
            )
            return
        if earlier:
            self._unchanged(record)
            return
        self.seen[key] = (record.content_hash, record.line_no)
        if isinstance(record, RankingLine):
            self.rankings.append(record)
        else:
            self.pairs.append(record)

    def _unchanged(self, record: PairLine | RankingLine) -> None:
        if isinstance(record, RankingLine):
            self.report.tasks_unchanged += 1
        else:
            self.report.pairs_unchanged += 1

    def flush(self) -> None:
        self._write_pairs(self.pairs)
        self._write_rankings(self.rankings)
        self.pairs, self.rankings = [], []

    def language(self, code: str) -> Language:
        if code not in self.languages:
            self.languages[code] = language_get_or_create(code)
        return self.languages[code]

    def _known(self, model: type[PreferenceRecord | Task], records: Iterable[LineT], hash_field: str) -> list[LineT]:
        """Drop records whose id is already stored: unchanged when the content matches, else an error."""
        records = list(records)
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
        fresh = self._known(PreferenceRecord, records, "content_hash")
        PreferenceRecord.objects.bulk_create(
            [
                PreferenceRecord(
                    external_id=r.id,
                    content_hash=r.content_hash,
                    prompt=r.prompt,
                    response_a=r.chosen,
                    response_b=r.rejected,
                    prompt_text=plain_text(r.prompt),
                    outcome="a",
                    source=Source.IMPORT,
                    origin=r.source or ORIGIN_PAIRS,
                    language=self.language(r.language),
                    group=r.group,
                    prompt_external_id=r.prompt_id,
                    agreement=r.agreement,
                    metadata=r.metadata,
                )
                for r in fresh
            ],
            batch_size=BATCH,
        )
        self.report.pairs_created += len(fresh)

    def _write_rankings(self, records: list[RankingLine]) -> None:
        for record in self._known(Task, records, "import_hash"):
            self._write_task(record)
            self.report.tasks_created += 1

    def _write_task(self, r: RankingLine) -> None:
        language = self.language(r.language)
        campaign = self._campaign(r.campaign or DEFAULT_CAMPAIGN, language)
        prompt = Prompt.objects.create(
            content=r.prompt,
            text=plain_text(r.prompt),
            content_hash=content_hash(r.prompt),
            language=language,
            group=r.group,
            source="import",
            metadata=r.metadata,
        )
        responses = Response.objects.bulk_create(
            [
                Response(
                    prompt=prompt,
                    content=item["text"],
                    text=item["text"],
                    content_hash=content_hash(item["text"]),
                    model_name=item["model"],
                    metadata={"id": item["id"]} if item["id"] else {},
                )
                for item in r.responses
            ]
        )
        task = Task.objects.create(
            campaign=campaign, prompt=prompt, language=language, external_id=r.id, import_hash=r.content_hash
        )
        TaskResponse.objects.bulk_create(
            [TaskResponse(task=task, response=resp, position=i) for i, resp in enumerate(responses)]
        )
        Annotation.objects.bulk_create(
            [
                Annotation(
                    task=task,
                    annotator=self._annotator(item["annotator"], language),
                    ranking=item["ranking"],
                    flags=item["flags"],
                    rationale=item["rationale"],
                    source=Source.IMPORT,
                    origin=ORIGIN_RANKINGS,
                )
                for item in r.rankings
            ]
        )
        Task.objects.filter(pk=task.pk).update(annotation_count=F("annotation_count") + len(r.rankings))
        self.report.annotations_created += len(r.rankings)

    def _campaign(self, name: str, language: Language) -> Campaign:
        if name not in self.campaigns:
            self.campaigns[name], _created = Campaign.objects.get_or_create(
                name=name, defaults={"guidelines": "Imported tasks.", "overlap": 1}
            )
        self.campaigns[name].languages.add(language)
        return self.campaigns[name]

    def _annotator(self, name: str, language: Language) -> User:
        """Imported annotators become inactive external accounts named import:NAME."""
        if name not in self.annotators:
            username = f"import:{name}"[:150]
            user, created = User.objects.get_or_create(username=username, defaults={"is_active": False})
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(role_group(ANNOTATOR))
            AnnotatorProfile.objects.get_or_create(user=user, defaults={"is_external": True})
            self.annotators[name] = user
        self.annotators[name].profile.languages.add(language)
        return self.annotators[name]
