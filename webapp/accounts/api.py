from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from webapp.accounts.services import token_issue


class TokenIssueView(ObtainAuthToken):
    """POST /api/v1/auth/token/ with a username and password: a new API token, which replaces the
    user's old one. Too many wrong passwords for one user from one address: 429 with Retry-After
    (django-axes, webapp/accounts/lockout.py)."""

    # The credentials are in the body; an old (perhaps expired) token in a header must not stop the request.
    authentication_classes = ()

    def get_serializer_context(self) -> dict:
        # axes marks the Django request (not DRF's wrapper) as locked out; its middleware answers 429.
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        operation_id="v1_auth_token_create",
        request=AuthTokenSerializer,
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many wrong passwords: try again after Retry-After seconds."),
        },
    )
    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"token": token_issue(user=serializer.validated_data["user"]).key})
