"""REST API of judges and judge jobs (staff): the registered judges; launch a judge over a campaign,
watch its progress, cancel it."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response as Reply
from rest_framework.views import APIView

from webapp.apifields import MAX_ID
from webapp.errors import ApplicationError
from webapp.feedback.extensions import judges
from webapp.feedback.models import Campaign
from webapp.jobs.api import IDEMPOTENCY_KEY, CancelActionMixin, launch_once
from webapp.judging.models import JudgeJob
from webapp.judging.services import judge_job_create
from webapp.permissions import IsStaff


class JudgeOutput(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    origin = serializers.CharField(help_text="NAME@VERSION: the origin of its rankings")
    queue = serializers.CharField(help_text="The queue its jobs run on")
    description = serializers.CharField()


class JudgeListApi(APIView):
    """The registered judges."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="v1_judges_list", responses=JudgeOutput(many=True))
    def get(self, request):
        return Reply(JudgeOutput([judge for _, judge in judges.items()], many=True).data)


class JudgeJobOutput(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id")
    campaign_name = serializers.CharField(source="campaign.name")
    queue = serializers.CharField(source="judge_queue")

    class Meta:
        model = JudgeJob
        fields = [
            "id",
            "judge",
            "campaign",
            "campaign_name",
            "languages",
            "queue",
            "status",
            "progress_done",
            "progress_total",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class JudgeJobInput(serializers.Serializer):
    judge = serializers.CharField(max_length=200, help_text="A registered judge: NAME or NAME@VERSION")
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The campaign whose tasks it ranks")
    languages = serializers.ListField(
        child=serializers.CharField(max_length=35),
        required=False,
        default=list,
        max_length=100,
        help_text="Only these languages' tasks; none: every task of the campaign",
    )


class JudgeJobViewSet(CancelActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = JudgeJob.objects.select_related("campaign")
    serializer_class = JudgeJobOutput
    permission_classes = [IsStaff]

    @extend_schema(
        request=JudgeJobInput,
        responses={202: JudgeJobOutput, 200: JudgeJobOutput},
        parameters=[IDEMPOTENCY_KEY],
        description="Queue a judge over a campaign's tasks (202), on the judge's queue (gpu for a model). While a "
        "job of the same judge on the same campaign and languages is queued or running, it is returned instead "
        "(200). Tasks the judge ranked already are skipped.",
    )
    def create(self, request):
        data = JudgeJobInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        campaign = Campaign.objects.alive().filter(pk=values["campaign"]).first()
        if campaign is None:
            raise ApplicationError(f"campaign: no campaign {values['campaign']}", extra={"field": "campaign"})
        return launch_once(
            request,
            lambda: judge_job_create(
                judge=values["judge"], campaign=campaign, languages=values["languages"], user=request.user
            ),
            JudgeJobOutput,
        )
