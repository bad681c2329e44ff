"""Responses to prompts: listed and read by role; staff create, edit (a new version once judged) and delete them."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput, id_field, id_filter
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped, TextEditInput, content_field, existing, validated
from webapp.feedback.models import Prompt, Response
from webapp.feedback.services import catalog
from webapp.permissions import StaffWrites


class ResponseOutput(serializers.ModelSerializer):
    content = content_field()

    class Meta:
        model = Response
        fields = ["id", "prompt", "content", "text", "model_name", "metadata", "version", "previous", "created_at"]


class ResponseFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="prompt__language_id")
    prompt = id_filter("prompt_id")
    group = filters.CharFilter(field_name="prompt__group")
    source = filters.CharFilter(field_name="prompt__source")

    class Meta:
        model = Response
        fields = ["language", "prompt", "group", "source"]


class _ResponseApi(RoleScoped, generics.GenericAPIView):
    model = Response
    selector = staticmethod(selectors.responses_for_user)
    serializer_class = ResponseOutput
    permission_classes = [StaffWrites]
    filterset_class = ResponseFilter  # the list's filters; a detail outside them is not found, as before


class ResponseListCreateApi(mixins.ListModelMixin, _ResponseApi):
    """GET: the responses you may see. POST (staff): a new response to a prompt."""

    @extend_schema_serializer(component_name="ResponseInput")
    class InputSerializer(JSONInput):
        prompt = id_field()
        content = content_field()
        model_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        metadata = serializers.DictField(required=False, default=dict)

    @extend_schema(operation_id="v1_responses_list", responses=ResponseOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_responses_create", request=InputSerializer, responses={201: ResponseOutput})
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        prompt = existing(Prompt.objects.alive(), data.pop("prompt"), "prompt")
        response = catalog.response_create(prompt=prompt, **data)
        return Reply(ResponseOutput(response).data, status=status.HTTP_201_CREATED)


class ResponseDetailApi(_ResponseApi):
    """GET: one response. PATCH, DELETE (staff): edit or delete it."""

    InputSerializer = TextEditInput

    @extend_schema(operation_id="v1_responses_retrieve", responses=ResponseOutput)
    def get(self, request, *args, **kwargs):
        return Reply(ResponseOutput(self.get_object()).data)

    @extend_schema(operation_id="v1_responses_partial_update", request=InputSerializer, responses={200: ResponseOutput})
    def patch(self, request, *args, **kwargs):
        """Edit the text: in place while unjudged, else a new version (its id is returned). Without `content`,
        nothing changes."""
        response = self.get_object()
        data = validated(self.InputSerializer, request.data, partial=True)
        if data:
            response = catalog.response_edit(response=response, **data)
        return Reply(ResponseOutput(response).data)

    @extend_schema(operation_id="v1_responses_destroy")
    def delete(self, request, *args, **kwargs):
        catalog.response_delete(response=self.get_object())
        return Reply(status=status.HTTP_204_NO_CONTENT)
