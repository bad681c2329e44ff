"""REST API of the arena (thin): the public leaderboard, and staff exclusion of a client's votes."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
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


class ArenaIntervalSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()


class ArenaRatingSerializer(serializers.Serializer):
    variant = serializers.CharField()
    rating = serializers.FloatField()
    ci_low = serializers.FloatField(allow_null=True, help_text="the 95% interval of ci_method; null when provisional")
    ci_high = serializers.FloatField(allow_null=True)
    ci_method = serializers.ChoiceField(choices=[selectors.BOOTSTRAP, selectors.SANDWICH])
    sandwich = ArenaIntervalSerializer(help_text="95% from the sandwich covariance H^-1 J H^-1 of the fit")
    bootstrap = ArenaIntervalSerializer(allow_null=True, help_text="95% percentile interval; null when not computed")
    provisional = serializers.BooleanField(help_text="fewer counted votes than ARENA_MIN_VOTES")
    votes = serializers.IntegerField()
    lineage = serializers.CharField(
        help_text="what the variant was made from and on what data, e.g. 'DPO on 1,234 pairs in de, fr from base-x'"
    )


class ArenaSeparationSerializer(serializers.Serializer):
    higher = serializers.CharField()
    lower = serializers.CharField()
    votes_needed = serializers.IntegerField(
        allow_null=True,
        help_text="more votes, in the current mix, until the pair's 95% interval excludes 0: "
        "ceil(N (z^2 V / d^2 - 1)), 0 when separated, null when the ratings are equal",
    )


class ArenaStyleSerializer(serializers.Serializer):
    coefficients = serializers.DictField(
        child=serializers.FloatField(), help_text="log-odds per standard deviation of each style difference"
    )
    tokenizers = serializers.ListField(child=serializers.CharField(), help_text="what length counts in")
    unmeasured_votes = serializers.IntegerField(help_text="counted votes without style measures, left out")


class ArenaLeaderboardSerializer(serializers.Serializer):
    ratings = ArenaRatingSerializer(many=True)
    votes_needed = ArenaSeparationSerializer(many=True)
    style = ArenaStyleSerializer(required=False, help_text="only with style=control")
    as_of = serializers.DateTimeField(allow_null=True, help_text="when these ratings were fitted")
    changes_since = serializers.IntegerField(
        help_text="changes to the votes since as_of (0: exact); a fit behind is being refitted (ARENA_REFIT_SECONDS)"
    )


class LeaderboardView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    class ArenaLeaderboardQuerySerializer(serializers.Serializer):
        language = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="BCP-47 tag; all languages when absent"
        )
        style = serializers.ChoiceField(
            choices=[selectors.PLAIN, selectors.CONTROL],
            default=selectors.PLAIN,
            help_text="control: ratings with the answers' style held fixed (style control)",
        )
        ci = serializers.ChoiceField(
            choices=[selectors.BOOTSTRAP, selectors.SANDWICH],
            required=False,
            help_text="the interval in ci_low/ci_high; default bootstrap (plain), sandwich (control)",
        )
        origin = serializers.ChoiceField(
            choices=list(selectors.ORIGINS),
            default=selectors.LOCAL,
            help_text="the votes counted: this arena's own (local), those of imported battle logs, or all",
        )

    @extend_schema(parameters=[ArenaLeaderboardQuerySerializer], responses={200: ArenaLeaderboardSerializer})
    def get(self, request):
        """Bradley–Terry ratings on the Elo scale with 95% intervals, best first; style=control holds the
        answers' style (length, Markdown, language, repetition) fixed; origin=imported|all counts imported
        battle logs' votes (local only by default)."""
        # a plain dict: DRF would read an empty `?style=` from a QueryDict as absent (HTML form rules)
        query = self.ArenaLeaderboardQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        language = query.validated_data["language"].strip()
        if language:
            language = canonical_tag(language)
            if not Language.objects.filter(code=language).exists():
                raise ApplicationError(_("Unknown language %(code)s.") % {"code": repr(language)})
        style = query.validated_data["style"]
        fit = selectors.rating_fit(
            language or None, style=style, ci=query.validated_data.get("ci"), origin=query.validated_data["origin"]
        )
        body = {
            "ratings": selectors.with_lineage(fit.rows),
            "votes_needed": fit.votes_needed,
            **selectors.freshness(fit),
        }
        if style == selectors.CONTROL:
            body["style"] = fit.style
        return Reply(ArenaLeaderboardSerializer(body).data)


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
