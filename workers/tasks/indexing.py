"""Embedding and indexing on queue `index` (webapp/retrieval/services.py does the work)."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="workers.tasks.indexing.index_texts", ignore_result=True)
def index_texts(items: list) -> dict:
    """A batch of (kind, id) saved after a commit."""
    from webapp.retrieval.services import index_texts as run

    return run(items=[(kind, int(pk)) for kind, pk in items])


@shared_task(name="workers.tasks.indexing.forget_vectors", ignore_result=True)
def forget_vectors(vector_ids: list) -> dict:
    from webapp.retrieval.services import index_forget

    return index_forget(vector_ids=[int(i) for i in vector_ids])


@shared_task(name="workers.tasks.indexing.sync_index", bind=True, ignore_result=True)
def sync_index(self) -> dict:
    """One chunk of the sync; the rest goes to the back of the `index` queue."""
    from django.conf import settings

    from webapp.retrieval.services import index_sync

    result = index_sync(limit=settings.SEARCH_SYNC_CHUNK)
    if result["remaining"]:
        self.apply_async(queue="index")
    return result


@shared_task(name="workers.tasks.indexing.run_index_build", ignore_result=True)
def run_index_build(job_id: int) -> None:
    from webapp.retrieval.services import index_build_run

    index_build_run(job_id)


@shared_task(name="workers.tasks.indexing.check_translation", ignore_result=True)
def check_translation(contribution_id: int) -> dict:
    """The similarity check of one translate contribution (webapp/retrieval/translation.py)."""
    from webapp.retrieval.translation import translation_check_run

    return translation_check_run(contribution_id=int(contribution_id))


@worker_ready.connect
def _sync_on_start(sender, **kwargs):
    """After a crash the index is reconciled with the stored vectors before anything else (only by
    workers that consume the `index` queue)."""
    consumer = getattr(sender, "task_consumer", None)
    if consumer is not None and any(queue.name == "index" for queue in consumer.queues):
        sender.app.send_task("workers.tasks.indexing.sync_index", queue="index")
