from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("training", "0002_kind_from_trainers")]

    operations = [
        migrations.AddField(
            model_name="trainingjob", name="system_prompt", field=models.TextField(blank=True, null=True)
        ),
    ]
