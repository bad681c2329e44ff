"""REST API of the arena (thin): the public leaderboard, and staff exclusion of a client's votes."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response as Reply
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from webapp.apifields import JSONInput
from webapp.arena import selectors, services
from webapp.arena.models import ExcludedClient
from webapp.errors import ApplicationError
from webapp.feedback.models import Language
from webapp.feedback.services.languages import canonical_tag
from webapp.permissions import IsStaff


class ArenaRatingSerializer(serializers.Serializer):
    variant = serializers.CharField()
    rating = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    votes = serializers.IntegerField()


class ArenaLeaderboardSerializer(serializers.Serializer):
    ratings = ArenaRatingSerializer(many=True)


class LeaderboardView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        parameters=[OpenApiParameter("language", str, description="BCP-47 tag; all languages when absent")],
        responses={200: ArenaLeaderboardSerializer},
    )
    def get(self, request):
        """Bradley–Terry ratings on the Elo scale with 95% bootstrap intervals, best first."""
        language = request.query_params.get("language", "").strip()
        if language:
            language = canonical_tag(language)
            if not Language.objects.filter(code=language).exists():
                raise ApplicationError(_("Unknown language %(code)s.") % {"code": repr(language)})
        rows = selectors.leaderboard(language or None)
        return Reply(ArenaLeaderboardSerializer({"ratings": rows}).data)


class ExclusionListView(APIView):
    permission_classes = [IsStaff]

    class ArenaExclusionInputSerializer(JSONInput):
        client_hash = serializers.RegexField(r"^[0-9a-f]{64}$")
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    class ArenaExclusionSerializer(serializers.ModelSerializer):
        class Meta:
            model = ExcludedClient
            fields = ["client_hash", "reason", "created_at"]

    @extend_schema(responses={200: ArenaExclusionSerializer(many=True)})
    def get(self, request):
        return Reply(self.ArenaExclusionSerializer(ExcludedClient.objects.order_by("-created_at"), many=True).data)

    @extend_schema(request=ArenaExclusionInputSerializer, responses={201: ArenaExclusionSerializer})
    def post(self, request):
        """Exclude a client: their votes leave the ratings, exports and training data."""
        data = self.ArenaExclusionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        excluded = services.client_exclude(**data.validated_data, by=request.user)
        return Reply(self.ArenaExclusionSerializer(excluded).data, status=status.HTTP_201_CREATED)


class ExclusionDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={204: None})
    def delete(self, request, client_hash: str):
        """Undo an exclusion: the client's votes count again."""
        services.client_include(client_hash=client_hash)
        return Reply(status=status.HTTP_204_NO_CONTENT)
