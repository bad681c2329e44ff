"""What every job's API shares: the fields of a job row, the cancel action, and launching a job once
per `Idempotency-Key`."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from webapp.errors import ApplicationError
from webapp.jobs.models import Job
from webapp.jobs.services import idempotent_launch, job_request_cancel

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    # What `_valid_key` accepts (HTTP drops a header value's outer spaces, so none are documented there).
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER,
    description="Any unique string (e.g. a UUID), at most 255 printable ASCII characters. A retry with the "
    "same key within 24 h returns the job the first request launched instead of a second one; the same "
    "key with a different body is refused with 422.",
)

JOB_FIELDS = [
    "id",
    "kind",
    "status",
    "progress_done",
    "progress_total",
    "params",
    "result",
    "error",
    "created_at",
    "started_at",
    "finished_at",
]


class CancelActionMixin:
    """POST .../{id}/cancel/: a queued job is cancelled at once, a running one at its next check."""

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        job_request_cancel(job)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data)


def queued(job: Job) -> tuple[Job, bool]:
    """What a launch that always queues a new job returns to `launch_once`."""
    return job, True


def launch_once(request: Request, launch: Callable[[], tuple[Job, bool]], output: type[BaseSerializer]) -> Response:
    """Answer a launching POST: `launch` returns the job and whether it was queued now (202) or
    found already (200). With an `Idempotency-Key` header, a retry gets the first request's answer."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        job, created = launch()
    else:
        job, created = idempotent_launch(
            user=request.user,
            endpoint=request.path,
            key=_valid_key(key),
            request_hash=_request_hash(request),
            launch=launch,
        )
    return Response(output(job).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


def _valid_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all(" " <= char <= "~" for char in key):
        raise ApplicationError(
            _("The Idempotency-Key header must be 1 to 255 printable ASCII characters."),
            extra={"field": IDEMPOTENCY_HEADER},
        )
    return key


def _request_hash(request: Request) -> str:
    """sha256 of the body as parsed (key order ignored), an uploaded file by its content."""
    data = request.data
    values = {name: data.getlist(name) for name in data} if hasattr(data, "getlist") else data
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=_file_digest).encode()).hexdigest()


def _file_digest(value: Any) -> str:
    if not isinstance(value, UploadedFile):
        raise TypeError(f"cannot fingerprint {type(value).__name__}")
    digest = hashlib.sha256()
    for chunk in value.chunks():
        digest.update(chunk)
    value.seek(0)
    return f"file:{digest.hexdigest()}"
