"""Each variant carries the system prompt it is trained and served with (ml/llm/chat.py).

Base variants installed before get the default of the setting at the time of writing ("You are a
helpful assistant."): a base model was never trained here, so only its serving changes. Trained and
merged variants keep null, the chat template's own default, which is what they were trained with.
Reversible (the reverse drops the column)."""

from django.db import migrations, models

DEFAULT = "You are a helpful assistant."


def bases_get_the_default(apps, schema_editor):
    apps.get_model("modelstore", "ModelVariant").objects.filter(kind="base").update(system_prompt=DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("modelstore", "0002_responseorigin")]

    operations = [
        migrations.AddField(
            model_name="modelvariant", name="system_prompt", field=models.TextField(blank=True, null=True)
        ),
        migrations.RunPython(bases_get_the_default, migrations.RunPython.noop),
    ]
