"""Reads of the search index: text search, the related-items panel of the annotator page, and
suggested translation links / near-duplicates for staff.

FAISS returns candidates by vector id, best first; the database then drops deleted texts and applies
the language and kind filters, and the search asks FAISS for more candidates until it has k results,
the candidates fall below the similarity floor (settings.SEARCH_MIN_SCORE, RELATED_MIN_SCORE) or the
index is exhausted. Deleted texts met on the way are sent to be removed from the index."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from ml.embedding import vectors
from ml.embedding.embedders import Embedder, supports
from webapp.errors import ApplicationError, Conflict, NotFound
from webapp.feedback.formats.pairs import PairPolicy, derive_task
from webapp.feedback.models import Annotation, Language, Lease, Prompt, Response, Task
from webapp.feedback.selectors import tasks_for_pairs, user_language_codes
from webapp.permissions import is_reviewer
from webapp.queue import send_task
from webapp.retrieval import indexfiles
from webapp.retrieval.embedding import current_embedder
from webapp.retrieval.models import Embedding, SearchIndex, TextKind, TranslationLink, split_vector_id, vector_id

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 2000
MAX_K = 100


class Forbidden(ApplicationError):
    status_code = 403


@dataclass
class Hit:
    id: int
    kind: str
    text: str
    language: str
    group: str
    score: float = 0.0
    warning: str | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "language": self.language,
            "group": self.group,
            "score": round(self.score, 4),
            "warning": self.warning,
        }


@dataclass
class LiveIndex:
    row: SearchIndex
    loaded: vectors.Index  # faiss.Index
    embedder: Embedder


def live_index(*, model_key: str | None = None) -> LiveIndex | None:
    """The index of the configured model; None when none was built yet. An index built by another
    model (or a query naming another model) is refused: its vectors are not comparable."""
    embedder = current_embedder()
    if model_key and model_key != embedder.key:
        raise Conflict(
            _("This query names model %(asked)s, but the index and queries use %(model)s.")
            % {"asked": repr(model_key), "model": repr(embedder.key)}
        )
    row = SearchIndex.objects.filter(model_key=embedder.key).first()
    if row is None:
        other = SearchIndex.objects.order_by("-synced_at").first()
        if other is not None:
            raise Conflict(
                _(
                    "The search index was built by %(built)s, but the configured model is %(model)s; "
                    "staff must rebuild the index (python manage.py build_index --full)."
                )
                % {"built": other.model_key, "model": embedder.key}
            )
        return None
    loaded = indexfiles.load(row)
    manifest = vectors.Manifest.read(indexfiles.absolute(row))
    if loaded is None or manifest is None:
        return None
    if manifest.model_key != embedder.key:
        raise Conflict(
            _("The index file was built by %(built)s, not %(model)s; rebuild it.")
            % {"built": manifest.model_key, "model": embedder.key}
        )
    return LiveIndex(row, loaded, embedder)


def language_warning(embedder: Embedder, language: str) -> str | None:
    if supports(embedder, language) is False:
        return _("%(model)s was not trained on %(language)s; similarity for this language may be unreliable.") % {
            "model": embedder.name,
            "language": language,
        }
    return None


# --- candidate resolution ------------------------------------------------------------------------
def _resolve(ids: list[int]) -> tuple[dict[int, Hit], list[int]]:
    """Alive texts for these vector ids, and the ids whose text is gone."""
    prompt_pks = [pk for kind, pk in map(split_vector_id, ids) if kind == TextKind.PROMPT]
    response_pks = [pk for kind, pk in map(split_vector_id, ids) if kind == TextKind.RESPONSE]
    hits = {}
    for pk, text, language, group in (
        Prompt.objects.alive().filter(pk__in=prompt_pks).values_list("pk", "text", "language_id", "group")
    ):
        hits[vector_id(TextKind.PROMPT, pk)] = Hit(pk, TextKind.PROMPT, text, language, group)
    responses = Response.objects.alive().filter(pk__in=response_pks, prompt__deleted_at__isnull=True)
    for pk, text, language, group in responses.values_list("pk", "text", "prompt__language_id", "prompt__group"):
        hits[vector_id(TextKind.RESPONSE, pk)] = Hit(pk, TextKind.RESPONSE, text, language, group)
    return hits, [i for i in ids if i not in hits]


@dataclass
class Nearest:
    hits: list[Hit]
    best_below_floor: float | None  # the best score the floor dropped; None when it dropped nothing


def _nearest(
    live: LiveIndex,
    query: np.ndarray,
    k: int,
    accept: Callable[[Hit], bool],
    allowed: np.ndarray | None = None,
    *,
    floor: float,
) -> Nearest:
    """Up to k accepted hits scoring at least `floor`. FAISS returns candidates best first, so once one
    falls below the floor no later fetch can add a hit."""
    fetch = max(4 * k, 32)
    gone: list[int] = []
    while True:
        scores, ids = vectors.search(live.loaded, query[None, :], fetch, allowed=allowed)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        above = [(i, score) for i, score in found if score >= floor]
        below = [score for _, score in found if score < floor]
        hits, gone = _resolve([i for i, _ in above])
        results = []
        for i, score in above:
            hit = hits.get(i)
            if hit is not None and accept(hit):
                hit.score = score
                hit.warning = language_warning(live.embedder, hit.language)
                results.append(hit)
        exhausted = len(found) < fetch or fetch >= live.loaded.ntotal
        if len(results) >= k or exhausted or below:
            break
        fetch *= 4
    if gone:
        _forget_later(gone)
    return Nearest(results[:k], max(below) if below else None)


def _forget_later(ids: list[int]) -> None:
    try:
        send_task("workers.tasks.indexing.forget_vectors", args=[ids], queue="index")
    except Exception:  # noqa: BLE001 - the results are already filtered; the periodic sync removes them too
        log.warning("could not queue removal of %d deleted texts from the index", len(ids), exc_info=True)


# --- who may see what -----------------------------------------------------------------------------
def visible_languages(user: User | None) -> list[str] | None:
    """The languages whose texts this user may find: every language (None) for reviewers and staff and
    for trusted callers with no user (the CLI); an annotator's own languages otherwise, the rule every
    other read of prompts and responses follows (webapp.feedback.selectors.prompts_for_user)."""
    if user is None or is_reviewer(user):
        return None
    return user_language_codes(user)


def _allowed_ids(languages: list[str] | None, kinds: list[str]) -> np.ndarray | None:
    """The vector ids a search may return (alive texts of these languages and kinds), for FAISS's id
    selector; None when nothing is excluded."""
    if languages is None and set(kinds) == set(TextKind.values):
        return None
    parts = []
    if TextKind.PROMPT in kinds:
        prompts = Prompt.objects.alive()
        if languages is not None:
            prompts = prompts.filter(language__code__in=languages)
        parts.append(np.fromiter(prompts.values_list("pk", flat=True), dtype=np.int64) * 2)
    if TextKind.RESPONSE in kinds:
        responses = Response.objects.alive().filter(prompt__deleted_at__isnull=True)
        if languages is not None:
            responses = responses.filter(prompt__language__code__in=languages)
        parts.append(np.fromiter(responses.values_list("pk", flat=True), dtype=np.int64) * 2 + 1)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _search_languages(user: User | None, requested: list[str]) -> tuple[list[str] | None, list[str]]:
    """(the languages to search, warnings): the requested ones this user may see, or all they may see."""
    visible = visible_languages(user)
    if visible is None:
        return (requested or None), []
    if not requested:
        return visible, []
    mine = {code.lower() for code in visible}
    allowed = [code for code in requested if code.lower() in mine]
    hidden = [code for code in requested if code.lower() not in mine]
    warnings = [
        _("You can search only your languages (%(mine)s); not %(others)s.")
        % {"mine": ", ".join(visible) or _("none"), "others": ", ".join(hidden)}
    ]
    return allowed, (warnings if hidden else [])


# --- search ----------------------------------------------------------------------------------------
def _validated_languages(languages: list[str]) -> list[str]:
    known = {code.lower(): code for code in Language.objects.values_list("code", flat=True)}
    unknown = [code for code in languages if code.lower() not in known]
    if unknown:
        raise ApplicationError(
            _("Unknown language %(code)s; known: %(choices)s")
            % {"code": repr(unknown[0]), "choices": ", ".join(sorted(known.values()))}
        )
    return [known[code.lower()] for code in languages]


def search_texts(
    *,
    query: str,
    languages: list[str] | None = None,
    kinds: list[str] | None = None,
    k: int = 10,
    model: str = "",
    user: User | None = None,
    min_score: float | None = None,
) -> dict:
    """The k texts nearest to `query` among those `user` may see (see `visible_languages`), filtered
    inside the index, scoring at least `min_score` (settings.SEARCH_MIN_SCORE when None); no user means
    a trusted caller (the CLI) who sees everything."""
    query = (query or "").strip()
    if not query:
        raise ApplicationError(_("The query is empty; type some text to search for."))
    if len(query) > MAX_QUERY_CHARS:
        raise ApplicationError(
            _("The query is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(query), "limit": MAX_QUERY_CHARS}
        )
    if not 1 <= k <= MAX_K:
        raise ApplicationError(_("k must be between 1 and %(max)s.") % {"max": MAX_K})
    floor = settings.SEARCH_MIN_SCORE if min_score is None else min_score
    if not 0.0 <= floor <= 1.0:
        raise ApplicationError(_("min_score must be between 0 and 1."))
    kinds = list(kinds or TextKind.values)
    bad = [kind for kind in kinds if kind not in TextKind.values]
    if bad:
        raise ApplicationError(_("Unknown kind %(kind)s; use prompt or response.") % {"kind": repr(bad[0])})
    requested = _validated_languages(languages or [])
    searched, warnings = _search_languages(user, requested)
    live = live_index(model_key=model or None)
    if live is None:
        no_index = [_("There is no search index yet.")]
        return {"results": [], "model": current_embedder().key, "floor": floor, "warnings": no_index}
    wanted = None if searched is None else {code.lower() for code in searched}

    def accept(hit: Hit) -> bool:
        return hit.kind in kinds and (wanted is None or hit.language.lower() in wanted)

    nearest = Nearest([], None)
    if searched != []:
        vector = live.embedder.encode([query])[0]
        nearest = _nearest(live, vector, k, accept, _allowed_ids(searched, kinds), floor=floor)
    if not nearest.hits and nearest.best_below_floor is not None:
        warnings.append(
            _(
                "No text is similar enough to this query: the best match scores %(best)s, "
                "below the floor of %(floor)s. Try other words, or a whole sentence."
            )
            % {"best": f"{nearest.best_below_floor:.2f}", "floor": f"{floor:.2f}"}
        )
    warnings += [w for w in (language_warning(live.embedder, code) for code in requested) if w]
    return {
        "results": [hit.as_dict() for hit in nearest.hits],
        "model": live.row.model_key,
        "index": live.row.params,
        "floor": floor,
        "warnings": warnings,
    }


def index_status() -> dict:
    embedder = current_embedder()
    row = SearchIndex.objects.filter(model_key=embedder.key).first()
    unindexed = Embedding.objects.filter(model_key=embedder.key, indexed=False).count()
    return {
        "model": embedder.key,
        "model_languages": list(embedder.languages) if embedder.languages is not None else None,
        "vectors": row.vector_count if row else 0,
        "params": row.params if row else None,
        "generation": row.generation if row else 0,
        "built_at": row.built_at if row else None,
        "synced_at": row.synced_at if row else None,
        "pending_vectors": unindexed,
        "other_indexes": list(SearchIndex.objects.exclude(model_key=embedder.key).values_list("model_key", flat=True)),
    }


# --- the annotator panel ----------------------------------------------------------------------
def _visible_task(user: User, task_id: int) -> Task:
    task = Task.objects.alive().select_related("prompt").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("Task %(id)s does not exist.") % {"id": task_id})
    if is_reviewer(user):
        return task
    holds = Lease.objects.filter(task=task, annotator=user, expires_at__gt=timezone.now()).exists()
    if not holds and not Annotation.objects.filter(task=task, annotator=user).exists():
        raise Forbidden(_("Related items are shown only for a task you are working on or have annotated."))
    return task


def _prompt_vector(embedder: Embedder, prompt: Prompt) -> np.ndarray:
    stored = Embedding.objects.filter(
        model_key=embedder.key, kind=TextKind.PROMPT, object_id=prompt.pk, content_hash=prompt.content_hash
    ).first()
    if stored is not None and vectors.checksum(bytes(stored.vector)) == stored.checksum:
        return vectors.vector_from_bytes(bytes(stored.vector), embedder.dim)
    return embedder.encode([prompt.text])[0]


def related_for_task(*, user: User, task_id: int, k: int = 5) -> dict:
    """Prompts in other languages near this task's prompt, scoring at least settings.RELATED_MIN_SCORE
    (none rather than noise), never from its own translation group; their consensus (aggregated best
    response) only once this user has submitted this task, so it cannot anchor the ranking; nothing at
    all for gold items."""
    if not 1 <= k <= 20:
        raise ApplicationError(_("k must be between 1 and %(max)s.") % {"max": 20})
    task = _visible_task(user, task_id)
    if getattr(task, "gold_position", None) is not None:
        return {"task": task.pk, "hidden": True, "submitted": False, "results": []}
    submitted = Annotation.objects.filter(task=task, annotator=user).exists()
    live = live_index()
    if live is None:
        return {"task": task.pk, "hidden": False, "submitted": submitted, "results": []}
    prompt = task.prompt

    def accept(hit: Hit) -> bool:
        same_group = bool(prompt.group) and hit.group == prompt.group
        return hit.kind == TextKind.PROMPT and hit.language != task.language_id and not same_group

    visible = visible_languages(user)
    others = None if visible is None else [code for code in visible if code.lower() != task.language_id.lower()]
    if others == []:
        return {"task": task.pk, "hidden": False, "submitted": submitted, "results": []}
    vector, allowed = _prompt_vector(live.embedder, prompt), _allowed_ids(others, [TextKind.PROMPT])
    hits = _nearest(live, vector, k, accept, allowed, floor=settings.RELATED_MIN_SCORE).hits
    consensus = _consensus({hit.id for hit in hits}) if submitted else {}
    results = [{**hit.as_dict(), "consensus": consensus.get(hit.id)} for hit in hits]
    return {"task": task.pk, "hidden": False, "submitted": submitted, "results": results}


def _consensus(prompt_ids: set[int]) -> dict[int, dict]:
    """The aggregated best response of each prompt's settled tasks (pairs.py: the same rules as
    exports and training), skipping gold tasks."""
    found: dict[int, dict] = {}
    for related in tasks_for_pairs().filter(prompt_id__in=prompt_ids):
        if related.prompt_id in found or getattr(related, "gold_position", None) is not None:
            continue
        result = derive_task(related, PairPolicy())
        if result.best_response is not None:
            found[related.prompt_id] = {
                "response_id": result.best_response.pk,
                "text": result.best_response.text,
                "annotations": len(related.annotations.all()),
            }
    return found


# --- staff: translation links and near-duplicates ------------------------------------------------
def similar_prompt_pairs(*, threshold: float, cross_language: bool, limit: int = 50, scan: int = 2000) -> list[dict]:
    """Pairs of alive prompts at or above `threshold` cosine similarity among the `scan` newest
    prompts' neighbours: in different languages and not already in one group (translation links,
    minus rejected ones), or in the same language (near-duplicates)."""
    if not 0 < threshold <= 1:
        raise ApplicationError(_("threshold must be above 0 and at most 1."))
    if not 1 <= limit <= 500 or not 1 <= scan <= 20000:
        raise ApplicationError(_("limit must be 1..500 and scan 1..20000."))
    live = live_index()
    if live is None:
        return []
    stored = Embedding.objects.filter(model_key=live.row.model_key, kind=TextKind.PROMPT, indexed=True)
    rows = list(stored.order_by("-object_id").values_list("object_id", "vector")[:scan])
    if not rows:
        return []
    queries = np.stack([vectors.vector_from_bytes(bytes(v), live.row.dim) for _, v in rows])
    scores, ids = vectors.search(live.loaded, queries, 20)
    candidates: dict[tuple[int, int], float] = {}
    for (source, _vector), row_scores, row_ids in zip(rows, scores, ids, strict=True):
        for score, other in zip(row_scores, row_ids, strict=True):
            kind, pk = split_vector_id(int(other))
            if other >= 0 and kind == TextKind.PROMPT and pk != source and score >= threshold:
                key = (min(source, pk), max(source, pk))
                candidates[key] = max(candidates.get(key, 0.0), float(score))
    return _described_pairs(candidates, cross_language, limit)


def _described_pairs(candidates: dict[tuple[int, int], float], cross_language: bool, limit: int) -> list[dict]:
    ids = {pk for pair in candidates for pk in pair}
    prompts = {p.pk: p for p in Prompt.objects.alive().filter(pk__in=ids)}
    decided = set(
        TranslationLink.objects.filter(prompt_a__in=ids, prompt_b__in=ids).values_list("prompt_a_id", "prompt_b_id")
    )
    pairs = []
    for (a, b), score in sorted(candidates.items(), key=lambda item: -item[1]):
        pa, pb = prompts.get(a), prompts.get(b)
        if pa is None or pb is None or (a, b) in decided:
            continue
        if (pa.language_id != pb.language_id) != cross_language:
            continue
        if cross_language and pa.group and pa.group == pb.group:
            continue
        if _translated_from(pa, pb):
            continue  # a contribution's translation of its source: its verifiers decide, not a link
        pairs.append({"a": _brief(pa), "b": _brief(pb), "score": round(score, 4)})
        if len(pairs) == limit:
            break
    return pairs


def _translated_from(a: Prompt, b: Prompt) -> bool:
    """One is a translate contribution's prompt made from the other (webapp/feedback/services/contributing.py)."""
    return a.metadata.get("translated_from") == b.pk or b.metadata.get("translated_from") == a.pk


def _brief(prompt: Prompt) -> dict:
    return {"id": prompt.pk, "text": prompt.text, "language": prompt.language_id, "group": prompt.group}


# --- training data selection ----------------------------------------------------------------------
def prompts_nearest_to_language(*, prompts: list[str], language: str, top: int) -> set[str]:
    """Of these prompt texts, the `top` closest to any prompt in `language` (cosine similarity of the
    configured embedder); the target-language prompts' stored vectors are used where they exist."""
    embedder = current_embedder()
    target = _language_prompt_vectors(embedder, language)
    if target is None or not prompts:
        return set()
    candidates = sorted(set(prompts))
    scores, _ids = vectors.exact_search(target, embedder.encode(candidates), 1)
    order = np.argsort(-scores[:, 0], kind="stable")[:top]
    return {candidates[i] for i in order}


def _language_prompt_vectors(embedder: Embedder, language: str) -> np.ndarray | None:
    alive = Prompt.objects.alive().filter(language__code__iexact=language)
    stored = Embedding.objects.filter(
        model_key=embedder.key, kind=TextKind.PROMPT, object_id__in=alive.values("pk")
    ).values_list("vector", flat=True)
    rows = [vectors.vector_from_bytes(bytes(v), embedder.dim) for v in stored]
    if rows:
        return np.stack(rows)
    texts = list(alive.values_list("text", flat=True)[:10000])
    return embedder.encode(texts) if texts else None
