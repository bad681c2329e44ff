"""What the feedback API's views share: role-scoped querysets, the text-edit input, and input helpers."""

from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.apifields import JSONInput
from webapp.errors import ApplicationError
from webapp.feedback.content import MAX_CHARS, ROLES


class RoleScoped:
    """Lists and details show what the user's role may see (`selector`, from selectors.py); the schema
    generator, which has no user, gets an empty queryset of the right `model`."""

    model: type[Model] | None = None
    selector = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return type(self).selector(self.request.user).order_by("id")


# What content.validate_content accepts (blank or invisible-only text is refused there too).
CONTENT_SCHEMA = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": MAX_CHARS},
        {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": sorted(ROLES)},
                    "content": {"type": "string", "minLength": 1, "maxLength": MAX_CHARS},
                },
                "required": ["role", "content"],
            },
        },
    ]
}


@extend_schema_field(CONTENT_SCHEMA)
class ContentField(serializers.JSONField):
    """A text: a string, or a list of {role, content} chat messages (TRL's conversational form)."""


def content_field(**kwargs: Any) -> serializers.JSONField:
    return ContentField(help_text="A string, or a list of {role, content} chat messages", **kwargs)


# The PATCH body of a prompt and of a response: one class, so one component (PatchedTextEditInputRequest).
class TextEditInput(JSONInput):
    content = content_field()


def validated(serializer_class: type[serializers.Serializer], data: Any, *, partial: bool = False) -> dict:
    """The validated data, or a 400 with the serializer's errors (`partial`: a PATCH, whose fields are optional)."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def url_pk(value: Any) -> int:
    """The id in the URL as a number (routes accept any text there)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApplicationError(_("The id in the URL must be a number.")) from None


def existing(queryset: QuerySet, pk: int, name: str) -> Model:
    """The row a request body refers to, or a 400 naming it."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        # Translators: field is the request body's field (campaign, prompt), id the number given for it.
        raise ApplicationError(_("No such %(field)s: %(id)s") % {"field": name, "id": pk})
    return obj
