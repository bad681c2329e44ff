"""Drops `Response.variant`: the link now lives in `modelstore.ResponseOrigin`, filled by
`modelstore/0002` before this runs."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_task_gold_position"),
        ("modelstore", "0002_responseorigin"),
    ]

    operations = [
        migrations.RemoveField(model_name="response", name="variant"),
    ]
