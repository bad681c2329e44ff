"""Contribution tasks' API (webapp/feedback/services/contributing.py): a contribution or a verify vote on a leased
task; the contributions list, the reviewer queue and overrides (reviewers and staff); per contributor and
language figures (everyone: their own; reviewers and staff: all)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, permissions, serializers, status
from rest_framework.response import Response as Reply
from rest_framework.views import APIView

from webapp.apifields import IdCursorPagination, JSONInput, StrictChoiceFilter, id_filter
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped, url_pk, validated
from webapp.feedback.models import CampaignKind, Contribution, DemonstrationStatus, Verdict
from webapp.feedback.services import contributing
from webapp.permissions import IsReviewer

TASK_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The task's id")
MAX_TEXT = 20_000  # an edit's distance is computed in pure Python: quadratic in what differs


class ContributionOutput(serializers.ModelSerializer):
    contributor = serializers.CharField(source="contributor.username")
    language = serializers.CharField(source="language_id")
    campaign = serializers.IntegerField(source="task.campaign_id")
    text = serializers.CharField(source="content")
    original_text = serializers.SerializerMethodField(help_text="edit: the response it improves; null otherwise")
    override_by = serializers.CharField(source="override_by.username", allow_null=True, default=None)

    class Meta:
        model = Contribution
        fields = [
            "id",
            "task",
            "campaign",
            "kind",
            "contributor",
            "language",
            "text",
            "original_text",
            "original_response",
            "created_prompt",
            "demonstration",
            "pair",
            "edit_distance",
            "similarity",
            "flagged",
            "checked_at",
            "check_note",
            "status",
            "up_votes",
            "down_votes",
            "disputed",
            "override_status",
            "override_reason",
            "override_by",
            "override_at",
            "seconds",
            "created_at",
        ]

    def get_original_text(self, contribution) -> str | None:
        original = contribution.original_response
        return original.text if original is not None else None


class VerdictOutput(serializers.ModelSerializer):
    voter = serializers.CharField(source="voter.username")

    class Meta:
        model = Verdict
        fields = ["id", "contribution", "voter", "up", "reason", "created_at"]


class TaskContributionsApi(APIView):
    """Send your contribution to a write, reply, edit or translate task you hold a lease on."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema_serializer(component_name="ContributionInput")
    class InputSerializer(JSONInput):
        text = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False, allow_blank=True)
        seconds = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0, max_value=86_400)

    @extend_schema(
        operation_id="v1_tasks_contributions_create",
        parameters=[TASK_ID],
        request=InputSerializer,
        responses={
            201: ContributionOutput,
            400: OpenApiResponse(
                description="Empty text, an edit too close to its original, a task of another kind, or no live lease."
            ),
            409: OpenApiResponse(description="You contributed to this task before."),
        },
    )
    def post(self, request, pk, **kwargs):
        data = validated(self.InputSerializer, request.data)
        contribution = contributing.contribution_submit(user=request.user, task_id=url_pk(pk), **data)
        return Reply(ContributionOutput(contribution).data, status=status.HTTP_201_CREATED)


class TaskVerdictsApi(APIView):
    """Vote up or down on the contribution of a verify task you hold a lease on."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema_serializer(component_name="VerdictInput")
    class InputSerializer(JSONInput):
        up = serializers.BooleanField()
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5_000)

    @extend_schema(
        operation_id="v1_tasks_verdicts_create",
        parameters=[TASK_ID],
        request=InputSerializer,
        responses={
            201: VerdictOutput,
            400: OpenApiResponse(description="A task of another kind, or no live lease."),
            403: OpenApiResponse(description="The contribution is your own."),
            409: OpenApiResponse(description="You voted on this contribution before."),
        },
    )
    def post(self, request, pk, **kwargs):
        data = validated(self.InputSerializer, request.data)
        verdict = contributing.verdict_submit(user=request.user, task_id=url_pk(pk), **data)
        return Reply(VerdictOutput(verdict).data, status=status.HTTP_201_CREATED)


class ContributionFilter(filters.FilterSet):
    kind = StrictChoiceFilter(choices=CampaignKind.choices)
    status = StrictChoiceFilter(choices=DemonstrationStatus.choices)
    language = filters.CharFilter(field_name="language_id")
    campaign = id_filter("task__campaign_id")
    contributor = filters.CharFilter(field_name="contributor__username")

    class Meta:
        model = Contribution
        fields = ["kind", "status", "language", "campaign", "contributor"]


class _ContributionApi(RoleScoped, generics.GenericAPIView):
    model = Contribution
    selector = staticmethod(selectors.contributions_for_user)
    serializer_class = ContributionOutput
    permission_classes = [IsReviewer]
    filterset_class = ContributionFilter


class ContributionListApi(mixins.ListModelMixin, _ContributionApi):
    """Reviewers and staff: every contribution, filtered by kind, status, language, campaign, contributor."""

    pagination_class = IdCursorPagination

    @extend_schema(operation_id="v1_contributions_list", responses=ContributionOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class ContributionReviewQueueApi(mixins.ListModelMixin, _ContributionApi):
    """Reviewers and staff: what waits for a decision: flagged translations and disputed votes."""

    selector = staticmethod(selectors.review_queue)
    pagination_class = IdCursorPagination

    @extend_schema(operation_id="v1_contributions_review_queue_list", responses=ContributionOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class ContributionOverrideApi(_ContributionApi):
    """Reviewers and staff: decide a contribution, with a reason; votes no longer change it."""

    @extend_schema_serializer(component_name="OverrideInput")
    class InputSerializer(JSONInput):
        status = serializers.ChoiceField(choices=[DemonstrationStatus.ACCEPTED, DemonstrationStatus.REJECTED])
        reason = serializers.CharField(max_length=5_000)

    @extend_schema(
        operation_id="v1_contributions_override_create", request=InputSerializer, responses={200: ContributionOutput}
    )
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        contribution = contributing.contribution_override(contribution=self.get_object(), user=request.user, **data)
        return Reply(ContributionOutput(selectors.contributions_for_user(request.user).get(pk=contribution.pk)).data)


class ContributorStatsOutput(serializers.Serializer):
    contributor = serializers.CharField()
    language = serializers.CharField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    pending = serializers.IntegerField()
    median_edit_distance = serializers.FloatField(allow_null=True)


class ContributorStatsApi(APIView):
    """Per contributor and language: accepted, rejected, pending, median edit distance. Annotators see their own
    rows; reviewers and staff everyone's."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="v1_contributors_stats_list",
        parameters=[OpenApiParameter("language", str, required=False, description="One language (BCP-47 tag)")],
        responses={200: ContributorStatsOutput(many=True)},
    )
    def get(self, request, *args, **kwargs):
        language = request.query_params.get("language") or None
        return Reply(
            ContributorStatsOutput(selectors.contributor_stats(request.user, language=language), many=True).data
        )
