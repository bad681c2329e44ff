"""The Celery app, configured from Django settings (CELERY_* names), with the three queues
(`default`, `index`, `gpu`; docs/architecture.md) and the beat schedule of the sweeps.

It lives in the core layer because web processes send tasks too (by name, after commit: see
`send_task`); the tasks themselves live in `workers.tasks`, which the worker loads through `include`."""

import os

from celery import Celery
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


def send_task(name: str, *, args: list, queue: str) -> None:
    """Publish a task by name; web code never imports `workers` (it is the top layer)."""
    app.send_task(name, args=args, queue=queue)
