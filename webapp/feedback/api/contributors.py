"""Contributors' API (webapp/feedback/contributors.py): the leaderboard per language (everyone signed in: usernames
and figures only) and the moderation list (reviewers and staff)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response as Reply
from rest_framework.views import APIView

from webapp.errors import ApplicationError
from webapp.feedback import contributors
from webapp.feedback.models import Language
from webapp.permissions import IsReviewer

LANGUAGE = OpenApiParameter("language", str, required=False, description="One language (BCP-47 tag)")
MAX_LIMIT = 500


def language_param(request) -> str | None:
    """The `language` query parameter as the store spells the code, or a 400 for an unknown one."""
    raw = request.query_params.get("language") or None
    if raw is None:
        return None
    code = Language.objects.filter(code__iexact=raw).values_list("code", flat=True).first()
    if code is None:
        raise ApplicationError(_("Unknown language: %(code)s") % {"code": raw[:50]}, extra={"field": "language"})
    return code


def limit_param(request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return contributors.LEADERBOARD_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApplicationError(
            _("limit must be a whole number from 1 to %(max)s") % {"max": MAX_LIMIT}, extra={"field": "limit"}
        )
    return int(raw)


class StandingOutput(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="Within the language; null without points")
    contributor = serializers.CharField()
    language = serializers.CharField()
    points = serializers.FloatField(help_text="contribution_points + verify_credit")
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Earn nothing until decided")
    quality = serializers.FloatField(help_text="Wilson lower bound (95 %) of accepted / decided")
    contribution_points = serializers.FloatField(help_text="quality × the accepted contributions' weights")
    verify_agreed = serializers.IntegerField(help_text="Verify votes that agreed with the final decision")
    verify_votes = serializers.IntegerField(help_text="Verify votes on decided contributions")
    verify_credit = serializers.FloatField()


class LeaderboardOutput(serializers.Serializer):
    language = serializers.CharField(allow_null=True)
    results = StandingOutput(many=True, help_text="The first `limit` ranked rows of each language")
    me = StandingOutput(many=True, help_text="Your own rows, ranked or not")
    ranked = serializers.DictField(child=serializers.IntegerField(), help_text="Ranked contributors per language")


class LeaderboardApi(APIView):
    """The contributor leaderboard per language: quality-weighted points for accepted contributions and agreeing
    verify votes (the formula: README, "Contribution tasks"). Everyone signed in reads it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="v1_contributors_leaderboard_retrieve",
        parameters=[
            LANGUAGE,
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                required=False,
                description="Ranked rows per language (default 50)",
            ),
        ],
        responses={200: LeaderboardOutput, 400: OpenApiResponse(description="An unknown language or a bad limit.")},
    )
    def get(self, request, *args, **kwargs):
        board = contributors.leaderboard(request.user, language=language_param(request), limit=limit_param(request))
        return Reply(LeaderboardOutput(board).data)


class ModerationOutput(serializers.Serializer):
    contributor = serializers.CharField(source="contributor__username")
    language = serializers.CharField(source="language_id")
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    pending = serializers.IntegerField()
    decided = serializers.IntegerField()
    rejected_share = serializers.FloatField()
    contributions = serializers.SerializerMethodField(help_text="Their contributions in that language")

    def get_contributions(self, row) -> str:
        query = urlencode({"contributor": row["contributor__username"], "language": row["language_id"]})
        return f"{reverse('contribution-list')}?{query}"


class ModerationApi(APIView):
    """Reviewers and staff: contributors whose decided work in a language is mostly rejected (at least
    CONTRIBUTOR_MODERATION_MIN_DECIDED decided, a rejected share above CONTRIBUTOR_MODERATION_REJECTED_SHARE)."""

    permission_classes = [IsReviewer]

    @extend_schema(
        operation_id="v1_contributors_moderation_list",
        parameters=[LANGUAGE],
        responses={200: ModerationOutput(many=True), 400: OpenApiResponse(description="An unknown language.")},
    )
    def get(self, request, *args, **kwargs):
        rows = contributors.moderation_list(language=language_param(request))
        return Reply(ModerationOutput(rows, many=True).data)
