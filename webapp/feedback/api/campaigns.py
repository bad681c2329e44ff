"""Campaigns: everyone signed in lists the ones their role may see; staff create, change, fill (contribution
kinds) and delete them."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput, id_field
from webapp.errors import ApplicationError
from webapp.feedback import selectors
from webapp.feedback.api.campaign_jobs import BUSY, CampaignJobOutput
from webapp.feedback.api.common import RoleScoped, existing, validated
from webapp.feedback.models import Campaign, CampaignKind, OperationKind
from webapp.feedback.services import catalog, contributing, operations
from webapp.feedback.services.suggestions import DEFAULT_HOLDOUT, campaign_set_suggestions
from webapp.jobs.api import IDEMPOTENCY_KEY, launch_once, queued
from webapp.permissions import IsStaff, StaffWrites


class CampaignOutput(serializers.ModelSerializer):
    languages = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "guidelines",
            "languages",
            "overlap",
            "is_active",
            "suggestion_judge",
            "suggestion_holdout",
            "kind",
            "min_edit_distance",
            "verify_votes",
            "verify_share",
            "verifies",
            "created_at",
        ]


class _CampaignApi(RoleScoped, generics.GenericAPIView):
    model = Campaign
    selector = staticmethod(selectors.campaigns_for_user)
    serializer_class = CampaignOutput
    permission_classes = [StaffWrites]


class CampaignListCreateApi(mixins.ListModelMixin, _CampaignApi):
    """GET: the campaigns you may see. POST (staff): a new campaign."""

    @extend_schema_serializer(component_name="CampaignInput")
    class InputSerializer(JSONInput):
        name = serializers.CharField(max_length=200)
        guidelines = serializers.CharField(required=False, allow_blank=True, default="")
        languages = serializers.ListField(child=serializers.CharField(max_length=35), min_length=1)
        overlap = serializers.IntegerField(
            min_value=1,
            max_value=50,
            default=2,
            help_text="ranking: annotators per task; write, reply, edit, translate: answers per prompt; verify: votes",
        )
        kind = serializers.ChoiceField(choices=CampaignKind.choices, default=CampaignKind.RANKING)
        min_edit_distance = serializers.IntegerField(min_value=0, max_value=10_000, default=5)
        verify_votes = serializers.IntegerField(min_value=1, max_value=50, default=3)
        verify_share = serializers.FloatField(min_value=0.5, max_value=1, default=0.6)
        verifies = id_field(required=False, allow_null=True, default=None, help_text="verify: the campaign it verifies")

    @extend_schema(operation_id="v1_campaigns_list", responses=CampaignOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_campaigns_create", request=InputSerializer, responses={201: CampaignOutput})
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        if data["verifies"] is not None:
            data["verifies"] = existing(Campaign.objects.alive(), data["verifies"], "verifies")
        campaign = catalog.campaign_create(**data)
        return Reply(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(_CampaignApi):
    """GET: one campaign. PATCH (staff): change its contribution settings (its kind and what it verifies are
    fixed). DELETE (staff): delete it with its tasks, as a job (202; the campaign is gone from every list at once,
    its tasks follow in batches: poll /api/v1/campaign-jobs/{id}/)."""

    @extend_schema_serializer(component_name="CampaignUpdateInput")
    class UpdateSerializer(JSONInput):
        min_edit_distance = serializers.IntegerField(min_value=0, max_value=10_000)
        verify_votes = serializers.IntegerField(min_value=1, max_value=50)
        verify_share = serializers.FloatField(min_value=0.5, max_value=1)
        kind = serializers.ChoiceField(choices=CampaignKind.choices, help_text="fixed: only its current value")
        verifies = id_field(allow_null=True, help_text="fixed: only its current value")

    @extend_schema(operation_id="v1_campaigns_retrieve", responses=CampaignOutput)
    def get(self, request, *args, **kwargs):
        return Reply(CampaignOutput(self.get_object()).data)

    @extend_schema(operation_id="v1_campaigns_partial_update", request=UpdateSerializer, responses=CampaignOutput)
    def patch(self, request, *args, **kwargs):
        data = validated(self.UpdateSerializer, request.data, partial=True)
        if not data:
            raise ApplicationError(_("Give at least one setting to change."))
        return Reply(CampaignOutput(catalog.campaign_update(campaign=self.get_object(), **data)).data)

    @extend_schema(
        operation_id="v1_campaigns_destroy",
        request=None,
        responses={202: CampaignJobOutput, 409: BUSY},
        parameters=[IDEMPOTENCY_KEY],
    )
    def delete(self, request, *args, **kwargs):
        campaign = self.get_object()
        return launch_once(
            request,
            lambda: queued(
                operations.operation_launch(campaign=campaign, kind=OperationKind.DELETE, params={}, user=request.user)
            ),
            CampaignJobOutput,
        )


class CampaignTasksOutput(serializers.Serializer):
    created = serializers.ListField(child=serializers.IntegerField(), help_text="ids of the new tasks")
    existing = serializers.ListField(child=serializers.IntegerField(), help_text="ids of tasks already there")


class CampaignTasksApi(_CampaignApi):
    """POST (staff): tasks for prompts (write, reply, translate: one task per target language) or responses (edit)
    in a contribution campaign. Asking again for what exists adds nothing (`existing` lists those tasks)."""

    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="CampaignTasksInput")
    class InputSerializer(JSONInput):
        prompts = serializers.ListField(child=id_field(), required=False, default=list, max_length=1000)
        responses = serializers.ListField(
            child=id_field(), required=False, default=list, max_length=1000, help_text="edit: the responses to improve"
        )

    @extend_schema(
        operation_id="v1_campaigns_tasks_create", request=InputSerializer, responses={201: CampaignTasksOutput}
    )
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        created, found = contributing.contribution_tasks_add(campaign=self.get_object(), **data)
        return Reply(
            {"created": [t.pk for t in created], "existing": [t.pk for t in found]}, status=status.HTTP_201_CREATED
        )


class CampaignSuggestionsApi(_CampaignApi):
    """POST (staff): show a judge's ranking to annotators as each task's starting order, except on a share
    of the tasks (chosen by hash) kept without it so the review page can measure anchoring. An empty
    judge turns suggestions off."""

    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="CampaignSuggestionsInput")
    class InputSerializer(serializers.Serializer):
        judge = serializers.CharField(max_length=200, allow_blank=True, help_text="NAME@VERSION; empty: off")
        holdout = serializers.FloatField(
            min_value=0, max_value=1, default=DEFAULT_HOLDOUT, help_text="Share of tasks shown without it"
        )

    @extend_schema(operation_id="v1_campaigns_suggestions_create", request=InputSerializer, responses=CampaignOutput)
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        campaign = campaign_set_suggestions(campaign=self.get_object(), judge=data["judge"], holdout=data["holdout"])
        return Reply(CampaignOutput(campaign).data)
