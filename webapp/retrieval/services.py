"""Writes of the search index: embedding texts into stored vectors, applying them to the FAISS file,
the periodic sync, full rebuilds with an atomic swap, and staff decisions on translation links.

Order of truth: texts (feedback) -> stored vectors (`Embedding`, with checksums) -> the FAISS file.
Every change to a FAISS file happens under the model's folder lock, reading what to apply from the
database, so an incremental batch, a sync and a rebuild's final catch-up never lose each other's
work. A vector is marked `indexed` only after the file that holds it has been written."""

import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any, TypeVar

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ml.embedding import vectors
from ml.embedding.embedders import Embedder
from webapp.errors import ApplicationError, Conflict, NotFound
from webapp.feedback.models import Prompt, Response
from webapp.jobs.models import JobStatus
from webapp.jobs.services import JobRun, job_enqueue, job_running
from webapp.retrieval import indexfiles
from webapp.retrieval.embedding import current_embedder
from webapp.retrieval.models import (
    Embedding,
    IndexBuild,
    LinkDecision,
    SearchIndex,
    TextKind,
    TranslationLink,
    split_vector_id,
    vector_id,
)

log = logging.getLogger(__name__)
EMBED_BATCH = 256
READ_CHUNK = 2000

T = TypeVar("T")
# (pk, kind, object_id, vector bytes, checksum) of a stored vector
VectorRow = tuple[int, str, int, bytes | memoryview, str]


def alive_texts(kind: str) -> QuerySet[Prompt] | QuerySet[Response]:
    if kind == TextKind.PROMPT:
        return Prompt.objects.alive()
    return Response.objects.alive().filter(prompt__deleted_at__isnull=True)


# --- stored vectors ---------------------------------------------------------------------------
def embeddings_store(*, embedder: Embedder, kind: str, rows: list[tuple[int, str, str]]) -> int:
    """Embed (pk, text, content_hash) rows and upsert their vectors, not yet indexed."""
    if not rows:
        return 0
    matrix = embedder.encode([text for _, text, _ in rows])
    objs = []
    for (pk, _text, content_hash), vector in zip(rows, matrix, strict=True):
        data = vectors.vector_to_bytes(vector)
        objs.append(
            Embedding(
                model_key=embedder.key,
                kind=kind,
                object_id=pk,
                content_hash=content_hash,
                vector=data,
                checksum=vectors.checksum(data),
                indexed=False,
            )
        )
    Embedding.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["model_key", "kind", "object_id"],
        update_fields=["content_hash", "vector", "checksum", "indexed", "updated_at"],
    )
    return len(objs)


def _stale_texts(model_key: str, kind: str) -> QuerySet[Prompt] | QuerySet[Response]:
    """Alive texts without a vector of their current version under this model."""
    current = Embedding.objects.filter(
        model_key=model_key, kind=kind, object_id=OuterRef("pk"), content_hash=OuterRef("content_hash")
    )
    return alive_texts(kind).filter(~Exists(current)).order_by("pk")


def _dead_embeddings(model_key: str, kind: str) -> QuerySet[Embedding]:
    """Vectors whose text was deleted (soft or hard)."""
    alive = alive_texts(kind).filter(pk=OuterRef("object_id"))
    return Embedding.objects.filter(model_key=model_key, kind=kind).filter(~Exists(alive))


def index_texts(*, items: Iterable[tuple[str, int]]) -> dict:
    """An incremental batch (after commit): embed the given texts that need it, drop the vectors
    of those that are gone, and apply both to the index."""
    embedder = current_embedder()
    by_kind: dict[str, set[int]] = {TextKind.PROMPT: set(), TextKind.RESPONSE: set()}
    for kind, pk in items:
        if kind not in by_kind:
            raise ApplicationError(f"unknown text kind {kind!r}")
        by_kind[kind].add(int(pk))
    embedded, removed = 0, []
    for kind, pks in by_kind.items():
        if not pks:
            continue
        rows = list(_stale_texts(embedder.key, kind).filter(pk__in=pks).values_list("pk", "text", "content_hash"))
        for start in range(0, len(rows), EMBED_BATCH):
            embedded += embeddings_store(embedder=embedder, kind=kind, rows=rows[start : start + EMBED_BATCH])
        dead = _dead_embeddings(embedder.key, kind).filter(object_id__in=pks)
        removed += [vector_id(kind, pk) for pk in dead.values_list("object_id", flat=True)]
        dead.delete()
    applied = index_apply(embedder=embedder, remove=removed)
    return {"embedded": embedded, "removed": len(removed), **applied}


def index_forget(*, vector_ids: Iterable[int]) -> dict:
    """Drop vectors of texts found deleted at query time (their soft delete sent no signal)."""
    embedder = current_embedder()
    removed = []
    for kind in TextKind.values:
        pks = [pk for k, pk in map(split_vector_id, vector_ids) if k == kind]
        dead = _dead_embeddings(embedder.key, kind).filter(object_id__in=pks)
        removed += [vector_id(kind, pk) for pk in dead.values_list("object_id", flat=True)]
        dead.delete()
    return {"removed": len(removed), **index_apply(embedder=embedder, remove=removed)}


def index_sync(
    *, on_progress: Callable[[int, int], None] | None = None, apply: bool = True, limit: int | None = None
) -> dict:
    """Catch up with everything the signals missed: bulk-imported and edited texts get vectors,
    deleted ones lose theirs, and the FAISS file is reconciled with the stored vectors.

    With `limit`, at most that many texts are embedded and `remaining` says how many are left: the
    periodic task queues itself again for them, so other `index` work (and a cancel) gets its turn
    instead of waiting behind one task that embeds a whole bulk import. The full reconcile of the
    FAISS file waits for the last chunk; the chunks before it apply only what they embedded."""
    embedder = current_embedder()
    removed = []
    for kind in TextKind.values:
        dead = _dead_embeddings(embedder.key, kind)
        removed += [vector_id(kind, pk) for pk in dead.values_list("object_id", flat=True)]
        dead.delete()
    pending = {kind: _stale_texts(embedder.key, kind) for kind in TextKind.values}
    total = sum(qs.count() for qs in pending.values())
    done = 0
    for kind, texts in pending.items():
        rows = texts.values_list("pk", "text", "content_hash")
        if limit is not None:
            rows = rows[: max(limit - done, 0)]
        for chunk in _chunks(rows.iterator(chunk_size=READ_CHUNK)):
            done += embeddings_store(embedder=embedder, kind=kind, rows=chunk)
            if on_progress:
                on_progress(done, total)
    remaining = total - done
    applied = index_apply(embedder=embedder, remove=removed, full=not remaining) if apply else {}
    return {"embedded": done, "removed": len(removed), "remaining": remaining, **applied}


def _chunks(rows: Iterable[T], size: int = EMBED_BATCH) -> Iterator[list[T]]:
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the FAISS file ----------------------------------------------------------------------------
def _index_row(embedder: Embedder) -> SearchIndex:
    row, created = SearchIndex.objects.get_or_create(
        model_key=embedder.key,
        defaults={
            "model_name": embedder.name,
            "model_version": embedder.version,
            "dim": embedder.dim,
            "languages": list(embedder.languages) if embedder.languages is not None else None,
            "params": asdict(vectors.IndexParams("flat")),
            # A new row never adopts files an old database left behind.
            "folder": indexfiles.relative(indexfiles.model_root(embedder.key) / f"live-{secrets.token_hex(6)}"),
        },
    )
    return row


def _manifest(row: SearchIndex, loaded: vectors.Index, generation: int) -> vectors.Manifest:
    return vectors.Manifest(row.model_key, row.dim, int(loaded.ntotal), generation, row.params)


def index_apply(*, embedder: Embedder, remove: Iterable[int] = (), full: bool = False) -> dict:
    """Under the model's lock: apply the unindexed stored vectors (and removals) to the live index;
    with `full`, or when the file is missing or its manifest disagrees, reconcile every id."""
    with vectors.folder_lock(indexfiles.lock_path(embedder.key)):
        row = _index_row(embedder)
        loaded = indexfiles.load(row)
        folder = indexfiles.absolute(row)
        if loaded is None:
            loaded, full = vectors.empty_index(row.dim), True
        elif not vectors.is_consistent(folder, loaded):
            log.warning("index %s: manifest disagrees with the file; reconciling from stored vectors", folder)
            full = True
        changes = _catch_up(row.model_key, row.dim, loaded, set(remove), full=full)
        if changes["added"] or changes["removed"] or full or vectors.Manifest.read(folder) is None:
            generation = row.generation + 1
            indexfiles.store(row, loaded, _manifest(row, loaded, generation))
            SearchIndex.objects.filter(pk=row.pk).update(
                generation=generation, vector_count=loaded.ntotal, synced_at=timezone.now()
            )
            _mark_indexed(changes.pop("applied"))
        changes.pop("applied", None)
    _maybe_schedule_rebuild(row, int(loaded.ntotal))
    return changes


def _catch_up(model_key: str, dim: int, loaded: vectors.Index, remove: set[int], *, full: bool) -> dict[str, Any]:
    unindexed = Embedding.objects.filter(model_key=model_key, indexed=False)
    rows = list(unindexed.values_list("pk", "kind", "object_id", "vector", "checksum"))
    add_ids, add_vectors, applied = _verified(rows, dim)
    drop = remove | {vector_id(kind, object_id) for _, kind, object_id, _, _ in rows}
    if full:
        expected = {
            vector_id(kind, object_id)
            for kind, object_id in Embedding.objects.filter(model_key=model_key, indexed=True).values_list(
                "kind", "object_id"
            )
        }
        present = set(vectors.index_ids(loaded).tolist())
        drop |= present - expected
        missing = expected - present
        if missing:
            missing_rows = _rows_for(model_key, missing)
            ids, vecs, _bad = _verified(missing_rows, dim)
            add_ids, add_vectors = add_ids + ids, add_vectors + vecs
    removed = vectors.remove_ids(loaded, sorted(drop))
    if add_ids:
        vectors.add_vectors(loaded, np.stack(add_vectors), np.array(add_ids))
    return {"added": len(add_ids), "removed": removed, "applied": applied}


def _rows_for(model_key: str, ids: set[int]) -> list[VectorRow]:
    rows: list[VectorRow] = []
    for kind in TextKind.values:
        pks = [pk for k, pk in map(split_vector_id, ids) if k == kind]
        for start in range(0, len(pks), READ_CHUNK):
            rows += Embedding.objects.filter(
                model_key=model_key, kind=kind, object_id__in=pks[start : start + READ_CHUNK]
            ).values_list("pk", "kind", "object_id", "vector", "checksum")
    return rows


def _verified(rows: Iterable[VectorRow], dim: int) -> tuple[list[int], list[np.ndarray], list[tuple[int, str]]]:
    """Vectors whose checksum holds; a corrupt one is deleted, so the next sync embeds its text again."""
    ids, vecs, applied, corrupt = [], [], [], []
    for pk, kind, object_id, data, digest in rows:
        data = bytes(data)
        if vectors.checksum(data) != digest:
            corrupt.append(pk)
            continue
        ids.append(vector_id(kind, object_id))
        vecs.append(vectors.vector_from_bytes(data, dim))
        applied.append((pk, digest))
    if corrupt:
        log.error("%d stored vectors failed their checksum; deleted for re-embedding", len(corrupt))
        Embedding.objects.filter(pk__in=corrupt).delete()
    return ids, vecs, applied


def _mark_indexed(applied: list[tuple[int, str]]) -> None:
    """Only rows still holding the vector that was written: one re-embedded meanwhile stays unindexed."""
    for start in range(0, len(applied), READ_CHUNK):
        chunk = applied[start : start + READ_CHUNK]
        Embedding.objects.filter(pk__in=[pk for pk, _ in chunk], checksum__in=[c for _, c in chunk]).update(
            indexed=True
        )


def _maybe_schedule_rebuild(row: SearchIndex, count: int) -> None:
    """A flat index past the threshold, or an IVF index that grew 4x since it was trained, is rebuilt
    in the background (IVF's lists are sized for the count it was trained on)."""
    params = row.params or {}
    outgrown = (params.get("kind") == "flat" and count > settings.SEARCH_FLAT_MAX) or (
        params.get("kind") == "ivf" and count > 4 * params.get("trained_on", count)
    )
    if outgrown and not IndexBuild.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).exists():
        with transaction.atomic():
            index_build_create(user=None)


# --- full rebuild -------------------------------------------------------------------------------
def index_build_create(*, user: User | None) -> IndexBuild:
    """Queue a rebuild; at most one waits or runs at a time."""
    with transaction.atomic():
        if IndexBuild.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).exists():
            raise Conflict(_("A rebuild is already queued or running; wait for it to finish."))
        job = IndexBuild.objects.create(created_by=user, model_key=current_embedder().key)
        job_enqueue(job)
    return job


def index_build_run(job_id: int) -> None:
    with job_running(IndexBuild, job_id) as run:
        if run is not None:
            _rebuild(run)


def _rebuild(run: JobRun) -> None:
    """Embed what is missing, build a new index in a new folder from every stored vector, then under
    the lock catch up with what changed meanwhile and swap the folder in one UPDATE. Searches see
    the old index until the swap, the new one after; never a half-built one."""
    embedder = current_embedder()
    run.save(model_key=embedder.key)
    index_sync(on_progress=lambda done, total: run.progress(done, total), apply=False)
    ids, matrix, applied = _all_vectors(embedder)
    params = vectors.choose_params(len(ids), settings.SEARCH_FLAT_MAX)
    run.log(f"building {params.describe()} over {len(ids)} vectors")
    built = vectors.build_index(matrix, ids, params)
    params_record = {**asdict(params), "trained_on": len(ids)}
    with vectors.folder_lock(indexfiles.lock_path(embedder.key)):
        row = _index_row(embedder)
        old_folder = indexfiles.absolute(row)
        # Marked before the catch-up so it does not apply them twice; were the process to die
        # before the swap, the periodic full sync re-adds any the old live index lacks.
        _mark_indexed(applied)
        changes = _catch_up(row.model_key, row.dim, built, set(), full=True)
        new = indexfiles.model_root(embedder.key) / f"build-{run.job_id}-{run.token}"
        row.folder, row.params = indexfiles.relative(new), params_record
        generation = row.generation + 1
        indexfiles.store(row, built, _manifest(row, built, generation))
        SearchIndex.objects.filter(pk=row.pk).update(
            folder=row.folder,
            params=params_record,
            generation=generation,
            vector_count=built.ntotal,
            built_at=timezone.now(),
            synced_at=timezone.now(),
        )
        _mark_indexed(changes["applied"])
    if old_folder != new:
        indexfiles.remove_folder(old_folder)
    run.save(result={"vectors": int(built.ntotal), "index": params.describe(), "model": embedder.key})


def _all_vectors(embedder: Embedder) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
    rows = Embedding.objects.filter(model_key=embedder.key).values_list("pk", "kind", "object_id", "vector", "checksum")
    ids, vecs, applied = _verified(rows.iterator(chunk_size=READ_CHUNK), embedder.dim)
    matrix = np.stack(vecs) if vecs else np.zeros((0, embedder.dim), dtype=np.float32)
    return np.array(ids, dtype=np.int64), matrix, applied


# --- translation links ---------------------------------------------------------------------------
@transaction.atomic
def translation_link_decide(
    *, user: User, prompt_a: int, prompt_b: int, decision: str, score: float = 0.0
) -> TranslationLink:
    """Confirm (both prompts join one translation group) or reject (never suggested again)."""
    if decision not in LinkDecision.values:
        raise ApplicationError(_("decision must be one of %(choices)s") % {"choices": ", ".join(LinkDecision.values)})
    if prompt_a == prompt_b:
        raise ApplicationError(_("A prompt cannot be linked to itself."))
    low, high = sorted((prompt_a, prompt_b))
    prompts = {p.pk: p for p in Prompt.objects.alive().select_for_update().filter(pk__in=(low, high))}
    if len(prompts) != 2:
        raise NotFound(_("Both prompts must exist and not be deleted."))
    a, b = prompts[low], prompts[high]
    if a.language_id == b.language_id:
        raise ApplicationError(_("Translation links join prompts in different languages."))
    group = ""
    if decision == LinkDecision.CONFIRMED:
        group = _joined_group(a, b)
    link, _created = TranslationLink.objects.update_or_create(
        prompt_a=a, prompt_b=b, defaults={"decision": decision, "score": score, "group": group, "decided_by": user}
    )
    return link


def _joined_group(a: Prompt, b: Prompt) -> str:
    if a.group and b.group and a.group != b.group:
        raise Conflict(
            _("The prompts are already in different groups (%(first)s, %(second)s); merge them first.")
            % {"first": repr(a.group), "second": repr(b.group)}
        )
    group = a.group or b.group or f"link-{a.pk}"
    Prompt.objects.filter(pk__in=(a.pk, b.pk)).filter(Q(group="") | Q(group=group)).update(group=group)
    return group


DUPLICATE_THRESHOLD = 0.95
DUPLICATES_REPORTED = 20


def import_duplicates(*, prompt_ids: list[int], threshold: float = DUPLICATE_THRESHOLD) -> dict:
    """After an import: index its new prompts now (not at the next sync) and report the same-language
    prompt pairs involving them at or above `threshold` cosine similarity: likely near-duplicates."""
    from webapp.retrieval.selectors import similar_prompt_pairs

    if not prompt_ids:
        return {"count": 0, "pairs": []}
    index_texts(items=[(TextKind.PROMPT, pk) for pk in prompt_ids])
    new = set(prompt_ids)
    pairs = [
        pair
        for pair in similar_prompt_pairs(
            threshold=threshold, cross_language=False, limit=500, scan=min(len(prompt_ids), 20000)
        )
        if {pair["a"]["id"], pair["b"]["id"]} & new
    ]
    return {"count": len(pairs), "threshold": threshold, "pairs": pairs[:DUPLICATES_REPORTED]}
