"""REST API of training jobs (staff): launch, watch, cancel, retry."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response as Reply

from ml.training.trainers import kinds
from webapp.apifields import JSONInput
from webapp.jobs.api import IDEMPOTENCY_KEY, launch_once, queued
from webapp.modelstore.models import ModelVariant
from webapp.permissions import IsStaff
from webapp.training.models import TrainingJob
from webapp.training.services import (
    FieldError,
    training_job_cancel,
    training_job_create,
    training_job_retry,
    training_preview,
)


class TrainingJobOutput(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="name", read_only=True)
    # null until the job has registered its variant (declared so: schemathesis found the mismatch).
    variant = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    variant_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The new variant's id (/models/ID/)"
    )

    class Meta:
        model = TrainingJob
        fields = [
            "id",
            "kind",
            "parent",
            "status",
            "progress_done",
            "progress_total",
            "data_spec",
            "hyperparameters",
            "system_prompt",
            "data_summary",
            "created_before",
            "metrics",
            "resumes",
            "eval_generation",
            "evaluation",
            "variant",
            "variant_id",
            "error",
            "log",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
        ]


class TrainingJobInput(JSONInput):
    kind = serializers.ChoiceField(choices=kinds())
    parent = serializers.CharField(max_length=100, help_text="Name of the parent variant")
    data = serializers.DictField(
        required=False,
        default=dict,
        help_text="Selection: sources (annotation, import, arena, judge, ...; none: every source but judge), "
        "origins (e.g. rankings, pairs, oasst, local), campaigns, languages, "
        "min_agreement, min_annotators, pairs, include_flagged, trust_weighting, since, "
        "until, eval_fraction, near_language + near_top (pairs whose prompts are nearest to that language's), "
        "judges (NAME@VERSION origins whose labels may enter, per language, when their agreement with people "
        "reaches judge_min_agreement, default 0.8, on at least judge_min_items tasks, default 20)",
    )
    hyperparameters = serializers.DictField(required=False, default=dict)
    system_prompt = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        max_length=4000,
        default=None,
        help_text="Put first in every training and held-out conversation, and served with the new variant; "
        "null or absent: the parent's",
    )
    eval_generation = serializers.JSONField(
        required=False,
        default=None,
        help_text='The last step of the job, evaluation by generation: "off", or {"max_prompts_per_language": '
        '1..500 (default 24), "max_new_tokens": 1..512 (default 64), "prompt_sources": [Prompt sources whose '
        "prompts are held out too, in any language]}; absent or null: the defaults. The parent and the new "
        'variant answer greedily; the figures per language are in evaluation["generation"]',
    )
    preview = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        help_text="The `token` of a preview (POST /api/v1/training-jobs/preview/) of the same data settings: the "
        "job keeps its counts as data_summary.preview, beside the snapshot's",
    )


class TrainingPreviewInput(JSONInput):
    data = serializers.DictField(required=False, default=dict, help_text="The selection, as a launch's `data`")
    kind = serializers.ChoiceField(
        choices=kinds(),
        required=False,
        default="dpo",
        help_text="The launch's kind: kto counts labelled answers (with their balance), the others pairs",
    )


class TrainingPreviewOutput(serializers.Serializer):
    approximate = serializers.BooleanField(
        help_text="True when a pass stopped at TRAINING_PREVIEW_MAX_PAIRS pairs: the counts are lower bounds"
    )
    before_filters = serializers.DictField(
        child=serializers.IntegerField(), help_text="Pairs per language, every source"
    )
    train = serializers.DictField(child=serializers.IntegerField(), help_text="Training pairs per language")
    eval = serializers.DictField(child=serializers.IntegerField(), help_text="Held-out pairs per language")
    by_source = serializers.DictField(child=serializers.IntegerField())
    train_pairs = serializers.IntegerField()
    eval_pairs = serializers.IntegerField()
    rows = serializers.CharField(help_text="What was counted: dpo (pairs) or kto (labelled answers, in the *_pairs)")
    balance = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="kto: the training answers labelled desirable and undesirable",
    )
    judges = serializers.DictField(required=False, help_text="The judge gate's answer, when the data names judges")
    previewed_at = serializers.DateTimeField()
    token = serializers.CharField(help_text="Give it as the launch's `preview` to keep these counts on the job")


class TrainingJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = TrainingJob.objects.select_related("parent", "variant")
    serializer_class = TrainingJobOutput
    permission_classes = [IsStaff]

    @extend_schema(request=TrainingJobInput, responses={202: TrainingJobOutput}, parameters=[IDEMPOTENCY_KEY])
    def create(self, request):
        data = TrainingJobInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        parent = ModelVariant.objects.filter(name=values["parent"]).first()
        if parent is None:
            raise FieldError("parent", _("no variant named %(name)s") % {"name": repr(values["parent"])})

        def launch():
            job = training_job_create(
                kind=values["kind"],
                parent=parent,
                data=values["data"],
                hyperparameters=values["hyperparameters"],
                system_prompt=values["system_prompt"],
                eval_generation=values["eval_generation"],
                preview=values.get("preview") or None,
                user=request.user,
            )
            return queued(job)

        return launch_once(request, launch, TrainingJobOutput)

    @extend_schema(request=TrainingPreviewInput, responses={200: TrainingPreviewOutput})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The pair counts (kto: labelled answers) the data settings select now (quick and possibly approximate:
        see `approximate`)."""
        data = TrainingPreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Reply(training_preview(data=data.validated_data["data"], kind=data.validated_data["kind"]))

    @extend_schema(request=None, responses={200: TrainingJobOutput})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Reply(TrainingJobOutput(training_job_cancel(job=self.get_object())).data)

    @extend_schema(request=None, responses={200: TrainingJobOutput})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return Reply(TrainingJobOutput(training_job_retry(job=self.get_object())).data)
