"""Imports and exports as background jobs: the request stores the upload (or the export's settings)
and a TransferJob row; a worker runs it and writes counts and the bad-line list on the row. The registered
import reports (near-duplicates) follow as their own task on the `index` queue once the import has committed,
and add their entries to the row's result.

An import remembers the interface language of the request that started it (`params["language"]`) and
the worker runs it in that language, so the bad-line messages on the row (shown by the API and the
transfers page) read in the language of the person who uploaded the file."""

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _

from webapp.audit import services as audit
from webapp.errors import ApplicationError
from webapp.feedback.extensions import import_reports
from webapp.feedback.formats.exporting import ExportSpec, feedback_export
from webapp.feedback.formats.registry import import_formats
from webapp.feedback.models import Prompt, TransferJob, TransferKind
from webapp.feedback.services.importing import AUTO, ImportRejected, ImportReport, feedback_import
from webapp.feedback.services.languages import canonical_tag
from webapp.jobs.services import JobLost, JobRun, job_enqueue, job_running
from webapp.queue import send_task

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
REPORTS_TASK = "workers.tasks.transfers.run_import_reports"


def upload_store(upload: UploadedFile) -> Path:
    """Copy an uploaded file to var/imports in chunks (never whole into memory)."""
    folder = settings.VAR_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.jsonl"
    with path.open("wb") as handle:
        for chunk in upload.chunks(CHUNK):
            handle.write(chunk)
    return path


@transaction.atomic
def transfer_import_create(
    *,
    path: Path,
    skip_invalid: bool,
    user: User | None,
    format: str = AUTO,  # noqa: A002  (the command's and the API's name for it)
    data_language: str = "en",
) -> TransferJob:
    """`format` and `data_language`: as `import_feedback --format/--language`, refused now if unknown."""
    if format != AUTO:
        import_formats.get(format)
    job = TransferJob.objects.create(
        kind=TransferKind.IMPORT,
        path=str(path),
        params={
            "skip_invalid": skip_invalid,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            "format": format,
            "data_language": canonical_tag(data_language),
        },
        created_by=user,
    )
    job_enqueue(job)
    return job


@transaction.atomic
def transfer_export_create(*, params: dict, user: User | None) -> TransferJob:
    ExportSpec.from_params(params)  # refuse bad settings now, not in the worker
    job = TransferJob.objects.create(kind=TransferKind.EXPORT, params=params, path="", created_by=user)
    job.path = str(settings.VAR_DIR / "exports" / f"export-{job.pk}.jsonl")
    job.save(update_fields=["path"])
    audit.record(action="export.create", target=job, details=params, actor=user)
    job_enqueue(job)
    return job


def transfer_run(job_id: int) -> None:
    """Run one transfer job (called by the worker task). Imports are one transaction, so a run that
    dies leaves nothing and the recovered run starts over; exports write a temp file and rename."""
    with job_running(TransferJob, job_id) as run:
        if run is None:
            return
        job = run.job()
        with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
            if job.kind == TransferKind.IMPORT:
                _run_import(run, job)
            else:
                _run_export(run, job)


def _run_import(run: JobRun, job: TransferJob) -> None:
    last_prompt = Prompt.objects.aggregate(last=Max("id"))["last"] or 0
    try:
        report = feedback_import(
            path=job.path,
            skip_invalid=job.params.get("skip_invalid", False),
            format=job.params.get("format", AUTO),
            language=job.params.get("data_language", "en"),
            on_progress=lambda done, total: run.progress(done, total),
        )
    except ImportRejected as exc:
        run.save(result=exc.report.as_dict())  # zero counts (it was rolled back) and every bad line
        raise
    except JobLost:
        raise  # another attempt owns the row now
    except Exception as exc:
        # One transaction: whatever stopped it (a cancel, the database), nothing of the file is stored.
        error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        run.save(result={**ImportReport().as_dict(), "error": error})
        raise
    upto = Prompt.objects.aggregate(last=Max("id"))["last"] or 0
    run.save(result=report.as_dict(), progress_done=report.lines, progress_total=report.lines)
    # The reports (near-duplicates: embedding every new prompt) run as a follow-up, not in the import's time.
    args = [job.pk, last_prompt, upto]
    if not send_task(REPORTS_TASK, args=args, queue="index"):
        transfer_import_reports(*args)  # advisory, but better late than lost with the broker


def transfer_import_reports(job_id: int, after: int, upto: int) -> None:
    """The follow-up of a committed import: its registered reports, merged into the job's result."""
    results = _reports(after, upto)
    with transaction.atomic():
        job = TransferJob.objects.select_for_update().get(pk=job_id)
        job.result = {**job.result, **results}
        job.save(update_fields=["result"])


def _reports(after: int, upto: int) -> dict:
    """The registered post-import reports (near-duplicates, ...) on the prompts this import created.
    Advisory: the import is committed already, so a report that fails (no embedder, say) says so in
    its entry instead of failing the job."""
    new = list(Prompt.objects.alive().filter(pk__gt=after, pk__lte=upto).values_list("pk", flat=True))
    results = {}
    for name, report in import_reports.items():
        try:
            results[name] = report(new)
        except Exception as exc:  # noqa: BLE001  (see the docstring)
            logger.warning("the %s report after an import failed", name, exc_info=True)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def _run_export(run: JobRun, job: TransferJob) -> None:
    spec = ExportSpec.from_params(job.params)
    count = feedback_export(spec=spec, out=job.path, on_progress=lambda n: run.progress(n))
    run.save(result={"rows": count, "path": job.path}, progress_done=count, progress_total=count)


def transfer_output(job: TransferJob) -> Path:
    if job.kind != TransferKind.EXPORT or job.status != "succeeded":
        raise ApplicationError(_("This export has not finished."))
    path = Path(job.path)
    if not path.is_file():
        raise ApplicationError(_("The export file is gone; run the export again."))
    return path
