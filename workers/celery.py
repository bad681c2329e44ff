"""The Celery app, configured from Django settings (CELERY_* names), with the three queues of
DESIGN.md and the beat schedule of the sweeps."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("polyglot")
app.config_from_object("django.conf:settings", namespace="CELERY")


app.conf.task_queues = [Queue("default"), Queue("index"), Queue("gpu")]
app.conf.include = [
    "workers.tasks.jobs",
    "workers.tasks.transfers",
    "workers.tasks.models",
    "workers.tasks.training",
    "workers.tasks.indexing",
    "workers.tasks.arena",
]
app.conf.task_routes = {
    "workers.tasks.transfers.*": {"queue": "default"},
    "workers.tasks.jobs.*": {"queue": "default"},
    "workers.tasks.arena.*": {"queue": "default"},
    "workers.tasks.indexing.*": {"queue": "index"},
    "workers.tasks.models.*": {"queue": "gpu"},
    "workers.tasks.training.*": {"queue": "gpu"},
}


@app.on_after_finalize.connect
def _schedule_sweep(sender, **kwargs):
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.JOB_SWEEP_SECONDS), sender.signature("workers.tasks.jobs.sweep_jobs"), name="sweep jobs"
    )
    # Texts written without signals (bulk imports, soft deletes) reach the search index here.
    sender.add_periodic_task(
        float(settings.SEARCH_SYNC_SECONDS),
        sender.signature("workers.tasks.indexing.sync_index", queue="index"),
        name="sync search index",
    )
    # Arena battles whose web process died while generating (a visitor who leaves is marked at once).
    sender.add_periodic_task(
        float(settings.JOB_SWEEP_SECONDS), sender.signature("workers.tasks.arena.sweep_battles"), name="sweep battles"
    )


@worker_ready.connect
def _sweep_on_start(sender, **kwargs):
    """A worker that starts after a crash picks up what the crash left behind."""
    sender.app.send_task("workers.tasks.jobs.sweep_jobs", queue="default")


@task_prerun.connect
@task_postrun.connect
def _fresh_connections(**kwargs):
    """Like Django's request cycle: drop broken or expired database connections around each task."""
    from django.db import close_old_connections

    close_old_connections()
