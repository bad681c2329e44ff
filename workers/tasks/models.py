from celery import shared_task


@shared_task(name="workers.tasks.models.run_model_job", ignore_result=True)
def run_model_job(job_id: int) -> None:
    from webapp.modelstore.jobs import model_job_run

    model_job_run(job_id)
