"""Webhook deliveries on queue `webhooks` (webapp/webhooks/services.py does the work)."""

from celery import shared_task


@shared_task(name="workers.tasks.webhooks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> str:
    from webapp.webhooks.services import delivery_attempt

    return delivery_attempt(delivery_id)


@shared_task(name="workers.tasks.webhooks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    from webapp.webhooks.services import deliveries_sweep

    return deliveries_sweep()
