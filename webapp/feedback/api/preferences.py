"""Preference records (one prompt, two responses, an outcome): read by role; staff add and delete them."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response as Reply

from webapp.apifields import IdCursorPagination, JSONInput
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped, content_field, validated
from webapp.feedback.models import Outcome, PreferenceRecord
from webapp.feedback.services import catalog
from webapp.permissions import StaffWrites


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
            "origin",
            "language",
            "group",
            "model_a",
            "model_b",
            "agreement",
            "metadata",
            "created_at",
        ]


class PreferenceFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="language_id")
    source = filters.CharFilter()
    origin = filters.CharFilter()
    group = filters.CharFilter()
    outcome = filters.CharFilter()

    class Meta:
        model = PreferenceRecord
        fields = ["language", "source", "origin", "group", "outcome"]


class _PreferenceApi(RoleScoped, generics.GenericAPIView):
    model = PreferenceRecord
    selector = staticmethod(selectors.preferences_for_user)
    serializer_class = PreferenceOutput
    permission_classes = [StaffWrites]
    filterset_class = PreferenceFilter  # the list's filters; a detail outside them is not found, as before


class PreferenceListCreateApi(mixins.ListModelMixin, _PreferenceApi):
    """GET: the preference records you may see. POST (staff): add one (source "import", origin "api")."""

    pagination_class = IdCursorPagination  # a cursor over the id: flat at any size

    @extend_schema_serializer(component_name="PreferenceInput")
    class InputSerializer(JSONInput):
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

    @extend_schema(operation_id="v1_preferences_list", responses=PreferenceOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_preferences_create", request=InputSerializer, responses={201: PreferenceOutput})
    def post(self, request, *args, **kwargs):
        data = validated(self.InputSerializer, request.data)
        record = catalog.preference_create(**data, source="import", annotator=request.user)
        return Reply(PreferenceOutput(record).data, status=status.HTTP_201_CREATED)


class PreferenceDetailApi(_PreferenceApi):
    """GET: one preference record. DELETE (staff): delete it."""

    @extend_schema(operation_id="v1_preferences_retrieve", responses=PreferenceOutput)
    def get(self, request, *args, **kwargs):
        return Reply(PreferenceOutput(self.get_object()).data)

    @extend_schema(operation_id="v1_preferences_destroy")
    def delete(self, request, *args, **kwargs):
        catalog.preference_delete(record=self.get_object())
        return Reply(status=status.HTTP_204_NO_CONTENT)
