"""Contribution tasks' sweeps on queue `sweep` (webapp/feedback/services/contributing.py and
webapp/feedback/tallies.py do the work): the similarity checks of translations whose message was lost are sent
again, every JOB_SWEEP_SECONDS; the contributor tallies fold what reads leave to them, every
CONTRIBUTOR_FOLD_SECONDS, one batch of CONTRIBUTOR_FOLD_BATCH markers per run, queueing itself again while
markers are pending."""

from celery import shared_task


@shared_task(name="workers.tasks.contributions.resend_translation_checks", ignore_result=True)
def resend_translation_checks() -> int:
    from webapp.feedback.services.contributing import translation_checks_resend

    return translation_checks_resend()


@shared_task(name="workers.tasks.contributions.fold_tallies", ignore_result=True)
def fold_tallies() -> int:
    from webapp.feedback.tallies import tally_fold, tally_pending
    from webapp.queue import send_task

    keys = tally_fold()
    if tally_pending(1):
        send_task("workers.tasks.contributions.fold_tallies", args=[], queue="sweep")
    return keys
