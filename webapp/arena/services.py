"""Arena writes and rules: starting battles (prompt checks, rate limits, which variants meet),
streaming both answers through the inference interface, votes (each one a preference record with
source `arena`), and staff exclusion of a client's votes."""

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from ml.llm.params import GenerationParams, VariantRef
from webapp.arena import sampling, selectors
from webapp.arena.languages import detect_language
from webapp.arena.models import (
    Battle,
    BattleMode,
    BattleStatus,
    BlockedTerm,
    ClientCounter,
    CounterAction,
    ExcludedClient,
    Vote,
    VoteStyle,
)
from webapp.arena.style import vote_style_measure
from webapp.arena.tallies import arena_mark
from webapp.audit import services as audit
from webapp.errors import ApplicationError, Conflict, NotFound
from webapp.feedback.content import content_hash, is_blank
from webapp.feedback.models import Language, Outcome, PreferenceRecord
from webapp.feedback.quality.marks import review_mark_records
from webapp.feedback.services.languages import canonical_tag, language_get_or_create
from webapp.feedback.sources import ORIGIN_LOCAL, Source
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.services import variant_ref

if TYPE_CHECKING:
    from ml.llm.inference import LocalBackend
    from ml.llm.openai_backend import OpenAICompatibleBackend

    Backend = LocalBackend | OpenAICompatibleBackend

# Sampling for arena answers: some variety, so two battles with the same prompt differ.
TEMPERATURE = 0.7
TOP_P = 0.9
STREAM_POLL_SECONDS = 0.05
CLIENT_HASH = re.compile(r"[0-9a-f]{64}")

logger = logging.getLogger(__name__)


class RateLimited(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS


# --- Clients -------------------------------------------------------------------------------------


def client_hash_for(address: str) -> str:
    """A salted hash of the client's address: the only thing stored about a visitor."""
    salt = settings.ARENA_CLIENT_SALT or "arena-client:" + settings.SECRET_KEY
    return hmac.new(salt.encode(), address.encode(), hashlib.sha256).hexdigest()


def rate_limit_take(*, client_hash: str, action: str, now: datetime | None = None) -> None:
    """Count one request of `action` for the client in the current window, or refuse it.

    The count lives in the database, so every web process shares it. The increment is a conditional
    UPDATE (`count < limit`), atomic in the database: two processes racing for the last slot cannot
    both get it. A missing row is created; when a racer created it first, the UPDATE is tried again."""
    limit, window = _limit(action)
    now = now or timezone.now()
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, tz=UTC)
    counters = ClientCounter.objects.filter(client_hash=client_hash, action=action, window_start=start)
    if counters.filter(count__lt=limit).update(count=F("count") + 1):
        return
    if not counters.exists():
        try:
            with transaction.atomic():
                ClientCounter.objects.create(client_hash=client_hash, action=action, window_start=start, count=1)
            _forget_old_windows(action, now - timedelta(seconds=window))
            return
        except IntegrityError:
            if counters.filter(count__lt=limit).update(count=F("count") + 1):
                return
    minutes = max(1, round((start.timestamp() + window - now.timestamp()) / 60))
    if action == CounterAction.VOTE_DAY:
        message = _(
            "Your connection has cast %(limit)s votes today, the daily limit. Votes are taken again in %(hours)s h "
            "(at midnight UTC)."
        )
        raise RateLimited(message % {"limit": limit, "hours": max(1, round(minutes / 60))})
    if action == CounterAction.GENERATE:
        message = _("Too many answers from your connection: at most %(limit)s. Try again in %(minutes)s min.")
    else:
        message = _("Too many votes from your connection: at most %(limit)s. Try again in %(minutes)s min.")
    raise RateLimited(message % {"limit": limit, "minutes": minutes})


DAY_SECONDS = 86400  # a window aligned on the epoch: each UTC day


def _limit(action: str) -> tuple[int, int]:
    """The action's limit and its window in seconds."""
    if action == CounterAction.VOTE_DAY:
        return settings.ARENA_DAILY_VOTE_CAP, DAY_SECONDS
    if action == CounterAction.GENERATE:
        return settings.ARENA_GENERATION_LIMIT, settings.ARENA_RATE_WINDOW_SECONDS
    return settings.ARENA_VOTE_LIMIT, settings.ARENA_RATE_WINDOW_SECONDS


def _forget_old_windows(action: str, before: datetime) -> None:
    """Counters of `action` whose window ended (each action has its own window length)."""
    ClientCounter.objects.filter(action=action, window_start__lt=before).delete()


@transaction.atomic
def client_exclude(*, client_hash: str, reason: str = "", by: User | None = None) -> ExcludedClient:
    """Leave a client's votes out of ratings, exports and training (their preference records are
    soft-deleted, which every preference selector honours); later votes are excluded too."""
    if not CLIENT_HASH.fullmatch(client_hash or ""):
        raise ApplicationError(_("A client is named by its 64-character hash, as listed on the statistics page."))
    excluded, _created = ExcludedClient.objects.get_or_create(
        client_hash=client_hash, defaults={"reason": reason[:500], "excluded_by": by}
    )
    votes = Vote.objects.filter(client_hash=client_hash, excluded=False)
    records = PreferenceRecord.objects.filter(arena_vote__in=votes, deleted_at__isnull=True)
    arena_mark(votes.values_list("battle_id", flat=True))
    review_mark_records(records.values_list("pk", flat=True))
    records.update(deleted_at=timezone.now())
    votes.update(excluded=True)
    audit.record(action="arena.client_exclude", target=excluded, details={"client_hash": client_hash}, actor=by)
    return excluded


@transaction.atomic
def client_include(*, client_hash: str) -> int:
    """Undo an exclusion: the client's votes count again. Returns how many were restored."""
    deleted, _counts = ExcludedClient.objects.filter(client_hash=client_hash).delete()
    if not deleted:
        raise NotFound(_("That client is not excluded."))
    votes = Vote.objects.filter(client_hash=client_hash, excluded=True)
    records = PreferenceRecord.objects.filter(arena_vote__in=votes)
    arena_mark(votes.values_list("battle_id", flat=True))
    review_mark_records(records.values_list("pk", flat=True))
    records.update(deleted_at=None)
    restored = votes.update(excluded=False)
    audit.record(action="arena.client_include", details={"client_hash": client_hash, "votes": restored})
    return restored


# --- Battles -------------------------------------------------------------------------------------


def prompt_check(prompt: str) -> str:
    prompt = (prompt or "").strip()
    if is_blank(prompt):  # whitespace or invisible characters only (zero-width space, ...)
        raise ApplicationError(_("Write a prompt first."))
    if len(prompt) > settings.ARENA_PROMPT_MAX_CHARS:
        raise ApplicationError(
            _("The prompt is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(prompt), "limit": settings.ARENA_PROMPT_MAX_CHARS}
        )
    lowered = prompt.casefold()
    for term in BlockedTerm.objects.values_list("term", flat=True):
        if term.casefold() in lowered:
            raise ApplicationError(_("This prompt cannot be used in the arena."))
    return prompt


def battle_language(*, prompt: str, code: str | None) -> tuple[Language, str]:
    """The chosen language when there is one, else the detected one; and what was detected."""
    known = list(Language.objects.values_list("code", flat=True))
    detected = detect_language(prompt, known) or ""
    if code:
        try:
            return Language.objects.get(code=canonical_tag(code)), detected
        except Language.DoesNotExist:
            raise ApplicationError(
                _("Unknown language %(code)s; choose one of %(choices)s.")
                % {"code": repr(code), "choices": ", ".join(known)}
            ) from None
    if detected:
        return Language.objects.get(code=detected), detected
    return language_get_or_create(settings.ARENA_DEFAULT_LANGUAGE), detected


def battle_language_choice(
    *, prompt: str, shown: str | None, sent_prompt: str = "", sent_language: str = ""
) -> str | None:
    """The language the visitor chose for `prompt`, or None: detect it afresh.

    After a battle the arena shows the language it stored for that battle's prompt (`sent_prompt`,
    `sent_language`), detected or chosen. That value belongs to that prompt: for any other prompt it is
    not a choice, so the next prompt is detected again (an Arabic prompt after a German battle is stored
    as `ar`, not `de`). A language the visitor picks for the new prompt is a choice."""
    if not shown:
        return None
    if sent_language and shown == sent_language and prompt.strip() != sent_prompt.strip():
        return None
    return shown


def battle_pair(*, language: Language, rng: np.random.Generator | None = None) -> tuple[ModelVariant, ModelVariant]:
    """Two enrolled variants, drawn where the language's ratings are least certain (sampling.py)."""
    variants = {v.pk: v for v in selectors.enrolled_variants()}
    if len(variants) < 2:
        raise ApplicationError(_("The arena needs at least two enrolled models; none can battle right now."))
    fit = selectors.rating_fit(language.code)
    variances = sampling.difference_variances(
        list(variants), fit.variant_ids, fit.covariance, unrated=1 / selectors.RATING_L2
    )
    first, second = sampling.draw_pair(variances, rng or np.random.default_rng())
    return variants[first], variants[second]


def named_pair(*, name_a: str, name_b: str) -> tuple[ModelVariant, ModelVariant]:
    if not name_a or not name_b:
        raise ApplicationError(_("Choose two models."))
    if name_a == name_b:
        raise ApplicationError(_("Choose two different models."))
    variants = {v.name: v for v in selectors.enrolled_variants()}
    missing = [name for name in (name_a, name_b) if name not in variants]
    if missing:
        raise ApplicationError(_("Not an arena model: %(names)s.") % {"names": ", ".join(missing)})
    return variants[name_a], variants[name_b]


def battle_start(
    *,
    prompt: str,
    client_hash: str,
    language_code: str | None = None,
    variant_names: tuple[str, str] | None = None,
) -> Battle:
    """Check the prompt, count the generation against the client's limit, and choose the two
    variants: drawn by uncertainty (anonymous battle) or chosen by name (side by side)."""
    prompt = prompt_check(prompt)
    language, detected = battle_language(prompt=prompt, code=language_code)
    if variant_names:
        variant_a, variant_b = named_pair(name_a=variant_names[0], name_b=variant_names[1])
    else:
        variant_a, variant_b = battle_pair(language=language)
    rate_limit_take(client_hash=client_hash, action=CounterAction.GENERATE)
    return _battle_create(
        mode=BattleMode.NAMED if variant_names else BattleMode.ANONYMOUS,
        language=language,
        detected_language=detected,
        prompt=prompt,
        variant_a=variant_a,
        variant_b=variant_b,
        client_hash=client_hash,
    )


@transaction.atomic
def _battle_create(**fields: Any) -> Battle:
    """The battle and its tallies' marker (a post_save signal) in one transaction."""
    return Battle.objects.create(**fields)


def battle_stream(battle: Battle) -> Iterator[tuple[str, str]]:
    """Both answers as they grow, `(text_a, text_b)`, then stores them on the battle.

    Each side streams in its own thread (the local backend runs them one after the other when they
    share a base model, an OpenAI-compatible server in parallel). Closing this iterator (the visitor
    left) stops both generations."""
    messages = [{"role": "user", "content": battle.prompt}]
    params = GenerationParams(max_new_tokens=settings.ARENA_MAX_NEW_TOKENS, temperature=TEMPERATURE, top_p=TOP_P)
    try:
        refs = [variant_ref(battle.variant_a), variant_ref(battle.variant_b)]
    except ApplicationError as exc:
        battle_fail(battle, str(exc))
        raise
    backend = _backend()  # created here, not in the threads: see _backend
    sides = [_Side(backend, ref, messages, params) for ref in refs]
    shown = None
    try:
        while True:
            finished = all(side.done.is_set() for side in sides)  # before reading: no piece is missed
            texts = (sides[0].text(), sides[1].text())
            if texts != shown:
                shown = texts
                yield texts
            if finished:
                break
            time.sleep(STREAM_POLL_SECONDS)
    except GeneratorExit:  # the visitor left: no vote can come, and the battle must not stay "generating"
        battle_abandon(battle)
        raise
    finally:
        for side in sides:
            side.stop()
    failures = [side.failure for side in sides if side.failure]
    if failures:
        logger.error("battle %s: generation failed", battle.pk, exc_info=failures[0])
        battle_fail(battle, f"{type(failures[0]).__name__}: {failures[0]}")
        raise ApplicationError(_("A model failed to answer; please try again."))
    battle_finish(battle, *shown)


class _Side:
    """One variant's answer, streamed into a buffer by a thread."""

    def __init__(
        self, backend: "Backend", ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams
    ) -> None:
        self.pieces: list[str] = []
        self.done = threading.Event()
        self.cancel = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(backend, ref, messages, params), daemon=True)
        self.thread.start()

    def _run(
        self, backend: "Backend", ref: VariantRef, messages: list[dict[str, Any]], params: GenerationParams
    ) -> None:
        stream = backend.stream(ref, messages, params)
        try:
            for piece in stream:
                self.pieces.append(piece)
                if self.cancel.is_set():
                    break
        except Exception as exc:  # noqa: BLE001 - reported by battle_stream
            self.failure = exc
        finally:
            stream.close()
            self.done.set()

    def text(self) -> str:
        return "".join(self.pieces)

    def stop(self) -> None:
        self.cancel.set()


_backend_lock = threading.Lock()
_backend_instance: "Backend | None" = None


def _backend() -> "Backend":
    """One backend per web process (the local one keeps its loaded models between battles), made
    under a lock: battles start in several Gradio threads at once."""
    global _backend_instance
    with _backend_lock:
        if _backend_instance is None:
            _backend_instance = _make_backend()
        return _backend_instance


def _make_backend() -> "Backend":
    from webapp.modelstore.generation import inference_backend

    return inference_backend()


def battle_finish(battle: Battle, response_a: str, response_b: str) -> None:
    Battle.objects.filter(pk=battle.pk, status=BattleStatus.GENERATING).update(
        response_a=response_a, response_b=response_b, status=BattleStatus.READY, finished_at=timezone.now()
    )
    battle.refresh_from_db()


def battle_fail(battle: Battle, error: str) -> None:
    Battle.objects.filter(pk=battle.pk, status=BattleStatus.GENERATING).update(
        status=BattleStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def battle_abandon(battle: Battle) -> None:
    Battle.objects.filter(pk=battle.pk, status=BattleStatus.GENERATING).update(
        status=BattleStatus.ABANDONED, finished_at=timezone.now()
    )


def battles_sweep(*, now: datetime | None = None) -> int:
    """Battles still "generating" long after any generation could have ended: their web process died
    (a closed stream is marked at once by battle_stream). Returns how many were marked abandoned."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ARENA_GENERATION_TIMEOUT_SECONDS)
    return Battle.objects.filter(status=BattleStatus.GENERATING, created_at__lt=cutoff).update(
        status=BattleStatus.ABANDONED, finished_at=now or timezone.now()
    )


# --- Votes ---------------------------------------------------------------------------------------

OUTCOMES = {choice.value for choice in Outcome}


def vote_cast(*, token: str, outcome: str, client_hash: str, language_code: str | None = None) -> Vote:
    """Record the vote on a finished battle: a preference record (source `arena`) and the arena's
    own row. One vote per battle, only by the client that started it."""
    if outcome not in OUTCOMES:
        raise ApplicationError(_("outcome must be one of %(choices)s") % {"choices": ", ".join(sorted(OUTCOMES))})
    battle = _battle_for_vote(token, client_hash)
    language: Language | None
    language = battle.language
    if language_code and canonical_tag(language_code) != language.code:
        language = Language.objects.filter(code=canonical_tag(language_code)).first()
        if language is None:
            raise ApplicationError(_("Unknown language %(code)s.") % {"code": repr(language_code)})
    rate_limit_take(client_hash=client_hash, action=CounterAction.VOTE_DAY)
    rate_limit_take(client_hash=client_hash, action=CounterAction.VOTE)
    # Measured before the transaction: tokenising (and loading the tokenizer once) holds no lock.
    measures = vote_style_measure(response_a=battle.response_a, response_b=battle.response_b, language=language.code)
    return _vote_store(battle, outcome, language, measures)


def _battle_for_vote(token: str, client_hash: str) -> Battle:
    battle = Battle.objects.select_related("variant_a", "variant_b", "language").filter(token=token).first()
    if battle is None or battle.client_hash != client_hash:
        raise NotFound(_("No such battle; start a new one."))
    if battle.status == BattleStatus.VOTED:
        raise Conflict(_("This battle already has a vote; start a new one."))
    if battle.status in (BattleStatus.FAILED, BattleStatus.ABANDONED):
        raise Conflict(_("This battle did not finish; start a new one."))
    if battle.status != BattleStatus.READY:
        raise ApplicationError(_("Wait until both answers are complete before voting."))
    return battle


@transaction.atomic
def _vote_store(battle: Battle, outcome: str, language: Language, measures: VoteStyle) -> Vote:
    # The conditional UPDATE claims the battle: of two racing votes, one changes the row, the other
    # finds nothing to change (and Vote.battle's uniqueness would stop it anyway).
    if not Battle.objects.filter(pk=battle.pk, status=BattleStatus.READY).update(status=BattleStatus.VOTED):
        raise Conflict(_("This battle already has a vote; start a new one."))
    revealed = battle.mode == BattleMode.NAMED or identity_revealed(battle)
    excluded = ExcludedClient.objects.filter(client_hash=battle.client_hash).exists()
    record = PreferenceRecord.objects.create(
        external_id=f"arena-{battle.token}",
        content_hash=content_hash(battle.prompt, battle.response_a, battle.response_b),
        prompt=battle.prompt,
        response_a=battle.response_a,
        response_b=battle.response_b,
        prompt_text=battle.prompt,
        outcome=outcome,
        source=Source.ARENA,
        origin=ORIGIN_LOCAL,
        language=language,
        model_a=battle.variant_a.name,
        model_b=battle.variant_b.name,
        client_hash=battle.client_hash,
        metadata={"battle": str(battle.token), "mode": battle.mode, "identity_revealed": revealed},
        deleted_at=timezone.now() if excluded else None,
    )
    vote = Vote.objects.create(
        battle=battle,
        preference=record,
        outcome=outcome,
        language=language,
        variant_a=battle.variant_a,
        variant_b=battle.variant_b,
        identity_revealed=revealed,
        excluded=excluded,
        client_hash=battle.client_hash,
    )
    measures.vote = vote
    measures.save()
    return vote


def identity_revealed(battle: Battle) -> bool:
    """Whether an answer names a model: either variant or its ancestors, or a configured word."""
    words = set(settings.ARENA_IDENTITY_WORDS)
    variant: ModelVariant | None
    for variant in (battle.variant_a, battle.variant_b):
        while variant is not None:
            words |= {variant.name, variant.name.replace("-", " "), variant.name.replace("-", "")}
            variant = variant.parent
    texts = (battle.response_a.casefold(), battle.response_b.casefold())
    return any(word.casefold() in text for word in words if word.strip() for text in texts)
