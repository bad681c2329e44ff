"""REST API of the feedback store (/api/v1/). Views validate input, call one service, serialize."""

from django.http import FileResponse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response as Reply

from webapp.apifields import content_field, id_field, id_filter
from webapp.errors import ApplicationError
from webapp.feedback import selectors
from webapp.feedback.formats.exporting import SOURCES
from webapp.feedback.formats.pairs import EXPANSIONS
from webapp.feedback.formats.registry import export_formats
from webapp.feedback.models import (
    Annotation,
    Campaign,
    Language,
    Outcome,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TransferJob,
)
from webapp.feedback.services import assignment, catalog, transfers
from webapp.feedback.services.languages import language_get_or_create
from webapp.feedback.workspace.rendering import render_markdown
from webapp.jobs.api import JOB_FIELDS, CancelActionMixin
from webapp.permissions import IsStaff, StaffWrites, is_reviewer


class RoleScoped:
    """Lists and details show what the user's role may see (selectors); the schema generator, which
    has no user, gets an empty queryset of the right model."""

    model = None
    selector = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return type(self).selector(self.request.user).order_by("id")


# --- Languages -----------------------------------------------------------------------------------
class LanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name", "direction"]


class LanguageInput(serializers.Serializer):
    code = serializers.CharField(max_length=35, help_text="BCP-47 tag; name and script direction are derived")


class LanguageViewSet(viewsets.ReadOnlyModelViewSet):
    """Languages are also added on first use (imports, prompts); staff can add one ahead of time."""

    queryset = Language.objects.all()
    serializer_class = LanguageSerializer
    pagination_class = None
    permission_classes = [StaffWrites]

    @extend_schema(request=LanguageInput, responses={201: LanguageSerializer})
    def create(self, request):
        language = language_get_or_create(_valid(LanguageInput, request.data)["code"])
        return Reply(LanguageSerializer(language).data, status=status.HTTP_201_CREATED)


# --- Campaigns -----------------------------------------------------------------------------------
class CampaignOutput(serializers.ModelSerializer):
    languages = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "guidelines", "languages", "overlap", "is_active", "created_at"]


class CampaignInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    guidelines = serializers.CharField(required=False, allow_blank=True, default="")
    languages = serializers.ListField(child=serializers.CharField(max_length=35), min_length=1)
    overlap = serializers.IntegerField(min_value=1, max_value=50, default=2)


class CampaignViewSet(
    RoleScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = CampaignOutput
    permission_classes = [StaffWrites]

    model = Campaign
    selector = staticmethod(selectors.campaigns_for_user)

    @extend_schema(request=CampaignInput, responses={201: CampaignOutput})
    def create(self, request):
        data = _valid(CampaignInput, request.data)
        campaign = catalog.campaign_create(**data)
        return Reply(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        catalog.campaign_delete(campaign=instance)


# --- Prompts and responses -----------------------------------------------------------------------
class PromptOutput(serializers.ModelSerializer):
    content = content_field()
    language = serializers.CharField(source="language_id")

    class Meta:
        model = Prompt
        fields = [
            "id",
            "content",
            "text",
            "language",
            "group",
            "source",
            "external_id",
            "metadata",
            "version",
            "previous",
            "created_at",
        ]


class PromptInput(serializers.Serializer):
    content = content_field()
    language = serializers.CharField(max_length=35)
    group = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    source = serializers.CharField(max_length=50, required=False, default="api")
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)


class TextEditInput(serializers.Serializer):
    content = content_field()


class PromptFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="language_id")
    source = filters.CharFilter()
    group = filters.CharFilter()
    campaign = id_filter("tasks__campaign_id", distinct=True)

    class Meta:
        model = Prompt
        fields = ["language", "source", "group", "campaign"]


class PromptViewSet(
    RoleScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = PromptOutput
    permission_classes = [StaffWrites]
    filterset_class = PromptFilter

    model = Prompt
    selector = staticmethod(selectors.prompts_for_user)

    @extend_schema(request=PromptInput, responses={201: PromptOutput})
    def create(self, request):
        prompt = catalog.prompt_create(**_valid(PromptInput, request.data))
        return Reply(PromptOutput(prompt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TextEditInput, responses={200: PromptOutput})
    def partial_update(self, request, pk=None):
        """Edit the text: in place while unjudged, else a new version (its id is returned)."""
        prompt = catalog.prompt_edit(prompt=self.get_object(), **_valid(TextEditInput, request.data))
        return Reply(PromptOutput(prompt).data)

    def perform_destroy(self, instance):
        catalog.prompt_delete(prompt=instance)


class ResponseOutput(serializers.ModelSerializer):
    content = content_field()

    class Meta:
        model = Response
        fields = ["id", "prompt", "content", "text", "model_name", "metadata", "version", "previous", "created_at"]


class ResponseInput(serializers.Serializer):
    prompt = id_field()
    content = content_field()
    model_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)


class ResponseFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="prompt__language_id")
    prompt = id_filter("prompt_id")
    group = filters.CharFilter(field_name="prompt__group")
    source = filters.CharFilter(field_name="prompt__source")

    class Meta:
        model = Response
        fields = ["language", "prompt", "group", "source"]


class ResponseViewSet(
    RoleScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ResponseOutput
    permission_classes = [StaffWrites]
    filterset_class = ResponseFilter

    model = Response
    selector = staticmethod(selectors.responses_for_user)

    @extend_schema(request=ResponseInput, responses={201: ResponseOutput})
    def create(self, request):
        data = _valid(ResponseInput, request.data)
        prompt = _get(Prompt.objects.alive(), data.pop("prompt"), "prompt")
        response = catalog.response_create(prompt=prompt, **data)
        return Reply(ResponseOutput(response).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TextEditInput, responses={200: ResponseOutput})
    def partial_update(self, request, pk=None):
        response = catalog.response_edit(response=self.get_object(), **_valid(TextEditInput, request.data))
        return Reply(ResponseOutput(response).data)

    def perform_destroy(self, instance):
        catalog.response_delete(response=instance)


# --- Tasks ---------------------------------------------------------------------------------------
class TaskItemOutput(serializers.Serializer):
    position = serializers.IntegerField()
    id = serializers.IntegerField(source="response.id")
    content = content_field(source="response.content")
    text = serializers.CharField(source="response.text")
    html = serializers.SerializerMethodField(help_text="The text as safe HTML (Markdown rendered, raw HTML escaped)")

    def get_html(self, item) -> str:
        return render_markdown(item.response.text)


class TaskItemReviewOutput(TaskItemOutput):
    model_name = serializers.CharField(source="response.model_name")


class TaskOutput(serializers.ModelSerializer):
    language = serializers.CharField(source="language_id")
    direction = serializers.CharField(source="language.direction")
    campaign = serializers.IntegerField(source="campaign_id")
    prompt = PromptOutput()
    prompt_html = serializers.SerializerMethodField(help_text="The prompt as safe HTML")
    responses = serializers.SerializerMethodField()
    gold_position = serializers.SerializerMethodField(help_text="Reviewers and staff only; null for annotators")

    class Meta:
        model = Task
        fields = [
            "id",
            "external_id",
            "campaign",
            "language",
            "direction",
            "prompt",
            "prompt_html",
            "responses",
            "annotation_count",
            "gold_position",
            "created_at",
        ]

    def _reviewer(self) -> bool:
        """Asked once per response, not per task and field: a list shares one context."""
        if "reviewer" not in self.context:
            request = self.context.get("request")
            self.context["reviewer"] = is_reviewer(request.user) if request else False
        return self.context["reviewer"]

    def get_prompt_html(self, task) -> str:
        return render_markdown(task.prompt.text)

    def get_gold_position(self, task) -> int | None:
        # Gold items look like any other task to annotators.
        return task.gold_position if self._reviewer() else None

    @extend_schema(responses=TaskItemReviewOutput(many=True))
    def get_responses(self, task) -> list[dict]:
        # Annotators rank blind: model names are for reviewers and staff only.
        serializer = TaskItemReviewOutput if self._reviewer() else TaskItemOutput
        return serializer(task.items.all(), many=True).data


class TaskInput(serializers.Serializer):
    campaign = id_field()
    prompt = id_field()
    responses = serializers.ListField(child=id_field(), min_length=2, max_length=9)
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class GoldInput(serializers.Serializer):
    position = serializers.IntegerField(
        min_value=0, max_value=8, allow_null=True, help_text="Stored position of the known best response; null clears"
    )


class NextInput(serializers.Serializer):
    campaign = id_field(required=False, allow_null=True, default=None)


class AssignmentOutput(serializers.Serializer):
    task = TaskOutput(allow_null=True)
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField(required=False)


class AnnotationInput(serializers.Serializer):
    ranking = serializers.JSONField(help_text="Positions in stored order, best first: [[0], [2, 1]] ties 2 and 1")
    display_order = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=8), required=False, default=list, max_length=9
    )
    flags = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, default=list, max_length=3
    )
    rationale = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000, trim_whitespace=False
    )
    seconds = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0, max_value=86_400)


class AnnotationOutput(serializers.ModelSerializer):
    annotator = serializers.CharField(source="annotator.username")

    class Meta:
        model = Annotation
        fields = ["id", "task", "annotator", "ranking", "display_order", "flags", "rationale", "seconds", "created_at"]


class TaskFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="language_id")
    campaign = id_filter("campaign_id")
    group = filters.CharFilter(field_name="prompt__group")
    source = filters.CharFilter(field_name="prompt__source")

    class Meta:
        model = Task
        fields = ["language", "campaign", "group", "source"]


class TaskViewSet(
    RoleScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = TaskOutput
    permission_classes = [StaffWrites]
    filterset_class = TaskFilter

    model = Task
    selector = staticmethod(selectors.tasks_for_user)

    @extend_schema(request=TaskInput, responses={201: TaskOutput})
    def create(self, request):
        data = _valid(TaskInput, request.data)
        campaign = _get(Campaign.objects.alive(), data["campaign"], "campaign")
        prompt = _get(Prompt.objects.alive(), data["prompt"], "prompt")
        by_id = Response.objects.alive().in_bulk(data["responses"])
        missing = [pk for pk in data["responses"] if pk not in by_id]
        if missing:
            raise ApplicationError(f"No such response(s): {missing}")
        task = catalog.task_create(
            campaign=campaign,
            prompt=prompt,
            responses=[by_id[pk] for pk in data["responses"]],
            external_id=data["external_id"],
        )
        return Reply(
            self.get_serializer(selectors.tasks_for_user(request.user).get(pk=task.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        catalog.task_delete(task=instance)

    @extend_schema(request=NextInput, responses={200: AssignmentOutput})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def next(self, request):
        """Lease the next task in your languages that still needs annotators."""
        data = _valid(NextInput, request.data)
        got = assignment.tasks_next(user=request.user, campaign_id=data["campaign"])
        if got is None:
            return Reply(
                {
                    "task": None,
                    "lease_expires_at": None,
                    "detail": "No task needs you right now in your languages. Thank you!",
                }
            )
        task = selectors.tasks_for_user(request.user).get(pk=got.task.pk)
        return Reply({"task": self.get_serializer(task).data, "lease_expires_at": got.lease_expires_at})

    @extend_schema(request=None, responses={200: AssignmentOutput})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def lease(self, request, pk=None):
        """Renew your lease while you work on the task."""
        got = assignment.lease_renew(user=request.user, task_id=_pk(pk))
        task = selectors.tasks_for_user(request.user).get(pk=got.task.pk)
        return Reply({"task": self.get_serializer(task).data, "lease_expires_at": got.lease_expires_at})

    @extend_schema(request=AnnotationInput, responses={200: AnnotationOutput(many=True), 201: AnnotationOutput})
    @action(detail=True, methods=["get", "post"], permission_classes=[permissions.IsAuthenticated])
    def annotations(self, request, pk=None):
        """POST: submit your ranking (repeating it is harmless). GET: your annotation of this task
        (reviewers: everyone's)."""
        if request.method == "GET":
            self.get_object()
            rows = selectors.annotations_for_user(request.user).filter(task_id=_pk(pk)).order_by("id")
            return Reply(AnnotationOutput(rows, many=True).data)
        data = _valid(AnnotationInput, request.data)
        annotation, created = assignment.annotation_submit(user=request.user, task_id=_pk(pk), **data)
        return Reply(
            AnnotationOutput(annotation).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(request=GoldInput, responses={200: TaskOutput})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def gold(self, request, pk=None):
        """Staff: mark the task a gold item with its known best response (or clear it with null)."""
        data = _valid(GoldInput, request.data)
        task = catalog.task_set_gold(task=self.get_object(), position=data["position"])
        return Reply(self.get_serializer(selectors.tasks_for_user(request.user).get(pk=task.pk)).data)

    @extend_schema(request=None, responses={201: OpenApiResponse(description="Skipped")})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def skip(self, request, pk=None):
        assignment.task_skip(user=request.user, task_id=_pk(pk))
        return Reply({"detail": "Skipped."}, status=status.HTTP_201_CREATED)


class AnnotationFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="task__language_id")
    campaign = id_filter("task__campaign_id")
    task = id_filter("task_id")
    group = filters.CharFilter(field_name="task__prompt__group")

    class Meta:
        model = Annotation
        fields = ["language", "campaign", "task", "group"]


class AnnotationViewSet(RoleScoped, viewsets.ReadOnlyModelViewSet):
    """Annotations are created through POST /tasks/{id}/annotations/ only."""

    serializer_class = AnnotationOutput
    filterset_class = AnnotationFilter

    model = Annotation
    selector = staticmethod(selectors.annotations_for_user)


# --- Preference records --------------------------------------------------------------------------
class PreferenceOutput(serializers.ModelSerializer):
    language = serializers.CharField(source="language_id")
    prompt = content_field()
    response_a = content_field()
    response_b = content_field()

    class Meta:
        model = PreferenceRecord
        fields = [
            "id",
            "external_id",
            "prompt",
            "response_a",
            "response_b",
            "outcome",
            "source",
            "language",
            "group",
            "model_a",
            "model_b",
            "agreement",
            "metadata",
            "created_at",
        ]


class PreferenceInput(serializers.Serializer):
    prompt = content_field()
    response_a = content_field()
    response_b = content_field()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    language = serializers.CharField(max_length=35)
    group = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    model_a = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    model_b = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)


class PreferenceFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="language_id")
    source = filters.CharFilter()
    group = filters.CharFilter()
    outcome = filters.CharFilter()

    class Meta:
        model = PreferenceRecord
        fields = ["language", "source", "group", "outcome"]


class PreferenceViewSet(
    RoleScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = PreferenceOutput
    permission_classes = [StaffWrites]
    filterset_class = PreferenceFilter

    model = PreferenceRecord
    selector = staticmethod(selectors.preferences_for_user)

    @extend_schema(request=PreferenceInput, responses={201: PreferenceOutput})
    def create(self, request):
        record = catalog.preference_create(
            **_valid(PreferenceInput, request.data), source="import", annotator=request.user
        )
        return Reply(PreferenceOutput(record).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        catalog.preference_delete(record=instance)


# --- Imports and exports -------------------------------------------------------------------------
class TransferOutput(serializers.ModelSerializer):
    class Meta:
        model = TransferJob
        fields = JOB_FIELDS


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="pairs and/or rankings JSON Lines")
    skip_invalid = serializers.BooleanField(default=False)


class ExportInput(serializers.Serializer):
    format = serializers.ChoiceField(choices=export_formats.names(), default="pairs")
    languages = serializers.ListField(child=serializers.CharField(max_length=35), required=False, default=list)
    sources = serializers.ListField(child=serializers.ChoiceField(choices=SOURCES), required=False, default=list)
    campaigns = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list)
    pairs = serializers.ChoiceField(choices=EXPANSIONS, default="best_vs_rest")
    min_agreement = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.5)
    min_annotators = serializers.IntegerField(min_value=1, max_value=100, default=1)
    include_flagged = serializers.BooleanField(default=False)
    since = serializers.CharField(required=False, max_length=40, help_text="ISO 8601 date or time (inclusive)")
    until = serializers.CharField(required=False, max_length=40, help_text="ISO 8601 date or time (exclusive)")


class TransferViewSet(CancelActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports and exports run by workers; poll a job for progress, counts and bad lines."""

    serializer_class = TransferOutput
    permission_classes = [IsStaff]
    queryset = TransferJob.objects.all()

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={202: TransferOutput})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser], url_path="import")
    def import_file(self, request):
        data = _valid(ImportInput, request.data)
        path = transfers.upload_store(data["file"])
        job = transfers.transfer_import_create(path=path, skip_invalid=data["skip_invalid"], user=request.user)
        return Reply(TransferOutput(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ExportInput, responses={202: TransferOutput})
    @action(detail=False, methods=["post"], parser_classes=[JSONParser], url_path="export")
    def export(self, request):
        job = transfers.transfer_export_create(params=_valid(ExportInput, request.data), user=request.user)
        return Reply(TransferOutput(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: OpenApiResponse(description="The JSON Lines file")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        path = transfers.transfer_output(self.get_object())
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/jsonl")


# --- helpers -------------------------------------------------------------------------------------
def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApplicationError("The id in the URL must be a number.") from None


def _get(queryset, pk: int, name: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ApplicationError(f"No such {name}: {pk}")
    return obj
