from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from webapp.accounts.services import token_is_expired
from webapp.permissions import REVIEWER_FLAG, reviewer_flag
from webapp.prepared import PreparedQuery


def _token_query(shape: tuple, *, key: str) -> QuerySet:
    return Token.objects.select_related("user").annotate(reviewer=reviewer_flag()).filter(key=key)


_TOKEN = PreparedQuery(_token_query)  # every API request asks: compiled once


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused with 401 once the token is older than API_TOKEN_TTL_DAYS. One query:
    the token, its user and the user's reviewer flag (webapp.permissions.is_reviewer reads it from the user)."""

    def authenticate_credentials(self, key: str) -> tuple:
        token = _TOKEN.first(key=key)
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if token_is_expired(token=token):
            raise AuthenticationFailed(_("This API token has expired. Ask for a new one: POST /api/v1/auth/token/."))
        setattr(token.user, REVIEWER_FLAG, token.reviewer)
        return token.user, token
