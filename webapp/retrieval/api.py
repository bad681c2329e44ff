"""REST API of search (thin: validate, call one selector or service, serialize)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.apifields import MAX_ID, JSONInput
from webapp.jobs.api import IDEMPOTENCY_KEY, launch_once, queued
from webapp.permissions import IsStaff
from webapp.retrieval import selectors, services
from webapp.retrieval.models import IndexBuild, LinkDecision

# live_index (selectors.py): the index, or the query's `model`, names another embedding model than the live one.
INDEX_CONFLICT = OpenApiResponse(description="The search index was built by another model; rebuild it.")
NO_TASK = OpenApiResponse(description="No such task, or not one you may see.")


def _bounded(name: str, schema: dict, **kwargs) -> OpenApiParameter:
    """A query parameter as the selector checks it (the serializer only parses it, so the selector's messages
    stay), written over the one drf-spectacular derives from the input serializer."""
    return OpenApiParameter(name, schema, OpenApiParameter.QUERY, **kwargs)


def _multi(request, name: str) -> list[str]:
    """Repeated (`language=de&language=fr`) or comma-separated (`language=de,fr`) values."""
    return [part.strip() for value in request.query_params.getlist(name) for part in value.split(",") if part.strip()]


class SearchApi(APIView):
    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False, default="")
        k = serializers.IntegerField(required=False, default=10)
        model = serializers.CharField(required=False, default="")
        min_score = serializers.FloatField(
            required=False,
            default=None,
            min_value=0.0,
            max_value=1.0,
            help_text="Similarity floor for this query (0..1); SEARCH_MIN_SCORE when absent.",
        )

    @extend_schema(
        parameters=[
            InputSerializer,
            # Some visible text, at most MAX_QUERY_CHARS; k: 1..MAX_K (selectors.search_texts).
            _bounded("q", {"type": "string", "pattern": r"\S", "maxLength": selectors.MAX_QUERY_CHARS}, required=True),
            _bounded("k", {"type": "integer", "minimum": 1, "maximum": selectors.MAX_K, "default": 10}),
        ],
        responses={200: dict, 409: INDEX_CONFLICT},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        result = selectors.search_texts(
            query=data["q"],
            languages=_multi(request, "language"),
            kinds=_multi(request, "kind"),
            k=data["k"],
            model=data["model"],
            user=request.user,
            min_score=data["min_score"],
        )
        return Response(result)


class RelatedApi(APIView):
    class InputSerializer(serializers.Serializer):
        task = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        k = serializers.IntegerField(required=False, default=5)

    @extend_schema(
        parameters=[InputSerializer, _bounded("k", {"type": "integer", "minimum": 1, "maximum": 20, "default": 5})],
        responses={200: dict, 404: NO_TASK, 409: INDEX_CONFLICT},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return Response(selectors.related_for_task(user=request.user, task_id=data["task"], k=data["k"]))


class IndexStatusApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(selectors.index_status())


class IndexBuildApi(APIView):
    permission_classes = [IsStaff]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = IndexBuild
            fields = ["id", "status", "model_key", "progress_done", "progress_total", "error", "result", "created_at"]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        return Response(self.OutputSerializer(IndexBuild.objects.all()[:20], many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: OutputSerializer,
            409: OpenApiResponse(description="A rebuild is already queued or running."),
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request):
        return launch_once(
            request, lambda: queued(services.index_build_create(user=request.user)), self.OutputSerializer
        )


class SimilarPairsInput(serializers.Serializer):
    threshold = serializers.FloatField(required=False, default=0.8)
    limit = serializers.IntegerField(required=False, default=50)
    scan = serializers.IntegerField(required=False, default=2000)


def _similar_pairs_parameters(threshold: float) -> list:
    """selectors.similar_prompt_pairs: 0 < threshold <= 1, limit 1..500, scan 1..20000."""
    return [
        SimilarPairsInput,
        _bounded(
            "threshold",
            {"type": "number", "format": "double", "minimum": 0, "exclusiveMinimum": True, "maximum": 1}
            | {"default": threshold},
        ),
        _bounded("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
        _bounded("scan", {"type": "integer", "minimum": 1, "maximum": 20000, "default": 2000}),
    ]


class TranslationLinksApi(APIView):
    """GET suggestions (prompts in different languages, not yet grouped); POST a decision."""

    permission_classes = [IsStaff]

    class DecisionSerializer(JSONInput):
        prompt_a = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        prompt_b = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        decision = serializers.ChoiceField(choices=LinkDecision.choices)
        score = serializers.FloatField(required=False, default=0.0, min_value=-1.0, max_value=1.0)

    @extend_schema(parameters=_similar_pairs_parameters(0.8), responses={200: dict, 409: INDEX_CONFLICT})
    def get(self, request):
        params = SimilarPairsInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        pairs = selectors.similar_prompt_pairs(cross_language=True, **params.validated_data)
        return Response({"results": pairs})

    @extend_schema(
        request=DecisionSerializer,
        responses={
            200: dict,
            404: OpenApiResponse(description="One of the prompts does not exist or is deleted."),
            409: OpenApiResponse(description="The prompts are already in different translation groups."),
        },
    )
    def post(self, request):
        data = self.DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.translation_link_decide(user=request.user, **data.validated_data)
        return Response(
            {"prompt_a": link.prompt_a_id, "prompt_b": link.prompt_b_id, "decision": link.decision, "group": link.group}
        )


class DuplicatesApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(parameters=_similar_pairs_parameters(0.95), responses={200: dict, 409: INDEX_CONFLICT})
    def get(self, request):
        params = SimilarPairsInput(data={"threshold": 0.95, **request.query_params.dict()})
        params.is_valid(raise_exception=True)
        return Response({"results": selectors.similar_prompt_pairs(cross_language=False, **params.validated_data)})
