"""Automatic labels: a registered judge (`extensions.judges`) ranks a task's responses, and its ranking
is stored as an `Annotation` with source `judge` and origin `NAME@VERSION`, by the judge's own inactive
account `judge:NAME@VERSION` (a colon cannot appear in a person's username).

A judge never counts as human (webapp/feedback/sources.py): its ranking takes no slot of the task
(`annotation_count` is left alone, so assignment hands the task out as before), agreement and trust
never read it, and exports and training jobs use it only when they select source `judge`."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError, NotFound
from webapp.feedback.extensions import judges, task_kinds
from webapp.feedback.formats.parsing import LineError
from webapp.feedback.models import Annotation, AnnotatorProfile, Task
from webapp.feedback.sources import Source, judge_origin


class InvalidJudgement(ApplicationError):
    """The judge's answer for one task is not a ranking of its responses."""


def _judge_account(origin: str) -> User:
    user, created = User.objects.get_or_create(username=f"judge:{origin}"[:150], defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    AnnotatorProfile.objects.get_or_create(user=user, defaults={"is_external": True})
    return user


def judge_label(*, task_id: int, judge: str) -> tuple[Annotation, bool]:
    """Store the named judge's ranking of one task. Returns (annotation, created); a judge (name and
    version) labels a task once. The judge ranks outside any transaction (a model may take seconds,
    and on SQLite an open write transaction would hold every other writer back); only the write is
    one short transaction."""
    entry = judges.get(judge)
    task = Task.objects.alive().select_related("prompt").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("No such task: %(id)s") % {"id": task_id})
    origin = judge_origin(entry.name, entry.version)
    existing = Annotation.objects.filter(task=task, annotator__username=f"judge:{origin}"[:150]).first()
    if existing is not None:
        return existing, False
    texts = [item.response.text for item in task.items.select_related("response").order_by("position")]
    try:
        ranking = task_kinds.get(task.kind).check_submission(
            entry.rank(task.prompt.text, texts, task.language_id), len(texts)
        )
    except LineError as exc:
        raise InvalidJudgement(
            _("judge %(judge)s gave an invalid ranking: %(problem)s") % {"judge": repr(judge), "problem": exc.message}
        ) from None
    with transaction.atomic():
        return Annotation.objects.get_or_create(
            task=task,
            annotator=_judge_account(origin),
            defaults={"ranking": ranking, "source": Source.JUDGE, "origin": origin},
        )
