"""The lower layers' signals, turned into events (they run inside the sender's transaction, so the
deliveries commit or roll back with what caused them)."""

from typing import Any

from webapp.feedback.models import Campaign
from webapp.feedback.signals import campaign_completed
from webapp.jobs.models import Job
from webapp.jobs.signals import job_finished
from webapp.modelstore.models import ModelVariant
from webapp.modelstore.signals import variant_registered
from webapp.webhooks import events
from webapp.webhooks.models import Endpoint
from webapp.webhooks.services import event_record


def connect() -> None:
    job_finished.connect(on_job_finished, dispatch_uid="webhooks.job_finished")
    variant_registered.connect(on_variant_registered, dispatch_uid="webhooks.variant_registered")
    campaign_completed.connect(on_campaign_completed, dispatch_uid="webhooks.campaign_completed")


def _listening() -> bool:
    """One cheap query before any payload is built: most installations have no endpoint."""
    return Endpoint.objects.filter(is_active=True).exists()


def on_job_finished(sender: type[Job], job_id: int, **kwargs: Any) -> None:
    if not _listening():
        return
    event = events.job_event(sender.objects.get(pk=job_id))
    if event is not None:
        event_record(event_type=event[0], data=event[1])


def on_variant_registered(sender: type[ModelVariant], variant_id: int, **kwargs: Any) -> None:
    if _listening():
        variant = ModelVariant.objects.select_related("parent").get(pk=variant_id)
        event_record(event_type=events.VARIANT_REGISTERED, data=events.variant_event(variant))


def on_campaign_completed(sender: type[Campaign], campaign_id: int, **kwargs: Any) -> None:
    if _listening():
        data = events.campaign_event(Campaign.objects.get(pk=campaign_id))
        event_record(event_type=events.CAMPAIGN_COMPLETED, data=data)
