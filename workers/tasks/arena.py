"""Arena housekeeping on queue `sweep` (webapp/arena/services.py and webapp/arena/tallies.py do the work)."""

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


@shared_task(name="workers.tasks.arena.fold_arena", ignore_result=True)
def fold_arena() -> int:
    """The arena's tallies: one batch of ARENA_FOLD_BATCH markers, queueing itself again while more are pending."""
    from webapp.arena.tallies import arena_fold, arena_pending
    from webapp.queue import send_task

    folded = arena_fold()
    if arena_pending(1):
        send_task("workers.tasks.arena.fold_arena", args=[], queue="sweep")
    return folded


@shared_task(name="workers.tasks.arena.refit", ignore_result=True)
def refit(kind: str, language: str = "", style: str = "plain", ci: str = "", origin: str = "local") -> int:
    """A fit (or vote hygiene) a read served while it was behind the votes, computed at the current change token
    (webapp/arena/selectors.py); returns that token."""
    from webapp.arena import selectors
    from webapp.arena.tallies import arena_token

    if kind == "hygiene":
        selectors.vote_hygiene(fresh=True)
    else:
        selectors.rating_fit(language or None, style=style, ci=ci or None, origin=origin, fresh=True)
    return arena_token()
