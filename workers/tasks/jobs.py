"""Job recovery on queue `sweep` (webapp/jobs/services.py does the work)."""

from celery import shared_task


@shared_task(name="workers.tasks.jobs.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict:
    from webapp.jobs.services import idempotency_keys_purge, jobs_sweep

    return {**jobs_sweep(), "idempotency_keys_purged": idempotency_keys_purge()}
