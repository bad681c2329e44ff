"""API tokens (DRF's `Token`, one per user): issuing one replaces the user's old token, and a token
older than API_TOKEN_TTL_DAYS (0: never) is refused."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """A new token for `user`; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_expires_at(*, token: Token) -> datetime | None:
    if not settings.API_TOKEN_TTL_DAYS:
        return None
    return token.created + timedelta(days=settings.API_TOKEN_TTL_DAYS)


def token_is_expired(*, token: Token) -> bool:
    expires = token_expires_at(token=token)
    return expires is not None and expires <= timezone.now()
