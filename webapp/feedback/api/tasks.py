"""Ranking tasks: staff create, mark gold and delete them; annotators lease the next one, renew the lease, submit a
ranking or skip. Annotators rank blind: model names and gold positions are for reviewers and staff only."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import generics, mixins, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as Reply
from rest_framework.views import APIView

from webapp.apifields import IdCursorPagination, JSONInput, ModelFieldsOnce, id_field, id_filter
from webapp.errors import ApplicationError
from webapp.feedback import selectors
from webapp.feedback.api.annotations import AnnotationOutput
from webapp.feedback.api.common import RoleScoped, content_field, existing, url_pk, validated
from webapp.feedback.api.prompts import PromptOutput
from webapp.feedback.models import Campaign, CampaignKind, Prompt, Response, Task
from webapp.feedback.services import assignment, catalog
from webapp.feedback.services.suggestions import suggestion_for
from webapp.feedback.workspace.rendering import render_markdown
from webapp.permissions import IsStaff, StaffWrites, is_reviewer


# What the ranking task kind accepts (formats/parsing.py: check_ranking): ranks, best first, each a non-empty list of
# stored positions; that every position of the task appears exactly once is checked against the task.
@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": 9,
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": 9,
            "items": {"type": "integer", "minimum": 0, "maximum": 8},
        },
    }
)
class RankingField(serializers.JSONField):
    pass


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


class LanguageBrief(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    direction = serializers.CharField()


class ContributionShown(serializers.Serializer):
    """A contribution as a verify task shows it: no contributor (votes are blind)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField(source="content")
    original_text = serializers.SerializerMethodField(help_text="edit: the response it improves; null otherwise")
    language = serializers.CharField(source="language_id")

    def get_original_text(self, contribution) -> str | None:
        original = contribution.original_response
        return original.text if original is not None else None


class TaskOutput(ModelFieldsOnce):
    language = serializers.CharField(source="language_id", help_text="translate: the target language")
    direction = serializers.CharField(source="language.direction")
    campaign = serializers.IntegerField(source="campaign_id")
    prompt = PromptOutput()
    prompt_html = serializers.SerializerMethodField(help_text="The prompt as safe HTML")
    responses = serializers.SerializerMethodField()
    gold_position = serializers.SerializerMethodField(help_text="Reviewers and staff only; null for annotators")
    suggestion = serializers.SerializerMethodField(
        help_text="The starting order to show (a judge's ranking, positions best first), when the campaign "
        "suggests one for this task; null otherwise"
    )
    target_language = serializers.SerializerMethodField(help_text="translate: the language to translate into")
    contribution = serializers.SerializerMethodField(help_text="verify: the contribution to vote on")

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "external_id",
            "campaign",
            "language",
            "direction",
            "prompt",
            "prompt_html",
            "responses",
            "annotation_count",
            "gold_position",
            "suggestion",
            "target_language",
            "contribution",
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

    @extend_schema_field(
        serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()), allow_null=True)
    )
    def get_suggestion(self, task):
        return suggestion_for(task) if task.campaign.suggestion_judge else None

    @extend_schema_field(LanguageBrief(allow_null=True))
    def get_target_language(self, task):
        return LanguageBrief(task.language).data if task.kind == CampaignKind.TRANSLATE else None

    @extend_schema_field(ContributionShown(allow_null=True))
    def get_contribution(self, task):
        return ContributionShown(task.contribution).data if task.contribution_id else None

    @extend_schema(responses=TaskItemReviewOutput(many=True))
    def get_responses(self, task) -> list[dict]:
        # Annotators rank blind: model names are for reviewers and staff only.
        serializer = TaskItemReviewOutput if self._reviewer() else TaskItemOutput
        return serializer(task.items.all(), many=True).data


class AssignmentOutput(serializers.Serializer):
    task = TaskOutput(allow_null=True)
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField(required=False)


def _task_data(request: Request, task: Task) -> dict:
    """The task as the user's role shows it, read again through their selector."""
    return TaskOutput(selectors.tasks_for_user(request.user).get(pk=task.pk), context={"request": request}).data


class TaskFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="language_id")
    campaign = id_filter("campaign_id")
    group = filters.CharFilter(field_name="prompt__group")
    source = filters.CharFilter(field_name="prompt__source")

    class Meta:
        model = Task
        fields = ["language", "campaign", "group", "source"]


class _TaskApi(RoleScoped, generics.GenericAPIView):
    model = Task
    selector = staticmethod(selectors.tasks_for_user)
    serializer_class = TaskOutput
    permission_classes = [StaffWrites]
    filterset_class = TaskFilter  # the list's filters; a task outside them is not found, as before


class TaskListCreateApi(mixins.ListModelMixin, _TaskApi):
    """GET: the tasks you may see. POST (staff): a new task ranking some responses to a prompt."""

    pagination_class = IdCursorPagination  # a cursor over the id: flat at any size

    @extend_schema_serializer(component_name="TaskInput")
    class InputSerializer(JSONInput):
        campaign = id_field()
        prompt = id_field()
        responses = serializers.ListField(child=id_field(), min_length=2, max_length=9)
        external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="v1_tasks_list", responses=TaskOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_tasks_create", request=InputSerializer, responses={201: TaskOutput})
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        campaign = existing(Campaign.objects.alive(), data["campaign"], "campaign")
        prompt = existing(Prompt.objects.alive(), data["prompt"], "prompt")
        by_id = Response.objects.alive().in_bulk(data["responses"])
        missing = [pk for pk in data["responses"] if pk not in by_id]
        if missing:
            raise ApplicationError(_("No such response(s): %(ids)s") % {"ids": missing})
        task = catalog.task_create(
            campaign=campaign,
            prompt=prompt,
            responses=[by_id[pk] for pk in data["responses"]],
            external_id=data["external_id"],
        )
        return Reply(_task_data(request, task), status=status.HTTP_201_CREATED)


class TaskDetailApi(_TaskApi):
    """GET: one task. DELETE (staff): delete it."""

    @extend_schema(operation_id="v1_tasks_retrieve", responses=TaskOutput)
    def get(self, request, *args, **kwargs):
        return Reply(TaskOutput(self.get_object(), context={"request": request}).data)

    @extend_schema(operation_id="v1_tasks_destroy")
    def delete(self, request, *args, **kwargs):
        catalog.task_delete(task=self.get_object())
        return Reply(status=status.HTTP_204_NO_CONTENT)


class TaskNextApi(APIView):
    """Lease the next task in your languages that still needs annotators."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema_serializer(component_name="NextInput")
    class InputSerializer(JSONInput):
        campaign = id_field(required=False, allow_null=True, default=None)

    @extend_schema(operation_id="v1_tasks_next_create", request=InputSerializer, responses={200: AssignmentOutput})
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        got = assignment.tasks_next(user=request.user, campaign_id=data["campaign"])
        if got is None:
            return Reply(
                {
                    "task": None,
                    "lease_expires_at": None,
                    "detail": _("No task needs you right now in your languages. Thank you!"),
                }
            )
        # The service read the task as this user may see it, with everything the output shows.
        task = TaskOutput(got.task, context={"request": request}).data
        return Reply({"task": task, "lease_expires_at": got.lease_expires_at})


class TaskLeaseApi(_TaskApi):
    """Renew your lease while you work on the task."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="v1_tasks_lease_create",
        request=None,
        responses={
            200: AssignmentOutput,
            409: OpenApiResponse(
                description="You annotated this task already, or your lease expired and the task is full."
            ),
        },
    )
    def post(self, request, pk, **kwargs):
        got = assignment.lease_renew(user=request.user, task_id=url_pk(pk))
        return Reply({"task": _task_data(request, got.task), "lease_expires_at": got.lease_expires_at})


class TaskAnnotationsApi(_TaskApi):
    """POST: submit your ranking (repeating it is harmless). GET: your annotation of this task
    (reviewers: everyone's)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema_serializer(component_name="AnnotationInput")
    class InputSerializer(JSONInput):
        ranking = RankingField(help_text="Positions in stored order, best first: [[0], [2, 1]] ties 2 and 1")
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

    # GET: a page of the list, like every list (the task list's filters, as query parameters, apply to finding the
    # task). POST: the annotation, 201 when it is new, 200 when the same ranking was submitted before.
    @extend_schema(operation_id="v1_tasks_annotations_list", responses={200: AnnotationOutput(many=True)})
    def get(self, request, pk, **kwargs):
        self.get_object()
        rows = selectors.annotations_for_user(request.user).filter(task_id=url_pk(pk)).order_by("id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AnnotationOutput(page, many=True).data)

    @extend_schema(
        operation_id="v1_tasks_annotations_create",
        request=InputSerializer,
        responses={
            200: AnnotationOutput,
            201: AnnotationOutput,
            409: OpenApiResponse(
                description="You submitted another ranking for this task before, or skipped it, or your lease "
                "expired and the task is full."
            ),
        },
    )
    def post(self, request, pk, **kwargs):
        data = validated(self.InputSerializer, request.data)
        annotation, created = assignment.annotation_submit(user=request.user, task_id=url_pk(pk), **data)
        return Reply(
            AnnotationOutput(annotation).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class TaskGoldApi(_TaskApi):
    """Staff: mark the task a gold item with its known best response (or clear it with null)."""

    permission_classes = [IsStaff]

    @extend_schema_serializer(component_name="GoldInput")
    class InputSerializer(JSONInput):
        position = serializers.IntegerField(
            min_value=0,
            max_value=8,
            allow_null=True,
            help_text="Stored position of the known best response; null clears",
        )

    @extend_schema(operation_id="v1_tasks_gold_create", request=InputSerializer, responses={200: TaskOutput})
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        task = catalog.task_set_gold(task=self.get_object(), position=data["position"])
        return Reply(_task_data(request, task))


class TaskSkipApi(_TaskApi):
    """Skip the task: your lease on it ends and it is not offered to you again."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="v1_tasks_skip_create",
        request=None,
        responses={
            201: OpenApiResponse(description="Skipped"),
            409: OpenApiResponse(description="You annotated this task already; it cannot be skipped."),
        },
    )
    def post(self, request, pk, **kwargs):
        assignment.task_skip(user=request.user, task_id=url_pk(pk))
        return Reply({"detail": _("Skipped.")}, status=status.HTTP_201_CREATED)
