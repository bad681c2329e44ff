"""Languages: listed for everyone, added by staff (they are also added on first use, by imports and prompts)."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response as Reply

from webapp.apifields import JSONInput
from webapp.feedback.api.common import validated
from webapp.feedback.models import Language
from webapp.feedback.services.languages import language_get_or_create
from webapp.permissions import StaffWrites


@extend_schema_serializer(component_name="Language")
class LanguageOutput(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name", "direction"]


class _LanguageApi(generics.GenericAPIView):
    queryset = Language.objects.all()
    serializer_class = LanguageOutput
    pagination_class = None
    permission_classes = [StaffWrites]


class LanguageListCreateApi(mixins.ListModelMixin, _LanguageApi):
    """Languages are also added on first use (imports, prompts); staff can add one ahead of time."""

    @extend_schema_serializer(component_name="LanguageInput")
    class InputSerializer(JSONInput):
        code = serializers.CharField(max_length=35, help_text="BCP-47 tag; name and script direction are derived")

    @extend_schema(operation_id="v1_languages_list", responses=LanguageOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="v1_languages_create", request=InputSerializer, responses={201: LanguageOutput})
    def post(self, request, *args, **kwargs):
        language = language_get_or_create(validated(self.InputSerializer, request.data)["code"])
        return Reply(LanguageOutput(language).data, status=status.HTTP_201_CREATED)


class LanguageDetailApi(_LanguageApi):
    """One language, by its code."""

    @extend_schema(operation_id="v1_languages_retrieve", responses=LanguageOutput)
    def get(self, request, *args, **kwargs):
        return Reply(LanguageOutput(self.get_object()).data)
