"""What every job's API shares: the fields of a job row, and the cancel action."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from webapp.jobs.services import job_request_cancel

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
