from celery import shared_task


@shared_task(name="workers.tasks.judging.run_judge_job", ignore_result=True)
def run_judge_job(job_id: int) -> None:
    from webapp.judging.services import judge_job_run

    judge_job_run(job_id)
