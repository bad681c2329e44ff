"""The demo's contribution campaigns (`manage.py seed_demo`, webapp/feedback/demo.py): beside the ranking
campaign, a `write`, an `edit` and a `translate` campaign on demo prompts and responses, two `verify`
campaigns voting on the written answers and the edits, contributions by the demo annotators in several
languages, and their votes, so that some are accepted, some rejected, one disputed and some pending; one
translation is the source text unchanged, flagged by the similarity check.

The content lives in demo_data/ as JSON Lines, like the rest of the demo:

- contribution_campaigns.jsonl: the campaigns in creation order (a verify campaign after the one it
  verifies), with their tasks: demo prompts by key (write, translate: "demo-g2:en", "solo:sw") or demo
  responses by prompt key and model letter (edit: "demo-g3:de b");
- contributions.jsonl: one contribution each: its campaign, its task (the prompt key, with `model` for an
  edit and the target `language` for a translation), the contributor, the text, the votes in order
  (`voter`, `up`, `reason`) and, for a translation, the similarity check's result (`check`).

Everything goes through the services as in real use: tasks by contribution_tasks_add, a lease on each
task by lease_renew (POST /api/v1/tasks/{id}/lease/), then contribution_submit or verdict_submit. The
similarity check runs on the worker; seed_demo runs with none, so the one check the demo shows is recorded
through translation_checked, as the worker records it (a copy of the source is flagged without a model, so
the worker's own check, when it runs, finds the same). The other translations wait for the worker."""

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.models import Campaign, CampaignKind, Contribution, Prompt, Response, Task
from webapp.feedback.services.assignment import lease_renew
from webapp.feedback.services.catalog import campaign_create
from webapp.feedback.services.contributing import (
    contribution_submit,
    contribution_tasks_add,
    translation_checked,
    verdict_submit,
)


@dataclass(frozen=True)
class DemoContribution:
    campaign: str
    prompt: str
    contributor: str
    text: str
    votes: list[dict]
    model: str = ""  # edit: the letter of the response it improves
    language: str = ""  # translate: the target language
    seconds: float | None = None
    check: dict | None = None  # translate: the similarity check's {similarity, flagged, note}


@dataclass
class _Store:
    """The demo's prompts by key, its users by name and the campaigns made so far by name."""

    prompts: dict[str, Prompt]
    users: dict[str, User]
    model_prefix: str
    campaigns: dict[str, Campaign] = field(default_factory=dict)


def contributions_seed(
    *, campaigns: list[dict], contributions: list[DemoContribution], source: str, model_prefix: str
) -> dict:
    """Create the contribution campaigns, their tasks, the contributions and their votes, unless the first
    campaign exists already (then nothing: counts all zero). `source`: the demo prompts' source;
    `model_prefix`: what a model letter is prefixed with in a demo response's model name."""
    if Campaign.objects.filter(name=campaigns[0]["name"]).exists():
        return _counts(campaigns=0, contributions=[])
    store = _Store(prompts=_demo_prompts(source), users=_demo_users(contributions), model_prefix=model_prefix)
    for row in campaigns:
        _campaign(store, dict(row))
    stored = [_contribute(store, demo) for demo in contributions]
    return _counts(campaigns=len(campaigns), contributions=stored)


def _counts(*, campaigns: int, contributions: list[Contribution]) -> dict:
    return {
        "contribution_campaigns": campaigns,
        "contributions": len(contributions),
        "verdicts": sum(c.up_votes + c.down_votes for c in contributions),
    }


def demo_key(group: str, language: str) -> str:
    """The key demo_data names a demo prompt by: "demo-g1:en", or "solo:fr" for one in no group."""
    return f"{group or 'solo'}:{language}"


def _demo_prompts(source: str) -> dict[str, Prompt]:
    return {demo_key(p.group, p.language_id): p for p in Prompt.objects.alive().filter(source=source)}


def _demo_users(contributions: list[DemoContribution]) -> dict[str, User]:
    names = {c.contributor for c in contributions} | {v["voter"] for c in contributions for v in c.votes}
    users = {user.username: user for user in User.objects.filter(username__in=names)}
    missing = sorted(names - set(users))
    if missing:
        raise _missing(", ".join(missing))
    return users


def _missing(what: str) -> ApplicationError:
    return ApplicationError(
        _("The demo item %(what)s is missing (deleted since seed_demo created it).") % {"what": what}
    )


def _prompt(store: _Store, key: str) -> Prompt:
    try:
        return store.prompts[key]
    except KeyError:
        raise _missing(key) from None


def _response(store: _Store, key: str, letter: str) -> Response:
    response = (
        Response.objects.alive().filter(prompt=_prompt(store, key), model_name=store.model_prefix + letter).first()
    )
    if response is None:
        raise _missing(f"{key} {letter}")
    return response


def _campaign(store: _Store, row: dict) -> None:
    prompts, responses = row.pop("prompts", []), row.pop("responses", [])
    if row.get("verifies"):
        row["verifies"] = store.campaigns[row["verifies"]]
    campaign = campaign_create(**row)
    store.campaigns[campaign.name] = campaign
    if prompts or responses:
        contribution_tasks_add(
            campaign=campaign,
            prompts=[_prompt(store, key).pk for key in prompts],
            responses=[_response(store, *spec.split()).pk for spec in responses],
        )


def _task(store: _Store, demo: DemoContribution) -> Task:
    campaign = store.campaigns[demo.campaign]
    tasks = Task.objects.alive().filter(campaign=campaign)
    if campaign.kind == CampaignKind.EDIT:
        return tasks.get(items__response=_response(store, demo.prompt, demo.model))
    prompt = _prompt(store, demo.prompt)
    return tasks.get(prompt=prompt, language_id=demo.language or prompt.language_id)


def _contribute(store: _Store, demo: DemoContribution) -> Contribution:
    """Lease the task and contribute, as the API does; then each vote on the verify task it made."""
    contributor, task = store.users[demo.contributor], _task(store, demo)
    lease_renew(user=contributor, task_id=task.pk)
    contribution = contribution_submit(user=contributor, task_id=task.pk, text=demo.text, seconds=demo.seconds)
    if demo.check is not None:
        translation_checked(contribution_id=contribution.pk, **demo.check)
    for vote in demo.votes:
        voter = store.users[vote["voter"]]
        verify = Task.objects.alive().get(contribution=contribution)
        lease_renew(user=voter, task_id=verify.pk)
        verdict_submit(user=voter, task_id=verify.pk, up=vote["up"], reason=vote.get("reason", ""))
    contribution.refresh_from_db()
    return contribution
