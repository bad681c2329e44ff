"""High-frequency prompts across languages: the arena prompts that are translations (or close rewordings) of
one another are grouped, so vote hygiene's prompt cap (ARENA_PROMPT_CAP) counts the group as one prompt, as
FastChat's deduplication counts one prompt. Run by a periodic task on the `index` queue
(ARENA_DUPLICATE_SECONDS) and by `manage.py arena_duplicates`; nothing here runs in a request.

Only prompts with at least ARENA_DUPLICATE_MIN_VOTES counted votes are embedded (the cap concerns frequent
prompts; the rare ones could not reach it even grouped), each once, with the configured multilingual embedder
(settings.EMBEDDING_MODEL, the search index's). Two prompts whose cosine similarity is at least
ARENA_DUPLICATE_SIMILARITY are joined, and groups are the connected components (union-find), so a prompt and
its translations meet through the closest pair. The default 0.85 was chosen on the bundled USE: "What is the
capital of France?" scores 0.87–0.90 against its German, French and Arabic translations and 0.80 against the
same question about Germany, which must stay apart (a false merge would cap distinct prompts; a missed one only
leaves the cap as it was). The groups are rewritten whole, in one transaction."""

import logging

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.db.models.functions import MD5, Lower, Trim

from webapp.arena.models import PromptGroup
from webapp.arena.selectors import ALL, rating_votes
from webapp.arena.tallies import arena_touch

log = logging.getLogger(__name__)
BLOCK = 2048  # rows of the similarity matrix computed at once


def prompt_groups_build() -> dict:
    """Find the groups afresh; returns what was done (prompts embedded, groups, prompts in groups)."""
    frequent = list(
        rating_votes(origin=ALL)
        .annotate(prompt_key=MD5(Lower(Trim("battle__prompt"))))
        .values("prompt_key")
        .annotate(n=Count("id"), text=Min("battle__prompt"))
        .filter(n__gte=settings.ARENA_DUPLICATE_MIN_VOTES)
        .order_by("prompt_key")
        .values_list("prompt_key", "text")
    )
    groups: list[tuple[str, str, float]] = []
    model_key = ""
    if len(frequent) >= 2:
        from webapp.retrieval.embedding import current_embedder  # noqa: PLC0415 (loads the model: worker only)

        embedder = current_embedder()
        model_key = f"{embedder.name}@{embedder.version}"
        vectors = embedder.encode([text.strip() for _key, text in frequent])
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        groups = _components([key for key, _text in frequent], vectors, settings.ARENA_DUPLICATE_SIMILARITY)
    with transaction.atomic():
        PromptGroup.objects.all().delete()
        PromptGroup.objects.bulk_create(
            PromptGroup(prompt_key=key, group_key=group, similarity=similarity, model_key=model_key)
            for key, group, similarity in groups
        )
        arena_touch()  # vote hygiene's prompt cap reads the groups
    found = {"prompts_embedded": len(frequent) if len(frequent) >= 2 else 0, "groups": len({g for _k, g, _s in groups})}
    found["prompts_grouped"] = len(groups)
    log.info("arena prompt groups: %s", found)
    return found


def _components(keys: list[str], vectors: np.ndarray, threshold: float) -> list[tuple[str, str, float]]:
    """(key, group key, similarity it joined through) for every key in a group of two or more."""
    parent = list(range(len(keys)))
    best = np.zeros(len(keys))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(keys), BLOCK):
        block = vectors[start : start + BLOCK] @ vectors.T
        rows, columns = np.nonzero(block >= threshold)
        for row, column in zip(rows, columns, strict=True):
            i, j = start + int(row), int(column)
            if i >= j:
                continue
            similarity = float(block[row, column])
            best[i], best[j] = max(best[i], similarity), max(best[j], similarity)
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for i in range(len(keys)):
        members.setdefault(root(i), []).append(i)
    return [
        (keys[i], keys[min(group)], round(float(best[i]), 4))
        for group in members.values()
        if len(group) > 1
        for i in group
    ]
