"""Markers for the review summary (quality/fold.py): a task whose figures changed although no annotation
or skip row was inserted, or a preference record deleted or restored. Insert-only, so a writer never waits
on the fold or on another writer. Kept apart from the fold so services can mark without importing the
statistics."""

from collections.abc import Iterable

from django.db.models.signals import post_delete

from webapp.feedback.models import Annotation, PreferenceRecord, ReviewDirty, Skip
from webapp.feedback.signals import records_changed


def review_mark(task_ids: Iterable[int]) -> None:
    """Insert one marker per task (soft delete, gold change, move to another campaign)."""
    ReviewDirty.objects.bulk_create([ReviewDirty(task_id=pk) for pk in dict.fromkeys(task_ids)], batch_size=2000)


def review_mark_campaign(campaign_id: int) -> None:
    """A campaign marked deleted: the review leaves its sums out at once; this marker has the fold
    recompute the consistency of the translation groups it shared with other campaigns."""
    ReviewDirty.objects.create(campaign_id=campaign_id)


def review_mark_records(record_ids: Iterable[int]) -> None:
    """Insert one marker per preference record soft-deleted or restored (the home page counts alive ones), and
    tell the layers above (signals.records_changed)."""
    ids = list(dict.fromkeys(record_ids))
    ReviewDirty.objects.bulk_create([ReviewDirty(record_id=pk) for pk in ids], batch_size=2000)
    if ids:
        records_changed.send(sender=PreferenceRecord, record_ids=ids)


def _record_deleted(sender, instance, **kwargs) -> None:
    ReviewDirty.objects.create(record_id=instance.pk)


def _row_deleted(sender, instance, **kwargs) -> None:
    """A deleted annotation or skip (one by one, or a task's rows in a cascade) changes its task."""
    ReviewDirty.objects.create(task_id=instance.task_id)


def connect() -> None:
    post_delete.connect(_row_deleted, sender=Annotation, dispatch_uid="review_annotation_deleted")
    post_delete.connect(_row_deleted, sender=Skip, dispatch_uid="review_skip_deleted")
    post_delete.connect(_record_deleted, sender=PreferenceRecord, dispatch_uid="review_record_deleted")
