"""Serializer and filter fields shared by every app's API."""

from typing import Any

from django_filters import rest_framework as filters
from rest_framework import serializers

# Ids are 64-bit. Django turns an out-of-range id in a plain `pk=` lookup into "no such row", but not in foreign-key
# or `__in` lookups, where the database driver fails (SQLite: OverflowError) and the request would end in a 500.
MAX_ID = 2**63 - 1


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def id_filter(field_name: str, **kwargs: Any) -> filters.NumberFilter:
    return filters.NumberFilter(field_name=field_name, min_value=1, max_value=MAX_ID, **kwargs)


def content_field(**kwargs: Any) -> serializers.JSONField:
    return serializers.JSONField(help_text="A string, or a list of {role, content} chat messages", **kwargs)
