"""One source taxonomy (webapp/feedback/sources.py): every ranking gets a `source` and an `origin`, and
preference records get an origin for every source.

Existing rows are moved in batches, each in its own transaction, so a large store is never locked for
long:
* rankings by imported accounts (`import:NAME`, made by import_feedback with an external profile)
  become source `import`, origin `rankings`; every other ranking stays `annotation`;
* imported preference records that named no source get origin `pairs` (those added through the API,
  which have an annotator, `api`); arena votes get origin `local`.
Reversible: the way back drops the ranking columns and clears the origins this step set."""

from django.db import migrations, models, transaction
from django.db.models import Q

BATCH = 10_000
CHOICES = [
    ("annotation", "annotation"),
    ("import", "import"),
    ("judge", "judge"),
    ("arena", "arena"),
    ("write", "write"),
    ("edit", "edit"),
    ("translate", "translate"),
    ("verify", "verify"),
]


def _in_batches(rows, **values) -> None:
    """Set `values` on the rows of the queryset `rows`, BATCH at a time, one transaction per batch; the
    queryset must stop matching a row once it is updated."""
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                return
            rows.model.objects.filter(pk__in=ids).update(**values)


def forwards(apps, schema_editor):
    Annotation = apps.get_model("feedback", "Annotation")
    PreferenceRecord = apps.get_model("feedback", "PreferenceRecord")
    imported = Q(annotator__username__startswith="import:") | Q(annotator__profile__is_external=True)
    _in_batches(Annotation.objects.filter(imported, source="annotation"), source="import", origin="rankings")
    records = PreferenceRecord.objects.filter(origin="")
    _in_batches(records.filter(source="import", annotator__isnull=True), origin="pairs")
    _in_batches(records.filter(source="import", annotator__isnull=False), origin="api")
    _in_batches(records.filter(source="arena"), origin="local")


def backwards(apps, schema_editor):
    PreferenceRecord = apps.get_model("feedback", "PreferenceRecord")
    _in_batches(PreferenceRecord.objects.filter(source="import", origin__in=("pairs", "api")), origin="")
    _in_batches(PreferenceRecord.objects.filter(source="arena", origin="local"), origin="")


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch (see _in_batches)

    dependencies = [
        ("feedback", "0007_task_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="source",
            field=models.CharField(choices=CHOICES, default="annotation", max_length=20),
        ),
        migrations.AddField(
            model_name="annotation",
            name="origin",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="preferencerecord",
            name="origin",
            field=models.CharField(
                blank=True,
                help_text="import: the 'source' an imported line named, else pairs (or api); arena: local",
                max_length=200,
            ),
        ),
        migrations.AlterField(
            model_name="preferencerecord",
            name="source",
            field=models.CharField(choices=CHOICES, default="import", max_length=20),
        ),
        migrations.RunPython(forwards, backwards),
    ]
