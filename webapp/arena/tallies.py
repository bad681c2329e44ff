"""The arena's folded statistics and its change token (docs/architecture.md, "Arena at scale"), so the statistics
page, the leaderboard and the home page's ratings read a few summary rows, never every vote.

- Marks. Whatever changes a battle or its vote inserts an `ArenaDirty` row naming the battle, in the writer's
  transaction, and nothing else: a battle or a vote saved (signals, `connect`), a battle log imported, a client
  excluded or counted again, a vote's preference record deleted or restored (feedback's `records_changed`
  signal). A change the ratings read that is not a battle's (style measures backfilled, prompt groups rebuilt)
  inserts a marker with no battle (`arena_touch`). Writers never update a summary row.
- Fold. `arena_fold` reads the oldest markers, takes each marked battle's last folded state
  (`ArenaBattleState`) out of the tallies and puts its current state in, and deletes the markers it read by id
  (a marker committed meanwhile waits for the next fold). One fold at a time: a lock on PostgreSQL; SQLite
  serialises writers.
- Token. `arena_token()` is the number of markers ever committed: the markers folded (`ArenaState.folded`) plus
  those pending, read in one statement, so a fold never changes it and every change does. The fits and the vote
  hygiene are cached under it (webapp/arena/selectors.py), in the process and in `ArenaFit` for other processes.
- When. A read folds what is pending first when that is at most ARENA_FOLD_ON_READ markers (exact with no
  worker); beyond that it folds that many, asks the sweep for the rest (workers/tasks/arena.py `fold_arena`, also
  every ARENA_FOLD_SECONDS), and the page says as of when and how many changes wait."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone

from webapp.arena.models import (
    ArenaBattleState,
    ArenaClientTally,
    ArenaDayTally,
    ArenaDirty,
    ArenaState,
    ArenaTally,
    Battle,
    Vote,
)
from webapp.feedback.signals import records_changed
from webapp.queue import send_task

LOCK = 0xA7E4A  # the fold's PostgreSQL advisory lock
CHUNK = 1000  # battles per read, marker ids per DELETE
TALLY_KEY = ("voted", "language", "origin", "outcome", "excluded", "revealed", "counting")
STATE_FIELDS = (
    "voted",
    "language",
    "origin",
    "outcome",
    "day",
    "client_hash",
    "excluded",
    "revealed",
    "counting",
    "voted_at",
)
# The models the fold writes: these, or a migration's (arena_rebuild(apps)).
LIVE = SimpleNamespace(
    Battle=Battle,
    ArenaBattleState=ArenaBattleState,
    ArenaTally=ArenaTally,
    ArenaDayTally=ArenaDayTally,
    ArenaClientTally=ArenaClientTally,
)
BATTLE_ONLY = {"voted": False, "language": "", "origin": "", "outcome": "", "excluded": False, "revealed": False}


# --- Marks ---------------------------------------------------------------------------------------------------


def arena_mark(battle_ids: Iterable[int]) -> None:
    """One marker per battle changed (it, or its vote)."""
    rows = [ArenaDirty(battle_id=pk) for pk in dict.fromkeys(battle_ids)]
    ArenaDirty.objects.bulk_create(rows, batch_size=2000)


def arena_touch() -> None:
    """Something the ratings read changed that no battle marker names (style measures, prompt groups)."""
    ArenaDirty.objects.create(battle_id=None)


def _battle_saved(sender, instance: Battle, created: bool = False, **kwargs) -> None:
    if created:
        ArenaDirty.objects.create(battle_id=instance.pk)


def _vote_saved(sender, instance: Vote, **kwargs) -> None:
    ArenaDirty.objects.create(battle_id=instance.battle_id)


def _records_changed(sender, record_ids: list[int], **kwargs) -> None:
    """Preference records deleted or restored: the battles whose votes they are (an INSERT ... SELECT per
    CHUNK records, within SQLite's limit on bound parameters)."""
    table = connection.ops.quote_name(ArenaDirty._meta.db_table)
    for start in range(0, len(record_ids), CHUNK):
        votes = Vote.objects.filter(preference_id__in=record_ids[start : start + CHUNK]).values("battle_id")
        sql, params = votes.order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (battle_id) {sql}", params)  # noqa: S608


def connect() -> None:
    post_save.connect(_battle_saved, sender=Battle, dispatch_uid="arena_battle_saved")
    post_save.connect(_vote_saved, sender=Vote, dispatch_uid="arena_vote_saved")
    records_changed.connect(_records_changed, dispatch_uid="arena_records_changed")


# --- Token ---------------------------------------------------------------------------------------------------


def arena_token() -> int:
    """The number of markers ever committed (folded + pending), in one statement: it moves with every change
    to the votes or to what the ratings read, and never with a fold."""
    state = connection.ops.quote_name(ArenaState._meta.db_table)
    dirty = connection.ops.quote_name(ArenaDirty._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE((SELECT folded FROM {state} WHERE id = 1), 0) + (SELECT COUNT(*) FROM {dirty})"  # noqa: S608
        )
        return int(cursor.fetchone()[0])


# --- Fold ----------------------------------------------------------------------------------------------------


def arena_fold(limit: int | None = None) -> int:
    """Fold the oldest `limit` markers (ARENA_FOLD_BATCH) in one transaction; returns the markers folded."""
    limit = limit or settings.ARENA_FOLD_BATCH
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        marks = list(ArenaDirty.objects.order_by("pk").values_list("pk", "battle_id")[:limit])
        if not marks:
            return 0
        battles = sorted({battle for _pk, battle in marks if battle is not None})
        for start in range(0, len(battles), CHUNK):
            _refold(battles[start : start + CHUNK])
        ids = [pk for pk, _battle in marks]
        for start in range(0, len(ids), CHUNK):
            ArenaDirty.objects.filter(pk__in=ids[start : start + CHUNK]).delete()
        state, _created = ArenaState.objects.get_or_create(pk=1)
        ArenaState.objects.filter(pk=1).update(folded=state.folded + len(ids), as_of=timezone.now())
    return len(ids)


def arena_pending(cap: int) -> int:
    """Markers not folded yet, counted up to `cap`."""
    return ArenaDirty.objects.all()[:cap].count()


def arena_catch_up() -> int:
    """Before a read: fold what is pending when that is at most ARENA_FOLD_ON_READ markers; beyond that, fold
    that many and leave the rest to the sweep. Returns the markers still pending (counted up to the cap + 1)."""
    cap = settings.ARENA_FOLD_ON_READ
    pending = ArenaDirty.objects.order_by("pk")[: cap + 1].count()
    if not pending:
        return 0
    if cap:
        arena_fold(cap)
    if pending > cap:
        send_task("workers.tasks.arena.fold_arena", args=[], queue="sweep")  # the markers are committed
        return arena_pending(cap + 1)
    return 0


def current_states(battle_ids: list[int], m: SimpleNamespace = LIVE) -> dict[int, dict[str, Any]]:
    """Each battle's state as the tallies count it (battles that no longer exist are left out)."""
    rows = m.Battle.objects.filter(pk__in=battle_ids).values_list(
        "pk",
        "vote__id",
        "vote__language_id",
        "vote__origin",
        "vote__outcome",
        "vote__created_at",
        "vote__client_hash",
        "vote__excluded",
        "vote__identity_revealed",
        "vote__preference_id",
        "vote__preference__deleted_at",
    )
    states = {}
    for pk, vote, language, origin, outcome, at, client, excluded, revealed, record, deleted in rows:
        if vote is None:
            states[pk] = {**BATTLE_ONLY, "day": None, "client_hash": "", "counting": False, "voted_at": None}
            continue
        states[pk] = {
            "voted": True,
            "language": language,
            "origin": origin,
            "outcome": outcome,
            "day": timezone.localdate(at, timezone.get_default_timezone()),
            "client_hash": client,
            "excluded": excluded,
            "revealed": revealed,
            # rating_votes(): not excluded, not revealed, its record (when it has one) not deleted
            "counting": not excluded and not revealed and (record is None or deleted is None),
            "voted_at": at,
        }
    return states


class _Deltas:
    def __init__(self) -> None:
        self.tally: dict[tuple, int] = defaultdict(int)
        self.day: dict[date, int] = defaultdict(int)
        self.client: dict[str, list] = {}

    def add(self, state: dict[str, Any], sign: int) -> None:
        # every battle counts once with voted False; a vote also once under its own key
        self.tally[tuple(BATTLE_ONLY.values()) + (False,)] += sign
        if not state["voted"]:
            return
        self.tally[tuple(state[name] for name in TALLY_KEY)] += sign
        self.day[state["day"]] += sign
        client = self.client.setdefault(state["client_hash"], [0, 0, None])
        client[0] += sign
        client[1] += sign if state["excluded"] else 0
        if sign > 0 and (client[2] is None or state["voted_at"] > client[2]):
            client[2] = state["voted_at"]


def _refold(battle_ids: list[int], m: SimpleNamespace = LIVE) -> None:
    old = {row["battle_id"]: row for row in m.ArenaBattleState.objects.filter(pk__in=battle_ids).values()}
    new = current_states(battle_ids, m)
    deltas = _Deltas()
    for pk in battle_ids:
        if old.get(pk) is not None:
            deltas.add(old[pk], -1)
        if new.get(pk) is not None:
            deltas.add(new[pk], +1)
    m.ArenaBattleState.objects.filter(pk__in=[pk for pk in old if pk not in new]).delete()
    m.ArenaBattleState.objects.bulk_create(
        [m.ArenaBattleState(battle_id=pk, **state) for pk, state in new.items()],
        update_conflicts=True,
        unique_fields=["battle_id"],
        update_fields=list(STATE_FIELDS),
        batch_size=1000,
    )
    _apply_tallies(deltas.tally, m.ArenaTally)
    _apply_days(deltas.day, m.ArenaDayTally)
    _apply_clients(deltas.client, m.ArenaClientTally)


def _apply_tallies(deltas: dict[tuple, int], ArenaTally: Any) -> None:  # noqa: N803
    deltas = {key: n for key, n in deltas.items() if n}
    if not deltas:
        return
    where = Q()
    for key in deltas:
        where |= Q(**dict(zip(TALLY_KEY, key, strict=True)))
    stored = {tuple(row[:-1]): row[-1] for row in ArenaTally.objects.filter(where).values_list(*TALLY_KEY, "n")}
    rows = [ArenaTally(**dict(zip(TALLY_KEY, key, strict=True)), n=stored.get(key, 0) + n) for key, n in deltas.items()]
    ArenaTally.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=list(TALLY_KEY), update_fields=["n"], batch_size=1000
    )


def _apply_days(deltas: dict[date, int], ArenaDayTally: Any) -> None:  # noqa: N803
    deltas = {day: n for day, n in deltas.items() if n}
    if not deltas:
        return
    stored = dict(ArenaDayTally.objects.filter(day__in=list(deltas)).values_list("day", "n"))
    rows = [ArenaDayTally(day=day, n=stored.get(day, 0) + n) for day, n in deltas.items()]
    ArenaDayTally.objects.bulk_create(rows, update_conflicts=True, unique_fields=["day"], update_fields=["n"])
    ArenaDayTally.objects.filter(day__in=list(deltas), n__lte=0).delete()


def _apply_clients(deltas: dict[str, list], ArenaClientTally: Any) -> None:  # noqa: N803
    deltas = {client: d for client, d in deltas.items() if d[0] or d[1] or d[2] is not None}
    if not deltas:
        return
    stored = {
        row[0]: row[1:]
        for row in ArenaClientTally.objects.filter(pk__in=list(deltas)).values_list(
            "client_hash", "n", "excluded", "last"
        )
    }
    rows = []
    for client, (n, excluded, last) in deltas.items():
        had_n, had_excluded, had_last = stored.get(client, (0, 0, None))
        latest = max((at for at in (had_last, last) if at is not None), default=None)
        rows.append(ArenaClientTally(client_hash=client, n=had_n + n, excluded=had_excluded + excluded, last=latest))
    ArenaClientTally.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["client_hash"], update_fields=["n", "excluded", "last"]
    )
    ArenaClientTally.objects.filter(pk__in=list(deltas), n__lte=0).delete()


def arena_rebuild(apps: Any = None) -> int:
    """Every summary row from the battles and votes as they are (the migration's fill; a repair), the markers
    read before it dropped and counted as folded: returns the battles folded. `apps`: a migration's models."""
    m = SimpleNamespace(**{name: apps.get_model("arena", name) for name in vars(LIVE)}) if apps else LIVE
    dirty = apps.get_model("arena", "ArenaDirty") if apps else ArenaDirty
    state_model = apps.get_model("arena", "ArenaState") if apps else ArenaState
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        top = list(dirty.objects.values_list("pk", flat=True))
        for name in ("ArenaBattleState", "ArenaTally", "ArenaDayTally", "ArenaClientTally"):
            getattr(m, name).objects.all().delete()
        done, last = 0, 0
        while chunk := list(m.Battle.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]):
            _refold(chunk, m)
            done += len(chunk)
            last = chunk[-1]
        for start in range(0, len(top), CHUNK):
            dirty.objects.filter(pk__in=top[start : start + CHUNK]).delete()
        state, _created = state_model.objects.get_or_create(pk=1)
        state_model.objects.filter(pk=1).update(folded=state.folded + len(top), as_of=timezone.now())
    return done


# --- Reads ---------------------------------------------------------------------------------------------------


def arena_summary(*, days: int = 14, top_clients: int = 20) -> dict[str, Any]:
    """The statistics page's figures from the tallies (folded first, see `arena_catch_up`): totals, votes by
    language and by outcome, votes per day over the last `days` days (UTC, today included), the most active
    clients; with `as_of` and `pending` (changes not folded yet, 0 when exact)."""
    pending = arena_catch_up()
    tallies = list(ArenaTally.objects.filter(n__gt=0).values(*TALLY_KEY, "n"))
    votes = [row for row in tallies if row["voted"]]

    def total(rows: list[dict], **where: Any) -> int:
        return sum(row["n"] for row in rows if all(row[k] == v for k, v in where.items()))

    def grouped(name: str) -> list[dict]:
        sums: dict[str, int] = defaultdict(int)
        for row in votes:
            sums[row[name]] += row["n"]
        label = "language_id" if name == "language" else name
        return [{label: key, "n": n} for key, n in sorted(sums.items(), key=lambda item: (-item[1], item[0]))]

    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    since = today - timedelta(days=days - 1)
    state = ArenaState.objects.filter(pk=1).values_list("as_of", flat=True).first()
    return {
        "battles": total(tallies, voted=False),
        "votes": total(votes),
        "counting": total(votes, counting=True),
        "revealed": total(votes, revealed=True),
        "excluded_votes": total(votes, excluded=True),
        "by_language": grouped("language"),
        "by_outcome": grouped("outcome"),
        "by_day": list(ArenaDayTally.objects.filter(day__gte=since).order_by("day").values("day", "n")),
        "clients": list(
            ArenaClientTally.objects.order_by("-n", "client_hash").values("client_hash", "n", "excluded", "last")[
                :top_clients
            ]
        ),
        "as_of": state,
        "pending": pending,
    }
