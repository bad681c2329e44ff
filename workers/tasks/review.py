"""The review summary's fold on queue `sweep` (webapp/feedback/quality/fold.py does the work): what reads
leave to it (more than REVIEW_FOLD_ON_READ rows pending, after a large import), every
REVIEW_FOLD_SECONDS and after an import. One batch of REVIEW_FOLD_BATCH rows per run, then it queues
itself again while rows are pending, so the `sweep` slot is never held for long."""

from celery import shared_task


@shared_task(name="workers.tasks.review.fold_review", ignore_result=True)
def fold_review() -> int:
    from webapp.feedback.quality.fold import review_fold, review_pending, review_state
    from webapp.queue import send_task

    tasks = review_fold()["tasks"]
    if review_pending(review_state(), 1):
        send_task("workers.tasks.review.fold_review", args=[], queue="sweep")
    return tasks
