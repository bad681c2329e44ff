"""The `kto` export: TRL's unpaired preference format, one answer per line labelled desirable or not.

    {"prompt": [...], "completion": [...], "label": true, "language": "de", "source": "arena", "id": ..., "group": ...}

`prompt` and `completion` are chat messages, as in the dpo export; `language`, `source`, `id` and `group`
ride along (TRL's KTOTrainer drops the columns it does not read). The labels come from the registered
unpaired sources (`unpaired_sources`, webapp/feedback/formats/registry.py), all of them unless
`kto_sources` names some, each reading the store through the export's selection (languages, sources and
origins, campaigns, time window, pair policy):

* `arena`: arena votes (preference records of source `arena`): the winner desirable, the loser
  undesirable; "both are bad" makes both undesirable; a tie labels nothing.
* `ranking`: ranking tasks whose aggregate emits pairs under the export's policy (pairs.py): the
  aggregated best response desirable when it is strictly best (a Copeland score above every other's),
  the worst undesirable when it is strictly worst; each side on its own.
* `verify`: written and edited answers (contribution tasks, services/contributing.py) that the verify votes
  decided, or a reviewer's override: accepted desirable, rejected undesirable; pending ones label nothing.
  `--source` naming sources without `verify` leaves them out; campaigns and the time window apply to the
  contribution task's campaign and the contribution's time.
* `flags`: a task that an `unsafe` flag, or an `all_bad`/`wrong_language` flag from a strict majority of
  its annotators, leaves out of pair derivation (`pairs.exclusion`): every response shown in it undesirable.

**One row per answer.** An answer is its (language, prompt, completion), compared as chat messages. When
several labels reach the same answer (from one source or several), the answer is undesirable if any label
is an `unsafe` flag; otherwise the majority of its labels decides, and a tie leaves it out. Its row is the
first label in source order that agrees with the decision, and `source` names that label's source.
The export reads the sources twice (a tally, then the rows), so memory holds one small count per answer.

`group` is the prompt's translation group, or for a prompt without one a key of the prompt, so every
answer to one prompt lands on the same side of a train/test split (splits.py)."""

from collections.abc import Iterator

from django.utils.translation import gettext_noop

from webapp.feedback import selectors, sources
from webapp.feedback.content import as_messages, content_hash
from webapp.feedback.formats.exporting import ExportSpec
from webapp.feedback.formats.pairs import derive_pairs, exclusion
from webapp.feedback.formats.registry import (
    ExportFormat,
    UnpairedLabel,
    UnpairedSource,
    export_formats,
    unpaired_sources,
)
from webapp.feedback.models import CampaignKind, Contribution, DemonstrationStatus, Outcome


def _arena_labels(spec: ExportSpec) -> Iterator[UnpairedLabel]:
    if spec.campaigns:  # records have no campaign: naming campaigns leaves them out, as in the pair formats
        return
    selection = sources.selected(spec.sources, spec.origins, (sources.Source.ARENA,), judges=spec.judges_admitted)
    if selection is None:
        return
    records = selectors.preference_records(languages=list(spec.languages), selection=selection, **spec.window())
    records = records.filter(outcome__in=(Outcome.A, Outcome.B, Outcome.BOTH_BAD))
    columns = ("prompt", "response_a", "response_b", "outcome", "language_id", "group")
    for r in records.values_list(*columns, named=True).iterator(chunk_size=2000):
        if r.outcome == Outcome.BOTH_BAD:
            yield UnpairedLabel(r.prompt, r.response_a, False, r.language_id, r.group)
            yield UnpairedLabel(r.prompt, r.response_b, False, r.language_id, r.group)
            continue
        winner, loser = (r.response_a, r.response_b) if r.outcome == Outcome.A else (r.response_b, r.response_a)
        yield UnpairedLabel(r.prompt, winner, True, r.language_id, r.group)
        yield UnpairedLabel(r.prompt, loser, False, r.language_id, r.group)


def _task_results(spec: ExportSpec):
    rankings = spec.rankings()
    if rankings is None:
        return
    tasks = selectors.tasks_for_pairs(
        languages=list(spec.languages), campaigns=list(spec.campaigns), rankings=rankings, **spec.window()
    )
    yield from derive_pairs(tasks.iterator(chunk_size=selectors.STREAM_CHUNK), spec.policy)


def _ranking_labels(spec: ExportSpec) -> Iterator[UnpairedLabel]:
    for result in _task_results(spec):
        agg, task = result.aggregate, result.task
        if not result.pairs or agg is None:
            continue
        best, worst = agg.strict_best(), agg.strict_worst()
        if best is not None:
            yield UnpairedLabel(
                task.prompt.content, result.responses[best].content, True, task.language_id, task.prompt.group
            )
        if worst is not None and worst != best:
            yield UnpairedLabel(
                task.prompt.content, result.responses[worst].content, False, task.language_id, task.prompt.group
            )


def _flag_labels(spec: ExportSpec) -> Iterator[UnpairedLabel]:
    for result in _task_results(spec):
        reason = exclusion(result.votes)
        if not reason:
            continue
        task = result.task
        for response in result.responses:
            yield UnpairedLabel(
                task.prompt.content,
                response.content,
                False,
                task.language_id,
                task.prompt.group,
                veto=reason == "flagged unsafe",
            )


def _verify_labels(spec: ExportSpec) -> Iterator[UnpairedLabel]:
    if spec.sources and sources.Source.VERIFY not in spec.sources:
        return
    decided = (DemonstrationStatus.ACCEPTED, DemonstrationStatus.REJECTED)
    rows = Contribution.objects.filter(
        kind__in=(CampaignKind.WRITE, CampaignKind.EDIT), status__in=decided, task__deleted_at__isnull=True
    )
    if spec.languages:
        rows = rows.filter(language_id__in=list(spec.languages))
    if spec.campaigns:
        rows = rows.filter(task__campaign__name__in=list(spec.campaigns))
    if spec.since:
        rows = rows.filter(created_at__gte=spec.since)
    if spec.until:
        rows = rows.filter(created_at__lt=spec.until)
    columns = ("task__prompt__content", "content", "status", "language_id", "task__prompt__group")
    for prompt, completion, status, language, group in rows.order_by("id").values_list(*columns).iterator(2000):
        yield UnpairedLabel(prompt, completion, status == DemonstrationStatus.ACCEPTED, language, group)


unpaired_sources.register(
    "arena", UnpairedSource("arena", gettext_noop("arena votes: winner desirable, loser undesirable"), _arena_labels)
)
unpaired_sources.register(
    "ranking",
    UnpairedSource(
        "ranking", gettext_noop("ranking tasks: strict best desirable, strict worst undesirable"), _ranking_labels
    ),
)
unpaired_sources.register(
    "flags",
    UnpairedSource(
        "flags", gettext_noop("flagged tasks (unsafe, all bad, wrong language): responses undesirable"), _flag_labels
    ),
)


unpaired_sources.register(
    "verify",
    UnpairedSource(
        "verify",
        gettext_noop("verified answers (write, edit): accepted desirable, rejected undesirable"),
        _verify_labels,
    ),
)


def _selected(spec: ExportSpec) -> list[UnpairedSource]:
    return [source for name, source in unpaired_sources.items() if not spec.kto_sources or name in spec.kto_sources]


def _labelled(spec: ExportSpec) -> Iterator[tuple[str, bytes, list, list, UnpairedLabel]]:
    """(source name, answer key, prompt messages, completion messages, label), in source order."""
    for source in _selected(spec):
        for label in source.labels(spec):
            prompt, completion = as_messages(label.prompt, "user"), as_messages(label.completion, "assistant")
            key = bytes.fromhex(content_hash(label.language, prompt, completion))
            yield source.name, key, prompt, completion, label


def _decision(tally: list[int]) -> bool | None:
    """tally = [desirable labels, undesirable labels, vetoes] -> the answer's label, or None (a tie)."""
    up, down, veto = tally
    if veto:
        return False
    return None if up == down else up > down


def kto_rows(spec: ExportSpec) -> Iterator[dict]:
    """The rows (module docstring): a first pass tallies each answer's labels, the second writes each decided
    answer once. An answer first seen in the second pass (stored in between) waits for the next export."""
    tallies: dict[bytes, list[int]] = {}
    for _name, key, _prompt, _completion, label in _labelled(spec):
        tally = tallies.setdefault(key, [0, 0, 0])
        tally[0 if label.desirable else 1] += 1
        tally[2] += label.veto
    emitted: set[bytes] = set()
    for name, key, prompt, completion, label in _labelled(spec):
        decision = _decision(tallies[key]) if key in tallies else None
        if decision is None or decision != label.desirable or key in emitted:
            continue
        emitted.add(key)
        yield {
            "prompt": prompt,
            "completion": completion,
            "label": decision,
            "language": label.language,
            "source": name,
            "id": key.hex(),
            "group": label.group or "prompt-" + content_hash(label.language, prompt)[:24],
        }


export_formats.register("kto", ExportFormat("kto", kto_rows))
