"""Arena housekeeping on queue `sweep` (webapp/arena/services.py does the work)."""

from celery import shared_task


@shared_task(name="workers.tasks.arena.sweep_battles", ignore_result=True)
def sweep_battles() -> int:
    from webapp.arena.services import battles_sweep

    return battles_sweep()
