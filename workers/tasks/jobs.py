from celery import shared_task


@shared_task(name="workers.tasks.jobs.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict:
    from webapp.jobs.services import jobs_sweep

    return jobs_sweep()
