"""Incremental indexing after commit: saved prompts and responses are collected per transaction and
sent to the `index` queue in batches once it commits (nothing is sent for a rolled-back one).

Writes that send no signals (bulk imports, soft deletes through `.update()`) are caught by the
periodic sync (services.index_sync); deleted texts are also filtered out at query time."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save

from webapp.queue import send_task

BATCH = 256


class _Batch:
    def __init__(self):
        self.items: list[tuple[str, int]] = []

    def send(self) -> None:
        items = list(dict.fromkeys(self.items))
        for start in range(0, len(items), BATCH):
            send_task("workers.tasks.indexing.index_texts", args=[items[start : start + BATCH]], queue="index")


_pending: dict[int, _Batch] = {}


def _collect(item: tuple[str, int]) -> None:
    """Add to the batch of this connection's open transaction, or start one when the last was sent
    or rolled back (its on_commit hook is then no longer registered). Outside a transaction the
    hook runs at once. `robust`: a broker outage must not fail the write that already committed."""
    conn = transaction.get_connection()
    batch = _pending.get(id(conn))
    if batch is not None and conn.in_atomic_block and batch.send in {entry[1] for entry in conn.run_on_commit}:
        batch.items.append(item)
        return
    batch = _pending[id(conn)] = _Batch()
    batch.items.append(item)
    transaction.on_commit(batch.send, robust=True)


def _text_saved(kind: str):
    def handler(sender, instance, **kwargs):
        if settings.SEARCH_INDEX_ON_SAVE:
            _collect((kind, instance.pk))

    return handler


_on_prompt = _text_saved("prompt")
_on_response = _text_saved("response")


def connect() -> None:
    post_save.connect(_on_prompt, sender="feedback.Prompt", dispatch_uid="retrieval-prompt-saved")
    post_save.connect(_on_response, sender="feedback.Response", dispatch_uid="retrieval-response-saved")
