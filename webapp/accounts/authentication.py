from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from webapp.accounts.services import token_is_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused with 401 once the token is older than API_TOKEN_TTL_DAYS."""

    def authenticate_credentials(self, key: str) -> tuple:
        user, token = super().authenticate_credentials(key)
        assert isinstance(token, Token)
        if token_is_expired(token=token):
            raise AuthenticationFailed(_("This API token has expired. Ask for a new one: POST /api/v1/auth/token/."))
        return user, token
