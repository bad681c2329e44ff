"""JSON columns for multilingual text.

Django's JSONField encodes with `json.dumps` defaults, which escape every non-ASCII character as
`\\uXXXX`. For Arabic or Chinese text that multiplies the size of each value, and on PostgreSQL
psycopg then escapes each backslash again when bulk_create sends the rows as arrays: three quarters
of an import's time went there (bench/store.py). Writing UTF-8 as it is avoids both."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class UnicodeJSONEncoder(DjangoJSONEncoder):
    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class TextJSONField(models.JSONField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("encoder", UnicodeJSONEncoder)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("encoder") is UnicodeJSONEncoder:
            del kwargs["encoder"]
        return name, path, args, kwargs
