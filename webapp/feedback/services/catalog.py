"""Creating, editing and deleting campaigns, texts and tasks.

Texts are immutable once judged: editing a prompt or response that an annotation or a task already
uses creates a new version linked to the old one. Deletion is soft and cascades: a deleted prompt
takes its responses and tasks with it, a deleted response the tasks that show it, a deleted
campaign its tasks."""

from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from webapp.audit import services as audit
from webapp.errors import ApplicationError
from webapp.feedback.content import content_hash, plain_text, same_content, validate_content, validate_metadata
from webapp.feedback.models import (
    CONTRIBUTION_KINDS,
    MAX_RESPONSES,
    MIN_RESPONSES,
    AnnotatorProfile,
    Campaign,
    CampaignKind,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TaskResponse,
)
from webapp.feedback.quality.marks import review_mark, review_mark_records
from webapp.feedback.services.languages import language_get_or_create
from webapp.feedback.services.operations import verify_backfill
from webapp.feedback.services.suggestions import DEFAULT_HOLDOUT, campaign_set_suggestions
from webapp.feedback.sources import ORIGIN_API, Source
from webapp.feedback.tallies import tally_mark_tasks

TextT = TypeVar("TextT", Prompt, Response)


@transaction.atomic
def campaign_create(
    *,
    name: str,
    guidelines: str = "",
    languages: list[str],
    overlap: int = 2,
    annotators: list[User] | None = None,
    suggestion_judge: str = "",
    suggestion_holdout: float = DEFAULT_HOLDOUT,
    kind: str = CampaignKind.RANKING,
    min_edit_distance: int = 5,
    verify_votes: int = 3,
    verify_share: float = 0.6,
    verifies: Campaign | None = None,
) -> Campaign:
    """A new campaign of one kind (fixed from now on); with `suggestion_judge`, its tasks start from that judge's
    ranking (suggestions.py). A verify campaign names the contribution campaign it votes on (`verifies`), and
    gets tasks for the pending contributions that campaign already holds (operations.verify_backfill)."""
    if Campaign.objects.filter(name=name).exists():
        raise ApplicationError(_("A campaign named %(name)s already exists.") % {"name": repr(name)})
    if not 1 <= overlap <= 50:
        raise ApplicationError(_("overlap must be between 1 and 50 annotators per task"))
    if kind not in CampaignKind.values:
        raise ApplicationError(_("kind must be one of %(choices)s") % {"choices": ", ".join(CampaignKind.values)})
    _check_contribution_settings(kind, overlap, min_edit_distance, verify_votes, verify_share)
    if kind == CampaignKind.VERIFY:
        if verifies is None:
            raise ApplicationError(
                _("A verify campaign needs 'verifies': the campaign whose contributions it votes on."),
                extra={"field": "verifies"},
            )
        if verifies.deleted_at or verifies.kind not in CONTRIBUTION_KINDS:
            raise ApplicationError(
                _("'verifies' must name a write, reply, edit or translate campaign; campaign %(id)s is %(kind)s.")
                % {"id": verifies.pk, "kind": verifies.kind},
                extra={"field": "verifies"},
            )
    elif verifies is not None:
        raise ApplicationError(
            _("Only a verify campaign takes 'verifies'; this one is %(kind)s.") % {"kind": kind},
            extra={"field": "verifies"},
        )
    if suggestion_judge and kind != CampaignKind.RANKING:
        raise ApplicationError(_("Suggestions are for ranking campaigns only."))
    campaign = Campaign.objects.create(
        name=name,
        guidelines=guidelines,
        overlap=overlap,
        kind=kind,
        min_edit_distance=min_edit_distance,
        verify_votes=verify_votes,
        verify_share=verify_share,
        verifies=verifies,
    )
    campaign.languages.set([language_get_or_create(code) for code in languages])
    if annotators:
        campaign.annotators.set(annotators)
    if suggestion_judge:
        campaign = campaign_set_suggestions(campaign=campaign, judge=suggestion_judge, holdout=suggestion_holdout)
    if kind == CampaignKind.VERIFY:
        verify_backfill(campaign=campaign)  # the contributions stored before it (operations.py, `backfill`)
    return campaign


def _check_contribution_settings(
    kind: str, overlap: int, min_edit_distance: int, verify_votes: int, verify_share: float
) -> None:
    if not 0 <= min_edit_distance <= 10_000:
        raise ApplicationError(_("min_edit_distance must be between 0 and 10000 characters"))
    if not 1 <= verify_votes <= 50:
        raise ApplicationError(_("verify_votes must be between 1 and 50 votes"))
    if not 0.5 < verify_share <= 1:
        raise ApplicationError(_("verify_share must be above 0.5 and at most 1 (the share of ups that accepts)"))
    if kind == CampaignKind.VERIFY and overlap < verify_votes:
        raise ApplicationError(
            _("A verify campaign's overlap (votes wanted) must be at least verify_votes (%(votes)s).")
            % {"votes": verify_votes}
        )


@transaction.atomic
def campaign_update(*, campaign: Campaign, **changes: Any) -> Campaign:
    """Change a campaign's contribution settings (min_edit_distance, verify_votes, verify_share). Its kind and
    what a verify campaign verifies are fixed at creation: asking to change them is refused."""
    for fixed in ("kind", "verifies"):
        if fixed in changes and changes.pop(fixed) != getattr(
            campaign, "verifies_id" if fixed == "verifies" else fixed
        ):
            raise ApplicationError(
                _("A campaign's %(field)s is fixed when it is created.") % {"field": fixed}, extra={"field": fixed}
            )
    for field, value in changes.items():
        setattr(campaign, field, value)
    _check_contribution_settings(
        campaign.kind, campaign.overlap, campaign.min_edit_distance, campaign.verify_votes, campaign.verify_share
    )
    campaign.save(update_fields=list(changes))
    audit.record(action="campaign.update", target=campaign, details=changes)
    return campaign


@transaction.atomic
def annotator_set_languages(*, user: User, languages: list[str]) -> AnnotatorProfile:
    profile, _created = AnnotatorProfile.objects.get_or_create(user=user)
    profile.languages.set([language_get_or_create(code) for code in languages])
    return profile


@transaction.atomic
def prompt_create(
    *,
    content: Any,
    language: str,
    group: str = "",
    source: str = "api",
    metadata: dict | None = None,
    external_id: str = "",
) -> Prompt:
    prompt = prompt_new(
        content=content,
        language_id=language_get_or_create(language).code,
        group=group,
        source=source,
        metadata=metadata,
        external_id=external_id,
    )
    prompt.save(force_insert=True)
    return prompt


def prompt_new(
    *,
    content: Any,
    language_id: str,
    group: str = "",
    source: str = "api",
    metadata: dict | None = None,
    external_id: str = "",
) -> Prompt:
    """The prompt `prompt_create` stores, validated and unsaved, in a language known to exist (its code): for a
    writer that inserts it in a statement of its own (services/contributing.py)."""
    content = validate_content(content, "content")
    return Prompt(
        content=content,
        text=plain_text(content),
        content_hash=content_hash(content),
        language_id=language_id,
        group=group,
        source=source,
        metadata=validate_metadata(metadata or {}),
        external_id=external_id,
    )


@transaction.atomic
def response_create(*, prompt: Prompt, content: Any, model_name: str = "", metadata: dict | None = None) -> Response:
    if prompt.deleted_at:
        raise ApplicationError(_("That prompt was deleted."))
    content = validate_content(content, "content")
    return Response.objects.create(
        prompt=prompt,
        content=content,
        text=plain_text(content),
        content_hash=content_hash(content),
        model_name=model_name,
        metadata=validate_metadata(metadata or {}),
    )


@transaction.atomic
def task_create(*, campaign: Campaign, prompt: Prompt, responses: list[Response], external_id: str = "") -> Task:
    if campaign.kind != CampaignKind.RANKING:
        raise ApplicationError(
            _("Campaign %(id)s is a %(kind)s campaign; add its tasks with POST /api/v1/campaigns/%(id)s/tasks/.")
            % {"id": campaign.pk, "kind": campaign.kind}
        )
    if not MIN_RESPONSES <= len(responses) <= MAX_RESPONSES:
        raise ApplicationError(
            _("A task needs %(min)s to %(max)s responses.") % {"min": MIN_RESPONSES, "max": MAX_RESPONSES}
        )
    if len({r.pk for r in responses}) != len(responses):
        raise ApplicationError(_("A task cannot show the same response twice."))
    if any(r.prompt_id != prompt.pk for r in responses):
        raise ApplicationError(_("Every response must answer the task's prompt."))
    for i, later in enumerate(responses):
        earlier = next((r for r in responses[:i] if same_content(r.content, later.content)), None)
        if earlier is not None:
            raise ApplicationError(
                _("Responses %(first)s and %(second)s read the same; a task compares different texts.")
                % {"first": earlier.pk, "second": later.pk}
            )
    if any(r.deleted_at for r in responses) or prompt.deleted_at or campaign.deleted_at:
        raise ApplicationError(_("A deleted prompt, response or campaign cannot be used in a new task."))
    if external_id and Task.objects.filter(external_id=external_id).exists():
        raise ApplicationError(_("A task with id %(id)s already exists.") % {"id": repr(external_id)})
    task = Task.objects.create(campaign=campaign, prompt=prompt, language=prompt.language, external_id=external_id)
    TaskResponse.objects.bulk_create([TaskResponse(task=task, response=r, position=i) for i, r in enumerate(responses)])
    campaign.languages.add(prompt.language)
    return task


def _text_edit(text: TextT, content: Any, *, in_use: bool, **copied: Any) -> TextT:
    """Edit in place while no task shows the text; afterwards, save the edit as a new version that
    links back to the old one (tasks and annotations keep pointing at what was judged)."""
    model = type(text)
    later = model.objects.filter(previous=text).first()
    if later is not None:
        raise ApplicationError(
            _("This is an old version; edit the latest one (%(kind)s %(id)s).")
            % {"kind": model.__name__.lower(), "id": later.pk}
        )
    content = validate_content(content, "content")
    fields = {"content": content, "text": plain_text(content), "content_hash": content_hash(content)}
    if not in_use:
        model.objects.filter(pk=text.pk).update(**fields)
        text.refresh_from_db()
        return text
    return model.objects.create(**fields, **copied, metadata=text.metadata, version=text.version + 1, previous=text)


@transaction.atomic
def prompt_edit(*, prompt: Prompt, content: Any) -> Prompt:
    copied = {"language": prompt.language, "group": prompt.group, "source": prompt.source}
    return _text_edit(prompt, content, in_use=prompt.tasks.exists(), **copied)


@transaction.atomic
def response_edit(*, response: Response, content: Any) -> Response:
    copied = {"prompt": response.prompt, "model_name": response.model_name}
    return _text_edit(response, content, in_use=response.task_items.exists(), **copied)


@transaction.atomic
def prompt_delete(*, prompt: Prompt) -> None:
    now = timezone.now()
    Prompt.objects.filter(pk=prompt.pk).update(deleted_at=now)
    Response.objects.alive().filter(prompt=prompt).update(deleted_at=now)
    review_mark(Task.objects.alive().filter(prompt=prompt).values_list("pk", flat=True))
    tally_mark_tasks(Task.objects.alive().filter(prompt=prompt).values("pk"))
    Task.objects.alive().filter(prompt=prompt).update(deleted_at=now)
    audit.record(action="prompt.delete", target=prompt)


@transaction.atomic
def response_delete(*, response: Response) -> None:
    now = timezone.now()
    Response.objects.filter(pk=response.pk).update(deleted_at=now)
    review_mark(Task.objects.alive().filter(items__response=response).values_list("pk", flat=True))
    tally_mark_tasks(Task.objects.alive().filter(items__response=response).values("pk"))
    Task.objects.alive().filter(items__response=response).update(deleted_at=now)
    audit.record(action="response.delete", target=response)


@transaction.atomic
def task_set_gold(*, task: Task, position: int | None) -> Task:
    """Mark a gold item: `position` is the stored position of its known best response."""
    if position is not None and not 0 <= position < task.items.count():
        raise ApplicationError(
            _("position must name one of the task's responses: 0..%(last)s") % {"last": task.items.count() - 1}
        )
    task.gold_position = position
    task.save(update_fields=["gold_position"])
    review_mark([task.pk])
    audit.record(action="task.gold", target=task, details={"position": position})
    return task


@transaction.atomic
def task_delete(*, task: Task) -> None:
    Task.objects.filter(pk=task.pk).update(deleted_at=timezone.now())
    review_mark([task.pk])
    tally_mark_tasks([task.pk])
    audit.record(action="task.delete", target=task)


@transaction.atomic
def preference_delete(*, record: PreferenceRecord) -> None:
    PreferenceRecord.objects.filter(pk=record.pk).update(deleted_at=timezone.now())
    review_mark_records([record.pk])
    audit.record(action="preference.delete", target=record)


@transaction.atomic
def preference_create(
    *,
    prompt: Any,
    response_a: Any,
    response_b: Any,
    outcome: str,
    language: str,
    source: str = Source.IMPORT,
    origin: str = ORIGIN_API,
    group: str = "",
    model_a: str = "",
    model_b: str = "",
    external_id: str = "",
    client_hash: str = "",
    annotator: User | None = None,
    metadata: dict | None = None,
) -> PreferenceRecord:
    prompt = validate_content(prompt, "prompt")
    response_a = validate_content(response_a, "response_a")
    response_b = validate_content(response_b, "response_b")
    if same_content(response_a, response_b):
        raise ApplicationError(_("response_a and response_b are the same text (invisible characters aside)"))
    metadata = validate_metadata(metadata or {})
    lang = language_get_or_create(language)
    digest = content_hash(prompt, response_a, response_b, lang.code)
    external_id = external_id or f"{source}:{digest}:{outcome}"
    existing = PreferenceRecord.objects.filter(external_id=external_id).first()
    if existing:
        if existing.content_hash != digest or existing.outcome != outcome:
            raise ApplicationError(_("id %(id)s is already stored with different content") % {"id": repr(external_id)})
        return existing
    return PreferenceRecord.objects.create(
        external_id=external_id,
        content_hash=digest,
        prompt=prompt,
        response_a=response_a,
        response_b=response_b,
        prompt_text=plain_text(prompt),
        outcome=outcome,
        source=source,
        origin=origin,
        language=lang,
        group=group,
        model_a=model_a,
        model_b=model_b,
        client_hash=client_hash,
        annotator=annotator,
        metadata=metadata or {},
    )
