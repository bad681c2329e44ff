"""The store's seams: registries that other apps (and later features) fill, so that adding a kind
of task, a judge or a post-import report never edits the store.

* `task_kinds`: what an annotator does with a task (`ranking` today). Each kind validates a
  submission for a task with `n` responses; `Task.kind` names it.
* `judges`: automatic labelers. A judge names itself and its version and labels a task's
  responses; the store keeps its labels apart from human ones (never counted as human).
* `import_reports`: advisory checks run after an import has committed (the search index registers
  `near_duplicates`, webapp/retrieval/apps.py); each gets the ids of the prompts the import
  created and returns a JSON-ready dict for the transfer's result."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from webapp.registry import Registry


@dataclass(frozen=True)
class TaskKind:
    name: str
    description: str
    # (submitted ranking, number of responses) -> the normalised ranking; raises LineError when invalid
    check_submission: Callable[[Any, int], list[list[int]]]


@dataclass(frozen=True)
class Judge:
    name: str
    version: str
    # (prompt text, response texts, language) -> ranking best first, as in a human annotation
    rank: Callable[[str, list[str], str], list[list[int]]]


ImportReport = Callable[[list[int]], dict[str, Any]]

task_kinds: Registry[TaskKind] = Registry(gettext_noop("task kind"))
judges: Registry[Judge] = Registry(gettext_noop("judge"))
import_reports: Registry[ImportReport] = Registry(gettext_noop("import report"))
