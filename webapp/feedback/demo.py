"""Demo content for a first look at the app (`manage.py seed_demo`): one campaign of everyday
questions in nine languages, most of them translations of one another, each answered by two to
four demo models of visibly different quality; three demo annotators; and rankings for about a
third of the tasks, leaving the rest open for real annotators. Beside it, contribution campaigns
(write, edit, translate, verify) with some contributions and votes (demo_contributions.py), and the
parts that higher apps register in `demo_seeders` (webapp/feedback/extensions.py: the arena's battles).

The content lives in demo_data/ as JSON Lines (UTF-8, one object a line), so that texts in nine
languages are edited as text, not as Python literals:

- campaign.jsonl: the demo campaign (name, overlap, languages, Markdown guidelines);
- annotators.jsonl: the demo annotators and the languages each reads;
- prompts.jsonl: prompts with their responses in stored order, each response named by a model letter;
- annotations.jsonl: rankings by prompt key ("demo-g1:en"; "solo:fr" for a prompt in no group);
- contribution_campaigns.jsonl, contributions.jsonl: the contribution campaigns and their work
  (demo_contributions.py).

Everything is built through the catalog, assignment and contributing services, so the usual business
rules apply. Rankings are written as model letters ("a > b = c": a best, b and c tied) and turned into
response positions in stored order when submitted. Each part is seeded once: a part whose first campaign
(or whose battles) exist is left as it is, so running seed_demo again changes nothing, and a store seeded
before a part existed gains that part."""

import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction

from webapp.feedback.demo_contributions import DemoContribution, contributions_seed, demo_key
from webapp.feedback.extensions import demo_seeders
from webapp.feedback.models import Campaign, Task
from webapp.feedback.services.assignment import annotation_submit
from webapp.feedback.services.catalog import (
    annotator_set_languages,
    campaign_create,
    prompt_create,
    response_create,
    task_create,
)
from webapp.permissions import ANNOTATOR, role_group

DATA_DIR = Path(__file__).with_name("demo_data")
SOURCE = "demo"
MODEL_PREFIX = "demo-model-"


def read_jsonl(name: str) -> list[dict]:
    """Explicit UTF-8: the platform's default encoding would garble the non-Latin texts."""
    with (DATA_DIR / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@dataclass(frozen=True)
class DemoPrompt:
    """A prompt and its responses as {"model": letter, "text": Markdown}, in stored order."""

    group: str
    language: str
    text: str
    responses: list[dict]

    @property
    def key(self) -> str:
        return demo_key(self.group, self.language)


@dataclass(frozen=True)
class DemoAnnotation:
    prompt: str
    annotator: str
    ranking: str
    flags: list[str]
    rationale: str


(CAMPAIGN,) = read_jsonl("campaign.jsonl")
CAMPAIGN_NAME = CAMPAIGN["name"]
# username -> languages; every demo language is read by at least two annotators.
ANNOTATORS = {row["username"]: row["languages"] for row in read_jsonl("annotators.jsonl")}
PROMPTS = [DemoPrompt(**row) for row in read_jsonl("prompts.jsonl")]
ANNOTATIONS = [DemoAnnotation(**row) for row in read_jsonl("annotations.jsonl")]
CONTRIBUTION_CAMPAIGNS = read_jsonl("contribution_campaigns.jsonl")
CONTRIBUTIONS = [DemoContribution(**row) for row in read_jsonl("contributions.jsonl")]


def model_name(letter: str) -> str:
    return MODEL_PREFIX + letter


def demo_seed() -> dict:
    """Create the demo: the ranking campaign with its prompts, responses, tasks, annotators and annotations;
    the contribution campaigns with their contributions and votes; then each registered demo seeder's part.
    Returns what it created; `already_seeded` when that was nothing (every part existed already)."""
    with transaction.atomic():
        counts = ranking_seed()
        counts |= contributions_seed(
            campaigns=CONTRIBUTION_CAMPAIGNS, contributions=CONTRIBUTIONS, source=SOURCE, model_prefix=MODEL_PREFIX
        )
        for _name, seeder in demo_seeders.items():
            counts |= seeder()
    return {"already_seeded": not any(counts.values()), **counts}


def ranking_seed() -> dict:
    """The ranking campaign and all it holds, unless it exists already (then counts all zero)."""
    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return dict.fromkeys(_ranking_counts(), 0)
    campaign = campaign_create(**CAMPAIGN)
    tasks = {demo.key: _prompt_with_task(campaign, demo) for demo in PROMPTS}
    users = _annotators()
    for annotation in ANNOTATIONS:
        _submit(annotation, tasks[annotation.prompt], users[annotation.annotator])
    return _ranking_counts()


def _ranking_counts() -> dict:
    return {
        "campaigns": 1,
        "prompts": len(PROMPTS),
        "languages": len({p.language for p in PROMPTS}),
        "groups": len({p.group for p in PROMPTS if p.group}),
        "responses": sum(len(p.responses) for p in PROMPTS),
        "tasks": len(PROMPTS),
        "annotators": len(ANNOTATORS),
        "annotations": len(ANNOTATIONS),
    }


def _prompt_with_task(campaign: Campaign, demo: DemoPrompt) -> Task:
    prompt = prompt_create(content=demo.text, language=demo.language, group=demo.group, source=SOURCE)
    responses = [
        response_create(prompt=prompt, content=r["text"], model_name=model_name(r["model"])) for r in demo.responses
    ]
    return task_create(campaign=campaign, prompt=prompt, responses=responses)


def _annotators() -> dict[str, User]:
    users = {}
    for username, languages in ANNOTATORS.items():
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(role_group(ANNOTATOR))
        annotator_set_languages(user=user, languages=languages)
        users[username] = user
    return users


def ranking_positions(spec: str, letters: list[str]) -> list[list[int]]:
    """ "a > b = c" with responses stored as [b, a, c] -> [[1], [0, 2]]."""
    return [[letters.index(letter.strip()) for letter in rank.split("=")] for rank in spec.split(">")]


def _submit(annotation: DemoAnnotation, task: Task, user: User) -> None:
    letters = [item.response.model_name.removeprefix(MODEL_PREFIX) for item in task.items.order_by("position")]
    annotation_submit(
        user=user,
        task_id=task.pk,
        ranking=ranking_positions(annotation.ranking, letters),
        flags=annotation.flags,
        rationale=annotation.rationale,
    )
