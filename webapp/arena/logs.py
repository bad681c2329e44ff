"""Battle logs in and out, in the Chatbot Arena conversation format (lmsys/chatbot_arena_conversations):
`import_feedback FILE --format arena` and `export_feedback --format arena --out FILE` (docs/formats.md).

One record is one voted battle:

    {"question_id": "58210e39b3fd4441a2bd4a518bb44c2d", "model_a": "chatglm-6b", "model_b": "koala-13b",
     "winner": "model_b", "judge": "arena_user_973", "turn": 1, "anony": true, "language": "English",
     "tstamp": 1682351591.1322, "conversation_a": [{"role": "user", "content": "..."},
     {"role": "assistant", "content": "..."}], "conversation_b": [...], "openai_moderation": {...}}

* `winner`: `model_a`, `model_b`, `tie` or `tie (bothbad)` (our outcomes a, b, tie, both_bad).
* `language`: an English name or a BCP-47 tag (webapp/feedback/formats/languages.py); none: `--language`.
* `judge`: the voter's id, stored as a client hash made the way the arena hashes a visitor's address
  (services.client_hash_for), so staff exclusion and vote hygiene treat a log's voter like a visitor.
* Models this app does not have become external variants that keep the log's name verbatim: rated,
  never served (ExternalVariant). A log naming one of our own variants is an error on that line.
* A battle with `anony: false` is kept (and its pair) but not rated, like a Side by side battle. A
  multi-turn battle counts in ratings; only a one-turn battle (`turn == 1`) is a preference pair.
* Other keys are kept as the battle's metadata, and written back by the export.

Imported battles and their preference records have source `arena` and origin the file's name; the
question_id is the key, so importing a log again changes nothing, and a question_id stored with other
content is an error on its line. The export writes the arena's own battles (origin `local`, or the
origins named) in the same shape: importing it into an empty store gives the same ratings."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from webapp.arena.models import Battle, BattleMode, BattleStatus, ExcludedClient, ExternalVariant, Vote
from webapp.arena.services import client_hash_for
from webapp.arena.tallies import arena_mark
from webapp.feedback.content import content_hash
from webapp.feedback.formats.exporting import ExportSpec
from webapp.feedback.formats.languages import language_from_value
from webapp.feedback.formats.parsing import LineError
from webapp.feedback.formats.registry import (
    ExportFormat,
    ImportErrors,
    ImportFormat,
    ImportOptions,
    export_formats,
    import_formats,
)
from webapp.feedback.models import Language, Outcome, PreferenceRecord
from webapp.feedback.services.bulk import SeenKeys
from webapp.feedback.services.languages import language_get_or_create
from webapp.feedback.sources import ORIGIN_LOCAL, Source
from webapp.modelstore.models import ModelVariant, VariantKind, VariantStatus

NAME = "arena"
DEFAULT_ORIGIN = "arena-log"  # for a file without a name
WINNERS = {"model_a": Outcome.A, "model_b": Outcome.B, "tie": Outcome.TIE, "tie (bothbad)": Outcome.BOTH_BAD}
WINNER_OF = {outcome.value: winner for winner, outcome in WINNERS.items()}
KNOWN_KEYS = frozenset(
    {"question_id", "model_a", "model_b", "winner", "judge", "turn", "anony", "language", "tstamp"}
    | {"conversation_a", "conversation_b"}
)
UNKNOWN_LANGUAGE = "unknown"  # FastChat's clean_battle_data when it could not detect the language
ROLES = frozenset({"system", "user", "assistant"})
MAX_ID = 180  # question_id; the preference record's external_id adds a prefix
MAX_MODEL = 100  # ModelVariant.name
OVER_DAILY_CAP = gettext_noop("a vote over its voter's daily cap (ARENA_DAILY_VOTE_CAP)")
DAY = 86400


@dataclass
class BattleLine:
    """One checked record of a log."""

    line_no: int
    question_id: str
    model_a: str
    model_b: str
    outcome: str
    conversation_a: list[dict[str, str]]
    conversation_b: list[dict[str, str]]
    language: str
    turn: int
    anony: bool
    client_hash: str
    tstamp: float | None
    extra: dict[str, Any]
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        self.content_hash = content_hash(
            self.model_a,
            self.model_b,
            self.outcome,
            self.conversation_a,
            self.conversation_b,
            self.language,
            self.turn,
            self.anony,
            self.client_hash,
        )

    @property
    def prompt(self) -> str:
        return next(m["content"] for m in self.conversation_a if m["role"] == "user")


# --- Reading -------------------------------------------------------------------------------------


def arena_records(obj: dict[str, Any], number: int, options: ImportOptions) -> Iterator[BattleLine]:
    conversation_a = _conversation(obj, "conversation_a")
    conversation_b = _conversation(obj, "conversation_b")
    if _user_turns(conversation_a) != _user_turns(conversation_b):
        raise LineError(_("conversation_a and conversation_b must hold the same user messages"))
    model_a, model_b = _model(obj, "model_a"), _model(obj, "model_b")
    if model_a == model_b:
        raise LineError(_("model_a and model_b must be two different models"))
    winner = obj.get("winner")
    if winner not in WINNERS:
        raise LineError(_("'winner' must be one of %(choices)s") % {"choices": ", ".join(repr(w) for w in WINNERS)})
    yield BattleLine(
        line_no=number,
        question_id=_text(obj, "question_id", MAX_ID),
        model_a=model_a,
        model_b=model_b,
        outcome=WINNERS[winner].value,
        conversation_a=conversation_a,
        conversation_b=conversation_b,
        language=_language(obj, options),
        turn=_turn(obj, conversation_a),
        anony=_flag(obj, "anony"),
        client_hash=client_hash_for(_text(obj, "judge", 500)),
        tstamp=_tstamp(obj),
        extra={key: value for key, value in obj.items() if key not in KNOWN_KEYS},
    )


def _language(obj: dict, options: ImportOptions) -> str:
    """The record's language; FastChat writes "unknown" where its detector failed, which (like no value at all)
    takes `--language`."""
    value = obj.get("language")
    if value in (None, "") or (isinstance(value, str) and value.strip().casefold() == UNKNOWN_LANGUAGE):
        return options.language
    return language_from_value(value)


def _text(obj: dict, key: str, limit: int) -> str:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise LineError(_("'%(where)s' is missing or not a string") % {"where": key})
    if len(value) > limit:
        raise LineError(_("'%(where)s' is longer than %(limit)s characters") % {"where": key, "limit": limit})
    return value


def _model(obj: dict, key: str) -> str:
    """The model's name as the log writes it (kept verbatim: the name of its external variant)."""
    return _text(obj, key, MAX_MODEL)


def _conversation(obj: dict, key: str) -> list[dict[str, str]]:
    value = obj.get(key)
    if not isinstance(value, list) or not value:
        raise LineError(_("'%(where)s' must be a list of role/content messages") % {"where": key})
    messages = []
    for i, message in enumerate(value):
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise LineError(
                _('\'%(where)s\'[%(index)s] must be {"role": user, assistant or system, "content": text}')
                % {"where": key, "index": i}
            )
        messages.append({"role": message["role"], "content": message["content"]})
    if not any(m["role"] == "user" for m in messages) or messages[-1]["role"] != "assistant":
        raise LineError(_("'%(where)s' must have a user message and end with the model's answer") % {"where": key})
    return messages


def _user_turns(messages: list[dict[str, str]]) -> list[str]:
    return [m["content"] for m in messages if m["role"] == "user"]


def _turn(obj: dict, conversation: list[dict[str, str]]) -> int:
    turns = len(_user_turns(conversation))
    value = obj.get("turn")
    if value is None:  # absent (or a Parquet row without it)
        return turns
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise LineError(_("'turn' must be a whole number of 1 or more"))
    if value != turns:
        raise LineError(
            _("'turn' is %(turn)s but the conversations have %(count)s user messages") % {"turn": value, "count": turns}
        )
    return value


def _flag(obj: dict, key: str) -> bool:
    value = obj.get(key)
    if value is None:  # absent: the log's battles are anonymous, as the arena's Battle tab is
        return True
    if not isinstance(value, bool):
        raise LineError(_("'%(where)s' must be true or false") % {"where": key})
    return value


def _tstamp(obj: dict) -> float | None:
    value = obj.get("tstamp")
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise LineError(_("'tstamp' must be a Unix time in seconds"))
    return float(value)


# --- Writing -------------------------------------------------------------------------------------


class BattleSink:
    """Writes a log's battles in batches: each battle, its vote and (one-turn battles) its preference record,
    and the external variants the log names. Checks the question_ids against the earlier lines of the file
    and the store, and the models' names against our own variants."""

    def __init__(self, report: ImportErrors, options: ImportOptions) -> None:
        self.report = report
        self.origin = (options.origin or DEFAULT_ORIGIN)[:200]
        self.lines: list[BattleLine] = []
        self.seen = SeenKeys()
        self.languages: dict[str, Language] = {}
        self.excluded: dict[str, bool] = {}
        self.per_day: dict[tuple[str, int], int] = {}  # (client, UTC day since the epoch) -> votes kept

    def add(self, record: BattleLine) -> None:
        self.lines.append(record)

    def pending(self) -> int:
        return len(self.lines)

    def close(self) -> None:
        self.seen.close()

    def flush(self, *, write: bool) -> None:
        lines = self._fresh(self._first_uses(self.lines))
        variants = self._variants(lines, write=write)
        lines = self._within_daily_cap(
            [line for line in lines if line.model_a in variants and line.model_b in variants]
        )
        if write and lines:
            self._write(lines, variants)
        self.lines = []

    def _first_uses(self, lines: list[BattleLine]) -> list[BattleLine]:
        def clash(line: BattleLine, first: int) -> None:
            self.report.add_error(
                line.line_no,
                _("question_id %(id)s was used on line %(line)s with different content")
                % {"id": repr(line.question_id), "line": first},
            )

        return self.seen.first_uses(
            lines,
            lambda line: line.question_id,
            unchanged=lambda line: self.report.count("battles", unchanged=1),
            clash=clash,
        )

    def _fresh(self, lines: list[BattleLine]) -> list[BattleLine]:
        """Lines whose question_id is not stored yet; a stored one is unchanged, or an error with other content."""
        stored = dict(
            Battle.objects.filter(external_id__in=[line.question_id for line in lines]).values_list(
                "external_id", "metadata__content_hash"
            )
        )
        fresh = []
        for line in lines:
            if line.question_id not in stored:
                fresh.append(line)
            elif stored[line.question_id] == line.content_hash:
                self.report.count("battles", unchanged=1)
            else:
                self.report.add_error(
                    line.line_no,
                    _("question_id %(id)s is already stored with different content") % {"id": repr(line.question_id)},
                )
        return fresh

    def _within_daily_cap(self, lines: list[BattleLine]) -> list[BattleLine]:
        """The lines within their voter's daily vote cap, as the live arena counts it (ARENA_DAILY_VOTE_CAP
        votes per client and UTC day, by `tstamp`, counting the votes stored for that day); the rest are
        skipped, as the arena would have refused them. A line without `tstamp` has no day and is not capped."""
        self._count_stored({(line.client_hash, int(line.tstamp // DAY)) for line in lines if line.tstamp is not None})
        kept = []
        for line in lines:
            if line.tstamp is not None:
                key = (line.client_hash, int(line.tstamp // DAY))
                if self.per_day[key] >= settings.ARENA_DAILY_VOTE_CAP:
                    self.report.skip(OVER_DAILY_CAP)
                    continue
                self.per_day[key] += 1
            kept.append(line)
        return kept

    def _count_stored(self, keys: set[tuple[str, int]]) -> None:
        """Load the stored votes of (client, day)s this import has not counted yet."""
        keys = {key for key in keys if key not in self.per_day}
        if not keys:
            return
        self.per_day.update(dict.fromkeys(keys, 0))
        days = [day for _client, day in keys]
        stored = Battle.objects.filter(
            client_hash__in={client for client, _day in keys},
            status=BattleStatus.VOTED,
            finished_at__gte=datetime.fromtimestamp(min(days) * DAY, tz=UTC),
            finished_at__lt=datetime.fromtimestamp(max(days) * DAY, tz=UTC) + timedelta(days=1),
        )
        for client, finished in stored.values_list("client_hash", "finished_at").iterator():
            key = (client, int(finished.timestamp() // DAY))
            if key in keys:
                self.per_day[key] += 1

    def _variants(self, lines: list[BattleLine], *, write: bool) -> dict[str, ModelVariant]:
        """The variants the lines name: external ones, made for names not seen before (when `write`). A name
        of one of our own variants is an error on each line that uses it."""
        names = {name for line in lines for name in (line.model_a, line.model_b)}
        found = {v.name: v for v in ModelVariant.objects.filter(name__in=names)}
        external = set(ExternalVariant.objects.filter(variant__name__in=names).values_list("variant__name", flat=True))
        local = {name for name in found if name not in external}
        for line in lines:
            clash = [name for name in (line.model_a, line.model_b) if name in local]
            if clash:
                self.report.add_error(
                    line.line_no,
                    _(
                        "%(names)s is the name of one of this app's own models; a log's models are kept as external "
                        "models under their own names, so rename it in the log"
                    )
                    % {"names": ", ".join(repr(name) for name in clash)},
                )
        variants = {name: variant for name, variant in found.items() if name in external}
        missing = sorted(names - set(found))
        if write and missing:
            ModelVariant.objects.bulk_create(
                [
                    ModelVariant(
                        name=name,
                        kind=VariantKind.BASE,
                        status=VariantStatus.FAILED,  # never servable: variant_ref refuses it
                        source=f"arena log {self.origin}"[:500],
                        lineage={"external": {"origin": self.origin}},
                    )
                    for name in missing
                ]
            )
            made = list(ModelVariant.objects.filter(name__in=missing))  # SQLite's bulk_create may not set pks
            ExternalVariant.objects.bulk_create([ExternalVariant(variant=v, origin=self.origin) for v in made])
            variants.update((v.name, v) for v in made)
        elif missing:
            variants.update((name, ModelVariant(name=name)) for name in missing)
        return variants

    def _write(self, lines: list[BattleLine], variants: dict[str, ModelVariant]) -> None:
        now = timezone.now()
        Battle.objects.bulk_create([self._battle(line, variants, now) for line in lines])
        # read back: SQLite's bulk_create may not set the new rows' primary keys
        by_id = {b.external_id: b for b in Battle.objects.filter(external_id__in=[line.question_id for line in lines])}
        records = PreferenceRecord.objects.bulk_create(
            [self._record(line, by_id[line.question_id], variants, now) for line in lines if line.turn == 1]
        )
        records_by_id = {
            r.external_id: r
            for r in PreferenceRecord.objects.filter(external_id__in=[_record_id(line) for line in lines])
        }
        Vote.objects.bulk_create(
            [
                Vote(
                    battle=by_id[line.question_id],
                    preference=records_by_id.get(_record_id(line)),
                    outcome=line.outcome,
                    language=self._language(line.language),
                    variant_a=variants[line.model_a],
                    variant_b=variants[line.model_b],
                    identity_revealed=not line.anony,
                    excluded=self._excluded(line.client_hash),
                    client_hash=line.client_hash,
                    origin=self.origin,
                )
                for line in lines
            ]
        )
        arena_mark(battle.pk for battle in by_id.values())  # the battles and their votes, for the arena's tallies
        self.report.count("battles", created=len(lines))
        self.report.count("battle pairs", created=len(records))

    def _battle(self, line: BattleLine, variants: dict[str, ModelVariant], now: datetime) -> Battle:
        finished = now if line.tstamp is None else datetime.fromtimestamp(line.tstamp, tz=UTC)
        return Battle(
            mode=BattleMode.ANONYMOUS if line.anony else BattleMode.NAMED,
            status=BattleStatus.VOTED,
            language=self._language(line.language),
            prompt=line.prompt,
            variant_a=variants[line.model_a],
            variant_b=variants[line.model_b],
            response_a=line.conversation_a[-1]["content"],
            response_b=line.conversation_b[-1]["content"],
            client_hash=line.client_hash,
            finished_at=finished,
            origin=self.origin,
            external_id=line.question_id,
            turn=line.turn,
            conversation_a=line.conversation_a,
            conversation_b=line.conversation_b,
            metadata={"content_hash": line.content_hash, "tstamp": line.tstamp, "log": line.extra},
        )

    def _record(
        self, line: BattleLine, battle: Battle, variants: dict[str, ModelVariant], now: datetime
    ) -> PreferenceRecord:
        answer_a, answer_b = battle.response_a, battle.response_b
        return PreferenceRecord(
            external_id=_record_id(line),
            content_hash=content_hash(line.prompt, answer_a, answer_b),
            prompt=line.prompt,
            response_a=answer_a,
            response_b=answer_b,
            prompt_text=line.prompt,
            outcome=line.outcome,
            source=Source.ARENA,
            origin=self.origin,
            language=self._language(line.language),
            model_a=line.model_a,
            model_b=line.model_b,
            client_hash=line.client_hash,
            metadata={"battle": line.question_id, "mode": battle.mode, "identity_revealed": not line.anony},
            deleted_at=now if self._excluded(line.client_hash) else None,
        )

    def _language(self, code: str) -> Language:
        if code not in self.languages:
            self.languages[code] = language_get_or_create(code)
        return self.languages[code]

    def _excluded(self, client: str) -> bool:
        if client not in self.excluded:
            self.excluded[client] = ExcludedClient.objects.filter(client_hash=client).exists()
        return self.excluded[client]


def _record_id(line: BattleLine) -> str:
    return f"arena-log-{line.question_id}"


import_formats.register(
    NAME,
    ImportFormat(
        name=NAME,
        description=gettext_noop("a Chatbot Arena battle (question_id, model_a, model_b, winner, conversations)"),
        convert=arena_records,
        sink=BattleSink,
    ),
)


# --- Export --------------------------------------------------------------------------------------


def arena_rows(spec: ExportSpec) -> Iterator[dict[str, Any]]:
    """The voted battles of the origins `spec` names (the arena's own when none), oldest first, as log records.
    Votes of excluded clients are left out; `judge` is the client hash (never an address)."""
    votes = Vote.objects.filter(origin__in=list(spec.origins) or [ORIGIN_LOCAL], excluded=False)
    if spec.languages:
        votes = votes.filter(language_id__in=spec.languages)
    if spec.since:
        votes = votes.filter(created_at__gte=spec.since)
    if spec.until:
        votes = votes.filter(created_at__lt=spec.until)
    votes = votes.filter(Q(preference__isnull=True) | Q(preference__deleted_at__isnull=True))
    related = ("battle", "variant_a", "variant_b")
    for vote in votes.select_related(*related).order_by("id").iterator(chunk_size=2000):
        yield _log_record(vote)


def _log_record(vote: Vote) -> dict[str, Any]:
    battle = vote.battle
    metadata = battle.metadata or {}
    tstamp = metadata.get("tstamp") or vote.created_at.timestamp()
    return {
        **(metadata.get("log") or {}),
        "question_id": battle.external_id or battle.token.hex,
        "model_a": vote.variant_a.name,
        "model_b": vote.variant_b.name,
        "winner": WINNER_OF[vote.outcome],
        "judge": vote.client_hash,
        "conversation_a": battle.conversation_a or _one_turn(battle.prompt, battle.response_a),
        "conversation_b": battle.conversation_b or _one_turn(battle.prompt, battle.response_b),
        "turn": battle.turn,
        "anony": not vote.identity_revealed,
        "language": vote.language_id,
        "tstamp": round(float(tstamp), 4),
    }


def _one_turn(prompt: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


export_formats.register(NAME, ExportFormat(NAME, arena_rows))
