from celery import shared_task


@shared_task(name="workers.tasks.operations.run_campaign_operation", ignore_result=True)
def run_campaign_operation(job_id: int) -> None:
    from webapp.feedback.services.operations import operation_run

    operation_run(job_id)
