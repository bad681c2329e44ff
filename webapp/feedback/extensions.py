"""The store's seams: registries that other apps (and later features) fill, so that adding a kind
of task, a judge or a post-import report never edits the store.

* `task_kinds`: what an annotator does with a task (`ranking` today). Each kind validates a
  submission for a task with `n` responses; `Task.kind` names it.
* `judges`: automatic labelers. A judge names itself and its version and labels a task's
  responses; the store keeps its labels apart from human ones (never counted as human). Adding one
  is one call, `judges.register(Judge(name=..., version=..., rank=..., queue=...))`, usually in an
  app's `ready()`; judge jobs (webapp/judging) run it over a campaign on its queue.
* `import_reports`: advisory checks run after an import has committed (the search index registers
  `near_duplicates`, webapp/retrieval/apps.py); each gets the ids of the prompts the import
  created and returns a JSON-ready dict for the transfer's result.
* `demo_seeders`: the parts of the demo (`manage.py seed_demo`, webapp/feedback/demo.py) that higher apps add
  (the arena registers its battles, webapp/arena/demo.py). Each runs after the store's own demo, in its
  transaction, and returns what it created by name (all zero when it had seeded before)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from webapp.errors import ApplicationError
from webapp.feedback.sources import judge_origin
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
    # The Celery queue its jobs run on: "gpu" for a judge that runs a model, else "default".
    queue: str = "default"
    description: str = ""

    @property
    def origin(self) -> str:
        """NAME@VERSION: the origin of its labels (sources.judge_origin)."""
        return judge_origin(self.name, self.version)


class JudgeRegistry(Registry[Judge]):
    """Judges by name; one version of each is registered at a time (its labels keep theirs)."""

    def register(self, name: "str | Judge", item: Judge | None = None) -> Judge:
        """`judges.register(Judge(...))`, or by an explicit name as every registry takes it."""
        if isinstance(name, Judge):
            return super().register(name.name, name)
        if item is None:
            raise ValueError("register(name, judge) or register(judge)")
        return super().register(name, item)

    def resolve(self, name: str) -> Judge:
        """The judge named NAME, or NAME@VERSION when that is the version registered; a 4xx otherwise."""
        base, _, version = name.partition("@")
        if base not in self:
            known = ", ".join(judge.origin for _, judge in self.items()) or "none"
            raise ApplicationError(f"unknown judge {name[:80]!r}; registered: {known}", extra={"field": "judge"})
        judge = self.get(base)
        if version and version != judge.version:
            raise ApplicationError(
                f"judge {base!r} is registered at version {judge.version!r}, not {version[:80]!r}",
                extra={"field": "judge"},
            )
        return judge


ImportReport = Callable[[list[int]], dict[str, Any]]
DemoSeeder = Callable[[], dict[str, int]]

task_kinds: Registry[TaskKind] = Registry(gettext_noop("task kind"))
judges = JudgeRegistry(gettext_noop("judge"))
import_reports: Registry[ImportReport] = Registry(gettext_noop("import report"))
demo_seeders: Registry[DemoSeeder] = Registry(gettext_noop("demo seeder"))
