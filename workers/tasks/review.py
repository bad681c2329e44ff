"""The review summary's periodic fold on queue `sweep` (webapp/feedback/quality/fold.py does the work):
it catches up what reads leave to it (more than REVIEW_FOLD_ON_READ rows pending, after a large import)."""

from celery import shared_task


@shared_task(name="workers.tasks.review.fold_review", ignore_result=True)
def fold_review() -> int:
    from webapp.feedback.quality.fold import review_catch_up

    return review_catch_up()
