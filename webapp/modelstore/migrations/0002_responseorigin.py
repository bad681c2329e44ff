"""Which variant generated a response moves from `feedback.Response.variant` to this app
(`ResponseOrigin`), so that every dependency between the apps points down (docs/architecture.md).

The copy runs in batches, each in its own transaction, so that a store of a million responses is
never locked for long; `feedback/0006` drops the old column only after this has run. Reversible."""

from django.db import migrations, models, transaction

BATCH = 10_000


def _in_batches(rows, write) -> None:
    """Call `write` on (pk, variant id) rows of `rows()` (ordered by pk, from a pk onwards), one batch per
    transaction, until none are left."""
    last = 0
    while True:
        with transaction.atomic():
            batch = list(rows(last)[:BATCH])
            if not batch:
                return
            write(batch)
        last = batch[-1][0]


def copy_links(apps, schema_editor):
    Response = apps.get_model("feedback", "Response")
    ResponseOrigin = apps.get_model("modelstore", "ResponseOrigin")
    _in_batches(
        lambda last: (
            Response.objects.filter(pk__gt=last, variant__isnull=False).order_by("pk").values_list("pk", "variant_id")
        ),
        lambda batch: ResponseOrigin.objects.bulk_create(
            [ResponseOrigin(response_id=pk, variant_id=variant) for pk, variant in batch], ignore_conflicts=True
        ),
    )


def copy_links_back(apps, schema_editor):
    Response = apps.get_model("feedback", "Response")
    ResponseOrigin = apps.get_model("modelstore", "ResponseOrigin")
    _in_batches(
        lambda last: ResponseOrigin.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "variant_id"),
        lambda batch: Response.objects.bulk_update(
            [Response(pk=pk, variant_id=variant) for pk, variant in batch], ["variant"]
        ),
    )


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch (see copy_links)

    dependencies = [
        ("feedback", "0005_task_gold_position"),
        ("modelstore", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResponseOrigin",
            fields=[
                (
                    "response",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="origin",
                        serialize=False,
                        to="feedback.response",
                    ),
                ),
                (
                    "variant",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE, related_name="responses", to="modelstore.modelvariant"
                    ),
                ),
            ],
        ),
        migrations.RunPython(copy_links, copy_links_back, elidable=True),
    ]
