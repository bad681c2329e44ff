"""Bulk operations on a campaign (staff), run by workers: launch one on a campaign, poll it for progress and
its result, cancel it (webapp/feedback/services/operations.py says what each kind does)."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import generics, mixins, serializers
from rest_framework.response import Response as Reply

from webapp.apifields import ID_SCHEMA, MAX_ID, JSONInput, id_field
from webapp.errors import ApplicationError
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped, validated
from webapp.feedback.models import Campaign, CampaignJob, OperationKind
from webapp.feedback.services import operations
from webapp.jobs.api import IDEMPOTENCY_KEY, JOB_FIELDS, launch_once, queued
from webapp.permissions import IsStaff
from webapp.safejson import DepthLimitedJSONParser

BUSY = OpenApiResponse(description="Another operation is still queued or running on this campaign (or it is deleted).")


class CampaignJobOutput(serializers.ModelSerializer):
    class Meta:
        model = CampaignJob
        fields = [*JOB_FIELDS[:2], "campaign", *JOB_FIELDS[2:]]


GOLD_ITEM_SCHEMA = {
    "type": "array",
    "maxItems": operations.MAX_GOLD_ITEMS,
    # One of the two ways to name a task, never both (what _gold_item checks).
    "items": {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "task": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    "position": {"type": ["integer", "null"], "minimum": 0},
                },
                "required": ["task", "position"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "external_id": {"type": "string", "minLength": 1, "maxLength": 200},
                    "position": {"type": ["integer", "null"], "minimum": 0},
                },
                "required": ["external_id", "position"],
                "additionalProperties": False,
            },
        ]
    },
}


@extend_schema_field(GOLD_ITEM_SCHEMA)
class GoldItemsField(serializers.JSONField):
    """[{task or external_id, position}], checked in plain Python: a nested serializer per item would take
    seconds on 100,000 items. Whether each task exists is the job's check."""

    def to_internal_value(self, data: Any) -> list[dict]:
        if not isinstance(data, list):
            raise serializers.ValidationError(_("A list of {task, position} objects."))
        if len(data) > operations.MAX_GOLD_ITEMS:
            raise serializers.ValidationError(
                _("At most %(max)s items per operation (%(count)s given); split the list.")
                % {"max": operations.MAX_GOLD_ITEMS, "count": len(data)}
            )
        out = []
        for number, item in enumerate(data, start=1):
            out.append(_gold_item(item, number))
        return out


def _gold_item(item: Any, number: int) -> dict:
    if not isinstance(item, dict) or "position" not in item or ("task" in item) == ("external_id" in item):
        raise serializers.ValidationError(
            _("item %(n)s: an object with a position and either task (an id) or external_id") % {"n": number}
        )
    position = item["position"]
    if position is not None and (isinstance(position, bool) or not isinstance(position, int) or position < 0):
        raise serializers.ValidationError(
            _("item %(n)s: position must be a response position (0, 1, ...) or null") % {"n": number}
        )
    if "task" in item:
        task = item["task"]
        if isinstance(task, bool) or not isinstance(task, int) or not 1 <= task <= MAX_ID:
            raise serializers.ValidationError(_("item %(n)s: task must be a task id") % {"n": number})
        return {"task": task, "position": position}
    external = item["external_id"]
    if not isinstance(external, str) or not 1 <= len(external) <= 200:
        raise serializers.ValidationError(
            _("item %(n)s: external_id must be a string of 1 to 200 characters") % {"n": number}
        )
    return {"external_id": external, "position": position}


class CampaignJobLaunchApi(RoleScoped, generics.GenericAPIView):
    """Start a bulk operation on this campaign; a worker runs it (poll /api/v1/campaign-jobs/{id}/)."""

    model = Campaign
    selector = staticmethod(selectors.campaigns_for_user)
    serializer_class = CampaignJobOutput
    permission_classes = [IsStaff]
    parser_classes = [DepthLimitedJSONParser]

    @extend_schema_serializer(component_name="CampaignJobInput")
    class InputSerializer(JSONInput):
        kind = serializers.ChoiceField(choices=OperationKind.choices)
        to_campaign = id_field(required=False, help_text="reassign: the campaign the open tasks move to")
        languages = serializers.ListField(
            child=serializers.CharField(max_length=35),
            required=False,
            default=list,
            help_text="reassign: only these languages (default: every language both campaigns route)",
        )
        items = GoldItemsField(required=False, help_text="gold: [{task or external_id, position (null: unmark)}]")

    @extend_schema(
        operation_id="v1_campaigns_jobs_create",
        request=InputSerializer,
        responses={202: CampaignJobOutput, 409: BUSY},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        campaign = self.get_object()
        kind = data.pop("kind")
        return launch_once(
            request,
            lambda: queued(operations.operation_launch(campaign=campaign, kind=kind, params=data, user=request.user)),
            CampaignJobOutput,
        )


class _CampaignJobApi(generics.GenericAPIView):
    queryset = CampaignJob.objects.all()
    serializer_class = CampaignJobOutput
    permission_classes = [IsStaff]


class CampaignJobListApi(mixins.ListModelMixin, _CampaignJobApi):
    """Bulk operations on campaigns, newest first; ?campaign=ID for one campaign's."""

    def get_queryset(self):
        jobs = super().get_queryset()
        campaign = self.request.query_params.get("campaign")
        if campaign in (None, ""):
            return jobs
        if not campaign.isascii() or not campaign.isdigit() or not 1 <= int(campaign) <= MAX_ID:
            raise ApplicationError(
                _("campaign must be a campaign id (a whole number from 1)"), extra={"field": "campaign"}
            )
        return jobs.filter(campaign_id=int(campaign))

    @extend_schema(
        operation_id="v1_campaign_jobs_list",
        responses=CampaignJobOutput(many=True),
        parameters=[OpenApiParameter("campaign", ID_SCHEMA, required=False)],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class CampaignJobDetailApi(_CampaignJobApi):
    """One bulk operation: its status, progress and result."""

    @extend_schema(operation_id="v1_campaign_jobs_retrieve", responses=CampaignJobOutput)
    def get(self, request, *args, **kwargs):
        return Reply(CampaignJobOutput(self.get_object()).data)


class CampaignJobCancelApi(_CampaignJobApi):
    """A queued operation is cancelled at once, a running one after its current batch; a delete cannot be."""

    @extend_schema(
        operation_id="v1_campaign_jobs_cancel_create",
        request=None,
        responses={200: CampaignJobOutput, 409: OpenApiResponse(description="A delete cannot be cancelled.")},
    )
    def post(self, request, *args, **kwargs):
        job = self.get_object()
        operations.operation_cancel(job)
        job.refresh_from_db()
        return Reply(CampaignJobOutput(job).data)
