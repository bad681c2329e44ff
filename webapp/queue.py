"""The Celery app, configured from Django settings (CELERY_* names), with the five queues
(`default`, `index`, `gpu`, `sweep`, `webhooks`; docs/operations.md) and the beat schedule of the sweeps.

It lives in the core layer because web processes send tasks too (by name, after commit: see
`send_task`); the tasks themselves live in `workers.tasks`, which the worker loads through `include`."""

import logging
import os

from celery import Celery
from kombu import Queue
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("polyglot")
app.config_from_object("django.conf:settings", namespace="CELERY")


# `sweep` has a worker slot of its own (webapp/embedded.py), so recovery never waits behind long work.
# `webhooks` too: a slow receiver (up to WEBHOOK_TIMEOUT_SECONDS per attempt) never holds up other work.
app.conf.task_queues = [Queue("default"), Queue("index"), Queue("gpu"), Queue("sweep"), Queue("webhooks")]
app.conf.include = [
    "workers.tasks.jobs",
    "workers.tasks.transfers",
    "workers.tasks.operations",
    "workers.tasks.models",
    "workers.tasks.training",
    "workers.tasks.indexing",
    "workers.tasks.arena",
    "workers.tasks.judging",  # sent to each job's own queue: its judge's (webapp/judging/models.py)
    "workers.tasks.webhooks",
    "workers.tasks.review",
    "workers.tasks.contributions",
]
app.conf.task_routes = {
    "workers.tasks.transfers.*": {"queue": "default"},
    "workers.tasks.operations.*": {"queue": "default"},
    "workers.tasks.jobs.*": {"queue": "sweep"},
    "workers.tasks.arena.*": {"queue": "sweep"},
    "workers.tasks.review.*": {"queue": "sweep"},
    "workers.tasks.contributions.*": {"queue": "sweep"},
    "workers.tasks.indexing.*": {"queue": "index"},
    "workers.tasks.models.*": {"queue": "gpu"},
    "workers.tasks.training.*": {"queue": "gpu"},
    "workers.tasks.webhooks.*": {"queue": "webhooks"},
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
    # Arena prompts that translate one another are grouped for the prompt cap (webapp/arena/duplicates.py).
    sender.add_periodic_task(
        float(settings.ARENA_DUPLICATE_SECONDS),
        sender.signature("workers.tasks.arena.group_prompts", queue="index"),
        name="group arena prompts across languages",
    )
    # The review summary catches up the rows a read leaves to it (webapp/feedback/quality/fold.py).
    sender.add_periodic_task(
        float(settings.REVIEW_FOLD_SECONDS), sender.signature("workers.tasks.review.fold_review"), name="fold review"
    )
    # The contributor tallies catch up the markers a read leaves to them (webapp/feedback/tallies.py).
    sender.add_periodic_task(
        float(settings.CONTRIBUTOR_FOLD_SECONDS),
        sender.signature("workers.tasks.contributions.fold_tallies"),
        name="fold contributor tallies",
    )
    # The arena's tallies catch up the markers a read leaves to them (webapp/arena/tallies.py).
    sender.add_periodic_task(
        float(settings.ARENA_FOLD_SECONDS), sender.signature("workers.tasks.arena.fold_arena"), name="fold arena"
    )
    # Translation checks whose message was lost (the broker down at commit) are sent again.
    sender.add_periodic_task(
        float(settings.JOB_SWEEP_SECONDS),
        sender.signature("workers.tasks.contributions.resend_translation_checks"),
        name="resend translation checks",
    )
    # Webhook deliveries whose message was lost (a countdown held by a worker that died) are sent again.
    sender.add_periodic_task(
        float(settings.WEBHOOK_SWEEP_SECONDS),
        sender.signature("workers.tasks.webhooks.sweep_deliveries", queue="webhooks"),
        name="sweep webhook deliveries",
    )


log = logging.getLogger(__name__)

# One quick retry, then give up: the caller's row is already committed and the sweep sends it again,
# so a request must never wait on (or fail with) a broker that is down.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def send_task(name: str, *, args: list, queue: str, countdown: float | None = None) -> bool:
    """Publish a task by name (to run `countdown` seconds from now, if given); web code never imports
    `workers` (it is the top layer). Returns False, logging why, when the broker cannot be reached: the
    job row stays the truth and the sweep sends it."""
    try:
        app.send_task(name, args=args, queue=queue, countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY)
    except (OperationalError, OSError) as exc:
        log.error("could not publish %s%s to queue %s: %s", name, args, queue, exc)
        return False
    return True
