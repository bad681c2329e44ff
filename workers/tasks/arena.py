"""Arena housekeeping on queue `sweep` (webapp/arena/services.py does the work)."""

from celery import shared_task


@shared_task(name="workers.tasks.arena.sweep_battles", ignore_result=True)
def sweep_battles() -> int:
    from webapp.arena.services import battles_sweep

    return battles_sweep()


@shared_task(name="workers.tasks.arena.group_prompts", ignore_result=True)
def group_prompts() -> dict:
    """On queue `index`: the embedder is loaded there already (webapp/arena/duplicates.py)."""
    from webapp.arena.duplicates import prompt_groups_build

    return prompt_groups_build()
