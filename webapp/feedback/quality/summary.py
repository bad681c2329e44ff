"""The review report read from the summary (quality/fold.py): per-(campaign, language, view) sums,
finished by additive.py, and the lists a page at a time with a keyset cursor: tasks and gold misses
newest task first, flagged items most flags first, cross-lingual consistency most inconsistent first.
The cost is the number of summary rows (campaigns x languages x views, and the annotators in them) and
one page of each list, whatever the number of annotations. Equal to review.review_report (the full
recomputation) as of the last fold, which the report carries (`as_of`), with the rows still pending when
it is behind.

A read folds first when fewer than REVIEW_FOLD_ON_READ rows are pending, so the report is current with
no worker running; more are left to the periodic fold (workers/tasks/review.py). Campaign deletion is
seen at once (its rows are left out here); skips, like trust.load_skips, count in deleted campaigns
until their tasks are deleted.

The same sums give the home page's figures (`summary_overview`: tasks open and done, annotations and
agreement per language) and the trust weights pair derivation takes (`summary_trust_weights`), read the
same way."""

import base64
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.models import ConsistencyRow, ReviewState, ReviewSummary, TaskStats
from webapp.feedback.quality.additive import add, alpha_from_coincidences, histogram_median
from webapp.feedback.quality.agreement import trust_scores, wilson_interval
from webapp.feedback.quality.fold import review_catch_up, review_pending, review_state
from webapp.feedback.quality.judges import Anchoring, JudgeAgreement
from webapp.feedback.quality.review import TASK_ROWS, AgreementRow, Report
from webapp.feedback.quality.trust import AnnotatorQuality, human_source

LIST_ROWS = 100  # flagged tasks and tasks with gold misses per page
PENDING_CAP = 1_000_000  # pending rows are counted up to this, per stream
READ_FOLD_ROWS = 500  # rows per stream in each of a read's folds


@dataclass(frozen=True)
class Cursors:
    """Where each list's page starts (None: its first page), as the report's `next` gave them."""

    tasks: str | None = None
    flagged: str | None = None
    gold_misses: str | None = None
    consistency: str | None = None


def summary_report(
    *,
    campaign_id: int | None = None,
    language: str | None = None,
    source: str | None = None,
    cursors: Cursors = Cursors(),  # noqa: B008  (frozen, never mutated)
) -> Report:
    """review.review_report's figures, from the summary; see the module docstring."""
    human_source(source)  # the same refusal of a bad source
    view = source or ""
    state, pending = summary_read()
    scope = {"view": view}
    if campaign_id is not None:
        scope["campaign_id"] = campaign_id
    if language:
        scope["language"] = language
    rows = list(
        ReviewSummary.objects.filter(**scope).values_list("campaign__name", "campaign__deleted_at", "language", "data")
    )
    alive = [(name, lang, data) for name, deleted, lang, data in rows if deleted is None]
    skips: dict[str, dict] = defaultdict(dict)
    for _name, _deleted, lang, data in rows:
        add(skips[lang], data.get("skips", {}))
    tasks, tasks_next = _tasks(scope, cursors.tasks)
    flagged, flagged_next = _flagged(scope, cursors.flagged)
    misses, misses_next = _misses(scope, cursors.gold_misses)
    consistency, consistency_next = _consistency(scope, cursors.consistency)
    return Report(
        agreement=_agreement_rows(alive),
        annotators=_annotators(alive, skips),
        gold_misses=misses,
        consistency=consistency,
        position_bias=_position_bias(alive),
        flagged=flagged,
        tasks=tasks,
        judges=_judges(alive),
        anchoring=[] if source == "import" else _anchoring(alive),
        as_of=as_of(state, pending),
        pending=pending,
        next={
            "tasks": tasks_next,
            "flagged": flagged_next,
            "gold_misses": misses_next,
            "consistency": consistency_next,
        },
    )


def summary_read() -> tuple[ReviewState, int]:
    """The state to read the summary at, and the rows still pending: a read folds first when at most
    REVIEW_FOLD_ON_READ rows are pending (module docstring)."""
    state = review_state()
    pending = review_pending(state, settings.REVIEW_FOLD_ON_READ + 1)
    if 0 < pending <= settings.REVIEW_FOLD_ON_READ:
        # In short folds, so a submit waits for one of them at most (SQLite has one writer); bounded, so
        # rows arriving meanwhile are left to the next read.
        review_catch_up(READ_FOLD_ROWS, rounds=-(-pending // READ_FOLD_ROWS))
        state = review_state()
        pending = review_pending(state, PENDING_CAP)
    elif pending:
        pending = review_pending(state, PENDING_CAP)
    return state, pending


def as_of(state: ReviewState, pending: int) -> datetime | None:
    """When the figures are from: now when nothing is pending (they are those of a full recomputation now),
    else the last fold (None: never folded)."""
    return timezone.now() if not pending else state.as_of


@dataclass(frozen=True)
class Overview:
    """The home page's figures (webapp/pages/dashboard.py), from the summary of every human ranking (view
    ""), alive campaigns only: the overall agreement row, and per language the alive tasks, those done (slots
    taken at least the campaign's overlap), the annotations and, where there are any, alpha and pairwise
    agreement; and the alive preference records per language and source. Equal to the full recomputation as
    of `as_of`."""

    agreement: AgreementRow
    languages: dict[str, dict]
    records: dict[str, dict[str, int]]  # alive preference records: {language: {source: n}}
    as_of: datetime | None
    pending: int


AGREEMENT_KEYS = ("annotations", "tasks", "o", "same", "pairs")  # what _agreement reads of a part


def summary_overview() -> Overview:
    state, pending = summary_read()
    rows = ReviewSummary.objects.filter(view="", campaign__deleted_at__isnull=True).values_list(
        "campaign__overlap", "language", "data"
    )
    sums: dict[str, dict] = defaultdict(dict)
    tasks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for overlap, lang, data in rows:
        add(sums[lang], {key: data[key] for key in AGREEMENT_KEYS if key in data})
        for slots, n in data.get("slots", {}).items():
            tasks[lang][0] += n
            tasks[lang][1] += n if int(slots) >= overlap else 0
    languages: dict[str, dict] = {}
    for lang in sorted(set(sums) | set(tasks)):
        total, done = tasks[lang]
        data = sums.get(lang, {})
        languages[lang] = {
            "tasks": total,
            "done": done,
            "open": total - done,
            "annotations": data.get("annotations", 0),
        }
        if data.get("annotations"):
            row = _agreement("", lang, data)
            languages[lang].update(alpha=row.alpha, pairwise=row.pairwise)
    records = {lang: dict(sorted(counts.items())) for lang, counts in sorted((state.records or {}).items())}
    return Overview(_agreement("", "", _sum(sums.values())), languages, records, as_of(state, pending), pending)


def summary_trust_weights() -> dict[tuple[int, str], float]:
    """trust.trust_weights from the summary (every human ranking, as the review report's annotators)."""
    _state, _pending = summary_read()
    rows = list(ReviewSummary.objects.filter(view="").values_list("campaign__deleted_at", "language", "data"))
    alive = [("", lang, data) for deleted, lang, data in rows if deleted is None]
    skips: dict[str, dict] = defaultdict(dict)
    for _deleted, lang, data in rows:
        add(skips[lang], data.get("skips", {}))
    return {(row.annotator_id, row.language): row.trust for row in _annotators(alive, skips)}


def _sum(parts) -> dict:
    total: dict = {}
    for part in parts:
        add(total, part)
    return total


def _agreement(campaign: str, language: str, data: dict) -> AgreementRow:
    multi = data.get("tasks", 0)
    return AgreementRow(
        campaign=campaign,
        language=language,
        tasks=multi,
        annotations=data.get("annotations", 0),
        alpha=alpha_from_coincidences(data.get("o", {})) if multi else None,
        pairwise=data.get("same", 0) / data["pairs"] if multi and data.get("pairs") else None,
    )


def _agreement_rows(alive: list[tuple[str, str, dict]]) -> list[AgreementRow]:
    """Overall first, then per campaign, then per campaign and language (as review.agreement_rows)."""
    by_campaign: dict[str, list[dict]] = defaultdict(list)
    by_both: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for name, lang, data in alive:
        if data.get("annotations"):
            by_campaign[name].append(data)
            by_both[(name, lang)].append(data)
    rows = [_agreement("", "", _sum(data for _n, _l, data in alive))]
    rows += [_agreement(c, "", _sum(group)) for c, group in sorted(by_campaign.items())]
    rows += [_agreement(c, lang, _sum(group)) for (c, lang), group in sorted(by_both.items())]
    return rows


def _annotators(alive: list[tuple[str, str, dict]], skips: dict[str, dict]) -> list[AnnotatorQuality]:
    people: dict[str, dict] = defaultdict(dict)
    for _name, lang, data in alive:
        add(people[lang], data.get("people", {}))
    ids = {int(a) for lang in people.values() for a in lang} | {int(a) for lang in skips.values() for a in lang}
    names = {str(pk): name for pk, name in User.objects.filter(pk__in=ids).values_list("pk", "username")}
    rows = []
    for lang in set(people) | {lang for lang, counts in skips.items() if counts}:
        rows.extend(_language_quality(lang, people.get(lang, {}), skips.get(lang, {}), names))
    return sorted(rows, key=lambda r: (r.language, -r.trust, r.annotator))


def _language_quality(language: str, people: dict, skipped: dict, names: dict) -> list[AnnotatorQuality]:
    """trust._language_quality from the summed parts."""
    done = {a: p.get("n", 0) for a, p in people.items()}
    agreement = {a: p.get("same", 0) / p["pairs"] for a, p in people.items() if p.get("pairs")}
    gold = {a: p.get("gold", 0) / p["gold_n"] for a, p in people.items() if p.get("gold_n")}
    medians = {a: m for a, p in people.items() if (m := histogram_median(p.get("sec", {}))) is not None}
    everyone = set(done) | set(skipped)
    skip_rate = {a: skipped.get(a, 0) / (skipped.get(a, 0) + done.get(a, 0)) for a in everyone}
    trust = trust_scores(agreement=agreement, gold=gold, skip_rate=skip_rate, median_seconds=medians)
    return [
        AnnotatorQuality(
            annotator_id=int(a),
            annotator=names.get(a, ""),
            language=language,
            annotations=done.get(a, 0),
            agreement=agreement.get(a),
            gold_items=int(people.get(a, {}).get("gold_n", 0)),
            gold_accuracy=gold.get(a),
            median_seconds=medians.get(a),
            skips=int(skipped.get(a, 0)),
            skip_rate=skip_rate[a],
            trust=trust[a],
        )
        for a in everyone
    ]


def _position_bias(alive: list[tuple[str, str, dict]]) -> list[dict]:
    bias: dict[str, dict] = defaultdict(dict)
    for _name, lang, data in alive:
        add(bias[lang], data.get("bias", {}))
    return [
        {
            "language": lang,
            "n": int(row["n"]),
            "first_top_share": row.get("credit", 0) / row["n"],
            "expected_share": row.get("chance", 0) / row["n"],
        }
        for lang, row in sorted(bias.items())
        if row.get("n")
    ]


def _judges(alive: list[tuple[str, str, dict]]) -> list[JudgeAgreement]:
    judges: dict[tuple[str, str], dict] = defaultdict(dict)
    for _name, lang, data in alive:
        for judge, entry in data.get("judges", {}).items():
            add(judges[(judge, lang)], entry)
    rows = []
    for (judge, lang), entry in sorted(judges.items()):
        if not entry.get("labelled"):
            continue
        agreed, compared = int(entry.get("agreed", 0)), int(entry.get("compared", 0))
        interval = wilson_interval(successes=agreed, n=compared)
        rows.append(
            JudgeAgreement(
                judge=judge,
                language=lang,
                labelled=int(entry["labelled"]),
                tasks=int(entry.get("tasks", 0)),
                n_tasks=int(entry.get("n_tasks", 0)),
                n_pairs=compared,
                agreed=agreed,
                agreement=agreed / compared if compared else None,
                ci_low=interval[0] if interval else None,
                ci_high=interval[1] if interval else None,
                abstentions=int(entry.get("abstained", 0)),
                alpha=alpha_from_coincidences(entry.get("o", {})) if entry.get("tasks") else None,
            )
        )
    return rows


def _anchoring(alive: list[tuple[str, str, dict]]) -> list[Anchoring]:
    """judges.anchoring from the summed counts (live annotators' rankings, whatever the view)."""
    counts: dict[tuple[str, str], dict] = defaultdict(dict)
    for _name, lang, data in alive:
        for judge, entry in data.get("anchoring", {}).items():
            add(counts[(judge, lang)], entry)

    def share(entry: dict, part: str, of: str) -> float | None:
        return entry.get(part, 0) / entry[of] if entry.get(of) else None

    return [
        Anchoring(
            judge=judge,
            language=lang,
            suggested=int(entry.get("suggested", 0)),
            kept=int(entry.get("suggested_equal", 0)),
            keep_rate=share(entry, "suggested_equal", "suggested"),
            suggested_agreement=share(entry, "suggested_same", "suggested_pairs"),
            held_out=int(entry.get("held_out", 0)),
            matched=int(entry.get("held_out_equal", 0)),
            match_rate=share(entry, "held_out_equal", "held_out"),
            held_out_agreement=share(entry, "held_out_same", "held_out_pairs"),
        )
        for (judge, lang), entry in sorted(counts.items())
        if entry.get("suggested") or entry.get("held_out")
    ]


def _consistency(scope: dict, cursor: str | None) -> tuple[list[dict], str | None]:
    """Most inconsistent first (agreement.cross_lingual_consistency's order), a page at a time from the
    index (models.ConsistencyRow). A language filter leaves every group one language: nothing to compare."""
    if "language" in scope:
        return [], None
    rows = ConsistencyRow.objects.filter(scope=scope.get("campaign_id", 0), view=scope["view"])
    after = _consistency_cursor(cursor)
    if after:
        missing, tau, flips, name = after
        later = RawSQL(
            "(tau_missing, tau, order_flips, sort_name) > (%s, %s, %s, %s)",
            (missing, tau, flips, bytes.fromhex(name)),
            output_field=BooleanField(),
        )
        rows = rows.alias(later=later).filter(later=True)
    page = list(
        rows.order_by(*ORDER).values_list("tau_missing", "tau", "order_flips", "sort_name", "data")[: LIST_ROWS + 1]
    )
    items = [row[-1] for row in page[:LIST_ROWS]]
    if len(page) <= LIST_ROWS:
        return items, None
    missing, tau, flips, name, _data = page[LIST_ROWS - 1]
    return items, base64.urlsafe_b64encode(json.dumps([missing, tau, flips, bytes(name).hex()]).encode()).decode()


ORDER = ("tau_missing", "tau", "order_flips", "sort_name")


def _consistency_cursor(raw: str | None) -> list | None:
    if raw in (None, ""):
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(raw.encode()))
        missing, tau, flips, name = key
        if not (
            isinstance(missing, bool)
            and isinstance(tau, float | int)
            and not isinstance(tau, bool)
            and math.isfinite(tau)
            and isinstance(flips, int)
            and not isinstance(flips, bool)
            and -(2**31) < flips <= 0
            and isinstance(name, str)
            and len(name) <= 2000
        ):
            raise ValueError(raw)
        bytes.fromhex(name)
    except (ValueError, TypeError, UnicodeError):
        raise ApplicationError(
            _("%(name)s is not a cursor this report gave; follow its next link") % {"name": "consistency_cursor"},
            extra={"field": "consistency_cursor"},
        ) from None
    return key


# --- the lists, a page at a time ------------------------------------------------------------------


def _cursor_ints(raw: str | None, parts: int, name: str) -> list[int] | None:
    if raw in (None, ""):
        return None
    values = raw.split(".")
    if len(values) != parts or not all(v.isdigit() and len(v) < 19 for v in values):
        raise ApplicationError(
            _("%(name)s is not a cursor this report gave; follow its next link") % {"name": name},
            extra={"field": name},
        )
    return [int(v) for v in values]


def _listed(scope: dict, condition: dict):
    return TaskStats.objects.filter(**scope, **condition, campaign__deleted_at__isnull=True)


def _tasks(scope: dict, cursor: str | None) -> tuple[list[dict], str | None]:
    rows = _listed(scope, {"annotations__gt": 0}).order_by("-task_id")
    after = _cursor_ints(cursor, 1, "tasks_cursor")
    if after:
        rows = rows.filter(task_id__lt=after[0])
    page = list(rows.values_list("task_id", "language", "annotations", "row", "task__prompt__text")[: TASK_ROWS + 1])
    items = [
        {
            "task": task_id,
            "language": lang,
            "prompt": (prompt or "")[:160],
            "annotations": annotations,
            "best": row["best"],
            "best_model": row["best_model"],
            "gold": row.get("gold"),
            "agreement": row["agreement"],
            "excluded": row["excluded"],
        }
        for task_id, lang, annotations, row, prompt in page[:TASK_ROWS]
    ]
    return items, str(page[TASK_ROWS - 1][0]) if len(page) > TASK_ROWS else None


def _names(ids) -> dict[int, str]:
    return dict(User.objects.filter(pk__in=set(ids)).values_list("pk", "username"))


def _flagged(scope: dict, cursor: str | None) -> tuple[list[dict], str | None]:
    """Most flags first, then by task (review.flagged_items' order)."""
    rows = _listed(scope, {"flag_count__gt": 0}).order_by("-flag_count", "task_id")
    after = _cursor_ints(cursor, 2, "flagged_cursor")
    if after:
        flags, task_id = after
        rows = rows.filter(flag_count__lte=flags).exclude(flag_count=flags, task_id__lte=task_id)
    page = list(rows.values_list("task_id", "language", "flag_count", "row")[: LIST_ROWS + 1])
    names = _names(note["annotator"] for *_rest, row in page for note in row["flagged"]["notes"])
    items = [
        {
            "task": task_id,
            "language": lang,
            "flags": row["flagged"]["flags"],
            "notes": [{**note, "annotator": names.get(note["annotator"], "")} for note in row["flagged"]["notes"]],
        }
        for task_id, lang, _count, row in page[:LIST_ROWS]
    ]
    last = page[LIST_ROWS - 1] if len(page) > LIST_ROWS else None
    return items, f"{last[2]}.{last[0]}" if last else None


def _misses(scope: dict, cursor: str | None) -> tuple[list[dict], str | None]:
    """Tasks with gold misses, newest first; each task's misses in annotation order."""
    rows = _listed(scope, {"miss_count__gt": 0}).order_by("-task_id")
    after = _cursor_ints(cursor, 1, "gold_misses_cursor")
    if after:
        rows = rows.filter(task_id__lt=after[0])
    page = list(rows.values_list("task_id", "language", "row")[: LIST_ROWS + 1])
    names = _names(miss["annotator"] for _t, _l, row in page for miss in row["misses"])
    items = [
        {
            "task": task_id,
            "language": lang,
            "annotator": names.get(miss["annotator"], ""),
            "top": miss["top"],
            "gold": row.get("gold"),
        }
        for task_id, lang, row in page[:LIST_ROWS]
        for miss in row["misses"]
    ]
    return items, str(page[LIST_ROWS - 1][0]) if len(page) > LIST_ROWS else None
