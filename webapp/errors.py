"""One error family with a user-facing message, and the DRF handler that turns it into a 4xx."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request that cannot be done as asked; `message` tells the user what to fix. Raise it with a
    message already translated (`gettext` at raise time: the request's language is active then) and named
    placeholders, e.g. `NotFound(_("No such task: %(id)s") % {"id": pk})`."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, extra: dict | None = None):
        message = str(message)  # a lazy translation is resolved now, in the language active at raise time
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = DRFValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or _("You do not have permission to do this.")}, status=403)
    return exception_handler(exc, context)
