from celery import shared_task


@shared_task(name="workers.tasks.training.run_training_job", ignore_result=True)
def run_training_job(job_id: int) -> None:
    from webapp.training.services import training_run

    training_run(job_id)
