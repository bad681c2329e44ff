"""Prompts: listed and read by role; staff create, edit (a new version once judged) and delete them."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput, ModelFieldsOnce, id_filter
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped, TextEditInput, content_field, validated
from webapp.feedback.models import Prompt
from webapp.feedback.services import catalog
from webapp.permissions import StaffWrites


class PromptOutput(ModelFieldsOnce):
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


class PromptFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="language_id")
    source = filters.CharFilter()
    group = filters.CharFilter()
    campaign = id_filter("tasks__campaign_id", distinct=True)

    class Meta:
        model = Prompt
        fields = ["language", "source", "group", "campaign"]


class _PromptApi(RoleScoped, generics.GenericAPIView):
    model = Prompt
    selector = staticmethod(selectors.prompts_for_user)
    serializer_class = PromptOutput
    permission_classes = [StaffWrites]
    filterset_class = PromptFilter  # the list's filters; a detail outside them is not found, as before


class PromptListCreateApi(mixins.ListModelMixin, _PromptApi):
    """GET: the prompts you may see. POST (staff): a new prompt."""

    @extend_schema_serializer(component_name="PromptInput")
    class InputSerializer(JSONInput):
        content = content_field()
        language = serializers.CharField(max_length=35)
        group = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        source = serializers.CharField(max_length=50, required=False, default="api")
        external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        metadata = serializers.DictField(required=False, default=dict)

    @extend_schema(operation_id="v1_prompts_list", responses=PromptOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_prompts_create", request=InputSerializer, responses={201: PromptOutput})
    def post(self, request, *args, **kwargs):
        prompt = catalog.prompt_create(**validated(self.InputSerializer, request.data))
        return Reply(PromptOutput(prompt).data, status=status.HTTP_201_CREATED)


class PromptDetailApi(_PromptApi):
    """GET: one prompt. PATCH, DELETE (staff): edit or delete it."""

    InputSerializer = TextEditInput

    @extend_schema(operation_id="v1_prompts_retrieve", responses=PromptOutput)
    def get(self, request, *args, **kwargs):
        return Reply(PromptOutput(self.get_object()).data)

    @extend_schema(operation_id="v1_prompts_partial_update", request=InputSerializer, responses={200: PromptOutput})
    def patch(self, request, *args, **kwargs):
        """Edit the text: in place while unjudged, else a new version (its id is returned). Without `content`,
        nothing changes."""
        prompt = self.get_object()
        data = validated(self.InputSerializer, request.data, partial=True)
        if data:
            prompt = catalog.prompt_edit(prompt=prompt, **data)
        return Reply(PromptOutput(prompt).data)

    @extend_schema(operation_id="v1_prompts_destroy")
    def delete(self, request, *args, **kwargs):
        catalog.prompt_delete(prompt=self.get_object())
        return Reply(status=status.HTTP_204_NO_CONTENT)
