"""Running a ModelJob on a gpu worker (called by the Celery task)."""

from webapp.jobs.services import job_running
from webapp.modelstore.generation import generation_run
from webapp.modelstore.models import ModelJob, ModelJobKind
from webapp.modelstore.services import base_install


def model_job_run(job_id: int) -> None:
    with job_running(ModelJob, job_id) as run:
        if run is None:
            return
        job = run.job()
        if job.kind == ModelJobKind.INSTALL:
            variant, installed = base_install(source=job.params.get("source") or None)
            run.save(result={"variant": variant.name, "installed": installed})
        else:
            generation_run(run, job)
