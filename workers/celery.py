"""Worker-side hooks of the Celery app (`webapp.queue.app`): a sweep when a worker starts, and fresh
database connections around each task. `celery -A workers worker` finds `app` here."""

from celery.signals import task_postrun, task_prerun, worker_ready

from webapp.queue import app

__all__ = ["app"]


@worker_ready.connect
def _sweep_on_start(sender, **kwargs):
    """A worker that starts after a crash picks up what the crash left behind."""
    sender.app.send_task("workers.tasks.jobs.sweep_jobs", queue="sweep")


@task_prerun.connect
@task_postrun.connect
def _fresh_connections(**kwargs):
    """Like Django's request cycle: drop broken or expired database connections around each task."""
    from django.db import close_old_connections

    close_old_connections()
