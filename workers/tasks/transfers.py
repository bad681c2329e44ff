from celery import shared_task


@shared_task(name="workers.tasks.transfers.run_transfer", ignore_result=True)
def run_transfer(job_id: int) -> None:
    from webapp.feedback.services.transfers import transfer_run

    transfer_run(job_id)
