"""REST endpoints behind the annotator workspace and the review page: progress and the review report."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response as Reply
from rest_framework.views import APIView

from webapp.apifields import ID_SCHEMA, MAX_ID
from webapp.errors import ApplicationError
from webapp.feedback import selectors
from webapp.feedback.models import Campaign, Language
from webapp.feedback.quality.summary import Cursors, summary_report
from webapp.feedback.sources import HUMAN
from webapp.permissions import is_reviewer


class IsReviewer(permissions.BasePermission):
    message = gettext_lazy("Reviewers and staff only.")

    def has_permission(self, request, view):
        return is_reviewer(request.user)


def _campaign_param(request) -> int | None:
    raw = request.query_params.get("campaign")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise ApplicationError(_("campaign must be a campaign id (a positive integer)"))
    if not Campaign.objects.alive().filter(pk=int(raw)).exists():
        raise ApplicationError(_("No such campaign: %(id)s") % {"id": raw})
    return int(raw)


def _language_param(request) -> str | None:
    raw = request.query_params.get("language")
    if raw in (None, ""):
        return None
    if not Language.objects.filter(code=raw).exists():
        raise ApplicationError(_("Unknown language: %(code)s") % {"code": repr(raw[:40])})
    return raw


def _source_param(request) -> str | None:
    raw = request.query_params.get("source")
    if raw in (None, ""):
        return None
    if raw not in HUMAN:
        raise ApplicationError(
            _("source must be one of %(choices)s, not %(value)s")
            % {"choices": ", ".join(HUMAN), "value": repr(raw[:40])}
        )
    return raw


class ProgressView(APIView):
    """Your progress: annotations today and in total, tasks still open to you."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("campaign", ID_SCHEMA, required=False)],
        responses=inline_serializer(
            "Progress",
            {
                "done_today": serializers.IntegerField(),
                "done_total": serializers.IntegerField(),
                "remaining": serializers.IntegerField(),
                "languages": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def get(self, request):
        return Reply(selectors.annotator_progress(request.user, campaign_id=_campaign_param(request)))


class ReviewView(APIView):
    """Reviewers: agreement, annotator quality and trust, gold misses, cross-lingual consistency,
    position bias, flagged items, aggregated task results and `judges`: per judge (NAME@VERSION) and
    language, its pairwise agreement with the human consensus on strict pairs, with n, a 95% Wilson
    interval, its abstentions (pairs it tied) and Krippendorff's alpha with it as one more rater (the data
    of the /review/ page). Read from the review summary: `as_of` is the time the figures are from (now
    when nothing is pending, else the last fold's) and `pending` the rows inserted since and not yet in
    them; `tasks` (newest first), `flagged` (most flags first), `gold_misses` (newest task first) and
    `consistency` (most inconsistent first) come a page at a time, `next` holding each list's cursor to
    pass back as `tasks_cursor`, `flagged_cursor`, `gold_misses_cursor` or `consistency_cursor` (null:
    the last page)."""

    permission_classes = [IsReviewer]

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", ID_SCHEMA, required=False),
            OpenApiParameter("language", str, required=False),
            OpenApiParameter("source", str, required=False, enum=[s.value for s in HUMAN]),
            *[
                OpenApiParameter(
                    f"{name}_cursor", str, required=False, description=f"`next.{name}` of the previous page"
                )
                for name in ("tasks", "flagged", "gold_misses", "consistency")
            ],
        ],
        responses={200: dict},
    )
    def get(self, request):
        cursors = Cursors(
            tasks=request.query_params.get("tasks_cursor"),
            flagged=request.query_params.get("flagged_cursor"),
            gold_misses=request.query_params.get("gold_misses_cursor"),
            consistency=request.query_params.get("consistency_cursor"),
        )
        report = summary_report(
            campaign_id=_campaign_param(request),
            language=_language_param(request),
            source=_source_param(request),
            cursors=cursors,
        )
        return Reply(report.as_dict())
