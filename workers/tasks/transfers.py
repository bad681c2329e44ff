from celery import shared_task


@shared_task(name="workers.tasks.transfers.run_transfer", ignore_result=True)
def run_transfer(job_id: int) -> None:
    from webapp.feedback.services.transfers import transfer_run

    transfer_run(job_id)


@shared_task(name="workers.tasks.transfers.run_import_reports", ignore_result=True)
def run_import_reports(job_id: int, after: int, upto: int) -> None:
    from webapp.feedback.services.transfers import transfer_import_reports

    transfer_import_reports(job_id, after, upto)
