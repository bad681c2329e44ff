"""Reads of the webhook log."""

from django.db.models import QuerySet

from webapp.webhooks.models import Delivery, Endpoint


def deliveries_of(
    endpoint: Endpoint, *, status: str | None = None, event_type: str | None = None
) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    return deliveries
