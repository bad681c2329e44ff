"""REST API of the model store: variants, base-model installs and generation jobs (staff)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput, StrictBooleanFilter
from webapp.jobs.api import IDEMPOTENCY_KEY, JOB_FIELDS, CancelActionMixin, launch_once, queued
from webapp.modelstore.generation import generation_job_create
from webapp.modelstore.models import ModelJob, ModelVariant
from webapp.modelstore.services import install_job_create, variant_set_enrolled
from webapp.permissions import IsStaff

MAX_ID = 2**63 - 1


class VariantOutput(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)  # null for a base
    generation_evaluation = serializers.JSONField(
        source="metrics.evaluation.generation",
        read_only=True,
        allow_null=True,
        help_text="The training job's evaluation by generation against the parent, per language (null: none)",
    )

    class Meta:
        model = ModelVariant
        fields = [
            "id",
            "name",
            "kind",
            "parent",
            "status",
            "source",
            "size_bytes",
            "lineage",
            "metrics",
            "generation_evaluation",
            "system_prompt",
            "enrolled_in_arena",
            "created_at",
        ]


class EnrolInput(JSONInput):
    enrolled = serializers.BooleanField()


class VariantFilter(filters.FilterSet):
    enrolled_in_arena = StrictBooleanFilter()

    class Meta:
        model = ModelVariant
        fields = ["kind", "status", "enrolled_in_arena"]


class VariantViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ModelVariant.objects.select_related("parent").order_by("id")
    serializer_class = VariantOutput
    filterset_class = VariantFilter

    @extend_schema(request=EnrolInput, responses={200: VariantOutput})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def enrol(self, request, pk=None):
        """Enrol the variant in the arena, or withdraw it."""
        data = EnrolInput(data=request.data)
        data.is_valid(raise_exception=True)
        variant = variant_set_enrolled(variant=self.get_object(), enrolled=data.validated_data["enrolled"])
        return Reply(VariantOutput(variant).data)


class ModelJobOutput(serializers.ModelSerializer):
    class Meta:
        model = ModelJob
        fields = JOB_FIELDS


class InstallInput(JSONInput):
    source = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Hub id or local folder; empty for the configured default",
    )


def _id_list(**kwargs):
    return serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs)


class GenerateInput(JSONInput):
    variants = _id_list(min_length=1, max_length=20)
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Campaign that receives the tasks")
    languages = serializers.ListField(child=serializers.CharField(max_length=35), required=False, default=list)
    sources = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)
    source_campaigns = _id_list(required=False, default=list)
    prompts = _id_list(required=False, default=list, max_length=5000)
    samples = serializers.IntegerField(min_value=1, max_value=8, default=2)
    temperature = serializers.FloatField(min_value=0, max_value=2, default=0.8)
    top_p = serializers.FloatField(min_value=0.01, max_value=1, default=0.95)
    max_new_tokens = serializers.IntegerField(min_value=1, max_value=4096, default=256)
    responses_per_task = serializers.IntegerField(min_value=2, max_value=4, default=4)
    batch_size = serializers.IntegerField(
        min_value=1, max_value=64, default=8, help_text="Prompts generated together (faster on a CPU up to about 32)"
    )
    seed = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, default=1234, help_text="Sample k of a prompt uses seed + k"
    )


class ModelJobViewSet(CancelActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ModelJob.objects.all()
    serializer_class = ModelJobOutput
    permission_classes = [IsStaff]

    @extend_schema(
        request=InstallInput,
        responses={202: ModelJobOutput, 200: ModelJobOutput},
        parameters=[IDEMPOTENCY_KEY],
        description="Queue an install (202). When the model is installed already, or an install of it is "
        "queued or running, that job is returned instead (200) and nothing new is queued.",
    )
    @action(detail=False, methods=["post"])
    def install(self, request):
        data = InstallInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = data.validated_data["source"] or None
        return launch_once(request, lambda: install_job_create(source=source, user=request.user), ModelJobOutput)

    @extend_schema(request=GenerateInput, responses={202: ModelJobOutput}, parameters=[IDEMPOTENCY_KEY])
    @action(detail=False, methods=["post"])
    def generate(self, request):
        data = GenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        return launch_once(
            request, lambda: queued(generation_job_create(params=params, user=request.user)), ModelJobOutput
        )
