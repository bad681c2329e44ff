"""Annotations, read-only: your own, or everyone's for reviewers. They are submitted through
POST /tasks/{id}/annotations/ (tasks.py)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, permissions, serializers
from rest_framework.response import Response as Reply

from webapp.apifields import IdCursorPagination, ModelFieldsOnce, id_filter
from webapp.feedback import selectors
from webapp.feedback.api.common import RoleScoped
from webapp.feedback.models import Annotation


class AnnotationOutput(ModelFieldsOnce):
    annotator = serializers.CharField(source="annotator.username")

    class Meta:
        model = Annotation
        fields = [
            "id",
            "task",
            "annotator",
            "ranking",
            "display_order",
            "flags",
            "rationale",
            "seconds",
            "source",
            "origin",
            "created_at",
        ]


class AnnotationFilter(filters.FilterSet):
    language = filters.CharFilter(field_name="task__language_id")
    campaign = id_filter("task__campaign_id")
    task = id_filter("task_id")
    group = filters.CharFilter(field_name="task__prompt__group")
    source = filters.CharFilter()
    origin = filters.CharFilter()

    class Meta:
        model = Annotation
        fields = ["language", "campaign", "task", "group", "source", "origin"]


class _AnnotationApi(RoleScoped, generics.GenericAPIView):
    model = Annotation
    selector = staticmethod(selectors.annotations_for_user)
    serializer_class = AnnotationOutput
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = AnnotationFilter  # the list's filters; a detail outside them is not found, as before


class AnnotationListApi(mixins.ListModelMixin, _AnnotationApi):
    """Annotations are created through POST /tasks/{id}/annotations/ only."""

    pagination_class = IdCursorPagination  # a cursor over the id: flat at any size

    @extend_schema(operation_id="v1_annotations_list", responses=AnnotationOutput(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class AnnotationDetailApi(_AnnotationApi):
    """Annotations are created through POST /tasks/{id}/annotations/ only."""

    @extend_schema(operation_id="v1_annotations_retrieve", responses=AnnotationOutput)
    def get(self, request, *args, **kwargs):
        return Reply(AnnotationOutput(self.get_object()).data)
