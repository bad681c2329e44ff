"""Serializer and filter fields shared by every app's API."""

import copy
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import ChoiceField
from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound

from webapp.errors import ApplicationError

# Ids are 64-bit. Django turns an out-of-range id in a plain `pk=` lookup into "no such row", but not in foreign-key
# or `__in` lookups, where the database driver fails (SQLite: OverflowError) and the request would end in a 500.
MAX_ID = 2**63 - 1
# An id in the OpenAPI schema (a parameter or a field written by hand).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class ModelFieldsOnce(serializers.ModelSerializer):
    """An output ModelSerializer whose fields are built from its model once per class, then copied for each instance:
    building them (the model field mapping, each field's kwargs and validators) and deep-copying them, as DRF does for
    every instance, was about a fifth of an annotation cycle's CPU. For serializers whose fields depend on their class
    only (no `get_fields` or Meta that reads the instance, context or request)."""

    _built_fields: dict[type, dict[str, serializers.Field]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        built = self._built_fields.get(type(self))
        if built is None:
            built = self._built_fields[type(self)] = super().get_fields()  # unbound: binding happens on the copy
        return {name: _field_copy(field) for name, field in built.items()}


def _field_copy(field: serializers.Field) -> serializers.Field:
    """A field holding other fields (a nested serializer, a list's child) is copied whole, as DRF copies it; a leaf
    field's state is its arguments and what binding sets on it, so a shallow copy binds apart from the original."""
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    return copy.copy(field)


class JSONInput(serializers.Serializer):
    """The base of every input serializer of a JSON body: each value must have its field's JSON type, as the schema
    says (a string for a text, a whole number for an integer, a number for a float, true or false for a yes/no).
    DRF alone coerces (`0` becomes the text "0", `"5"` and `5.0` the integer 5, `1` and `"yes"` true), which form
    data needs and JSON does not; a form body (a QueryDict, still parsed though the schema documents JSON only) is
    left to that coercion. The messages are DRF's own."""

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, Any] = {}
        if isinstance(data, Mapping) and not hasattr(data, "getlist"):
            for name, field in self.fields.items():
                if not field.read_only and name in data:
                    error = json_type_error(field, data[name])
                    if error is not None:
                        errors[name] = error
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:  # every invalid field at once, as DRF reports them
            if errors and isinstance(exc.detail, dict):
                merged: dict[Any, Any] = {**exc.detail, **errors}
                raise serializers.ValidationError(merged) from None
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


def json_type_error(field: serializers.Field, value: Any) -> Any:
    """DRF's error detail for a JSON value of the wrong type for `field` (None when it fits, or is null: whether
    null is allowed is the field's own check)."""
    if value is None:
        return None
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        items = {i: error for i, item in enumerate(value) if (error := json_type_error(field.child, item)) is not None}
        return items or None
    checks: list[tuple[type, type | tuple[type, ...]]] = [
        (serializers.BooleanField, bool),
        (serializers.CharField, str),
        (serializers.IntegerField, int),
        (serializers.FloatField, (int, float)),
    ]
    for kind, json_type in checks:
        if isinstance(field, kind):
            fits = isinstance(value, json_type) and (kind is serializers.BooleanField or not isinstance(value, bool))
            return None if fits else [str(field.error_messages["invalid"])]
    return None


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class _IdField(forms.IntegerField):
    def to_python(self, value: Any) -> int | None:
        if value == "":  # `?task=` is no id, not "no filter"
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field(ID_SCHEMA)
class IdFilter(filters.NumberFilter):
    """An id in the query: a whole number in 1..MAX_ID (a plain NumberFilter takes decimals, and its schema said
    `number` with no bounds, so valid-looking values such as 0 or 1.5 were refused or rounded); an empty value is
    refused too. Django's messages."""

    field_class = _IdField


def id_filter(field_name: str, **kwargs: Any) -> filters.NumberFilter:
    return IdFilter(field_name=field_name, min_value=1, max_value=MAX_ID, **kwargs)


class _StrictChoiceField(ChoiceField):
    def clean(self, value: Any) -> Any:
        if value == "":  # `?status=` is no choice, not "no filter"
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return super().clean(value)


class StrictChoiceFilter(filters.ChoiceFilter):
    """One of the choices in the query, or none; an empty value is refused with a 400 (django-filter reads it as
    no filter, which the schema's enum does not allow). Django's message."""

    field_class = _StrictChoiceField


class _StrictBooleanField(forms.Field):
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value is None:  # not in the query: no filter
            return None
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:  # DRF's message, translated in its catalogue
            raise ValidationError(str(serializers.BooleanField.default_error_messages["invalid"])) from None


class StrictBooleanFilter(filters.BooleanFilter):
    """A yes/no filter (true/false, 1/0) that refuses anything else, an empty value too, with a 400 instead of
    ignoring it."""

    field_class = _StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput)  # django-filter's BooleanWidget would map the unknown to None
        super().__init__(*args, **kwargs)


class IdCursorPagination(pagination.CursorPagination):
    """The long lists (annotations, tasks, preference records: up to millions of rows): pages walk the primary
    key from a cursor (`next` and `previous` links), so a page costs the same at row 10 and at row 1,000,000:
    no COUNT over the table, no OFFSET. Oldest first."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ApplicationError(
                _("page_size must be a whole number from 1 to %(max)s") % {"max": self.max_page_size},
                extra={"field": "page_size"},
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = "The `next` or `previous` link's cursor (opaque); none: the first page."
        return parameters

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ApplicationError(
                _("cursor is not one this list gave; follow its next or previous link"), extra={"field": "cursor"}
            ) from None


class Pagination(pagination.PageNumberPagination):
    """Every list's pages (settings: DEFAULT_PAGINATION_CLASS). An empty `page=` is not page 1 but an invalid page
    (404), like `page=0` or `page=x`."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        number = request.query_params.get(self.page_query_param)
        if number is None:
            return 1
        if number in self.last_page_strings:
            return paginator.num_pages
        return number
