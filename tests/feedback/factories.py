"""Builders for tests: campaigns with tasks, made through the services (so the rules apply)."""

from webapp.feedback.models import Campaign, Task
from webapp.feedback.services import catalog


def campaign_with_tasks(
    *,
    n_tasks: int = 3,
    language: str = "en",
    overlap: int = 2,
    n_responses: int = 3,
    name: str = "Campaign",
    group_prefix: str = "",
) -> tuple[Campaign, list[Task]]:
    campaign = Campaign.objects.filter(name=name).first() or catalog.campaign_create(
        name=name, guidelines="Rank by helpfulness.", languages=[language], overlap=overlap
    )
    tasks = []
    for i in range(n_tasks):
        prompt = catalog.prompt_create(
            content=f"Question {i} in {language}", language=language, group=f"{group_prefix}{i}" if group_prefix else ""
        )
        responses = [
            catalog.response_create(prompt=prompt, content=f"Answer {k} to {i} ({language})", model_name=f"model-{k}")
            for k in range(n_responses)
        ]
        tasks.append(catalog.task_create(campaign=campaign, prompt=prompt, responses=responses))
    return campaign, tasks
