"""Contribution tasks' sweep on queue `sweep` (webapp/feedback/services/contributing.py does the work): the
similarity checks of translations whose message was lost are sent again, every JOB_SWEEP_SECONDS."""

from celery import shared_task


@shared_task(name="workers.tasks.contributions.resend_translation_checks", ignore_result=True)
def resend_translation_checks() -> int:
    from webapp.feedback.services.contributing import translation_checks_resend

    return translation_checks_resend()
