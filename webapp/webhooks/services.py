"""Webhooks: staff manage endpoints; an event becomes one `Delivery` per endpoint that wants it, written in
the transaction of what caused it and sent after commit, on the `webhooks` queue; each attempt is signed
(Standard Webhooks) and logged, and a failed one is retried after the next of WEBHOOK_RETRY_DELAYS.

A delivery row is the truth, not the broker: a worker claims an attempt with a conditional UPDATE (so two
copies of a message never send twice at once), and the sweep sends again what a lost message left due."""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from webapp.audit import services as audit
from webapp.errors import ApplicationError, Conflict
from webapp.queue import send_task
from webapp.webhooks import signing
from webapp.webhooks.events import SUBSCRIBABLE_TYPES, TEST, payload
from webapp.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint

log = logging.getLogger(__name__)

DELIVER_TASK = "workers.tasks.webhooks.deliver"
QUEUE = "webhooks"
LEASE_MARGIN_SECONDS = 30  # an attempt in flight is not sent again by the sweep before its timeout + this
# A countdown message may reach a worker whose clock is slightly ahead of the one that scheduled it.
CLOCK_TOLERANCE_SECONDS = 2
MAX_RETRY_AFTER_SECONDS = 24 * 3600
RESPONSE_BODY_BYTES = 1024
ENDPOINT_FIELDS = ("url", "description", "event_types", "is_active")


# --- endpoints -------------------------------------------------------------------------------------
def event_types_valid(event_types: list[str]) -> list[str]:
    """The event types, sorted and once each; an unknown one (or `webhook.test`) is refused by name."""
    unknown = sorted(set(event_types) - set(SUBSCRIBABLE_TYPES))
    if unknown:
        raise ApplicationError(
            _("Unknown event types: %(unknown)s. Known: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(SUBSCRIBABLE_TYPES)},
            extra={"field": "event_types"},
        )
    return sorted(set(event_types))


@transaction.atomic
def endpoint_create(
    *, url: str, description: str = "", event_types: list[str] | None = None, is_active: bool = True
) -> Endpoint:
    endpoint = Endpoint.objects.create(
        url=url,
        description=description,
        secret=signing.new_secret(),
        event_types=event_types_valid(event_types or []),
        is_active=is_active,
    )
    audit.record(action="webhook.endpoint_create", target=endpoint, details=_described(endpoint))
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, **changes: Any) -> Endpoint:
    """Change any of url, description, event_types, is_active. Turning an endpoint back on clears the
    reason it was turned off (a 410 Gone from the receiver)."""
    unknown = set(changes) - set(ENDPOINT_FIELDS)
    if unknown:
        raise ApplicationError(_("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if "event_types" in changes:
        changes["event_types"] = event_types_valid(changes["event_types"])
    if changes.get("is_active"):
        changes["disabled_reason"] = ""
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save()
    audit.record(action="webhook.endpoint_update", target=endpoint, details=_described(endpoint))
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint) -> Endpoint:
    """A new secret, used from the next attempt on (the old one stops working at once)."""
    endpoint.secret = signing.new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit.record(action="webhook.endpoint_rotate_secret", target=endpoint)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    audit.record(action="webhook.endpoint_delete", target=endpoint, details=_described(endpoint))
    endpoint.delete()


def _described(endpoint: Endpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "event_types": endpoint.event_types, "is_active": endpoint.is_active}


# --- events ----------------------------------------------------------------------------------------
def body_of(event: dict[str, Any]) -> str:
    """The bytes we sign and send: compact, keys sorted, so every attempt sends the same body."""
    return json.dumps(event, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def endpoints_for(event_type: str) -> list[Endpoint]:
    return [endpoint for endpoint in Endpoint.objects.filter(is_active=True) if endpoint.wants(event_type)]


def event_record(
    *,
    event_type: str,
    data: dict[str, Any],
    occurred_at: datetime | None = None,
    endpoints: list[Endpoint] | None = None,
) -> list[Delivery]:
    """Record an event: one delivery per active endpoint that wants it (or per endpoint given), in the
    caller's transaction, each sent once that transaction commits; a rollback sends nothing."""
    targets = endpoints_for(event_type) if endpoints is None else endpoints
    if not targets:
        return []
    event = payload(event_type, data, occurred_at or timezone.now())
    event_id, now = signing.new_event_id(), timezone.now()
    with transaction.atomic():  # a savepoint: a failure here leaves the caller's own writes intact
        deliveries = [
            Delivery.objects.create(
                endpoint=endpoint, event_id=event_id, event_type=event_type, payload=event, next_attempt_at=now
            )
            for endpoint in targets
        ]
        for delivery in deliveries:
            _enqueue_after_commit(delivery.pk)
    return deliveries


def endpoint_send_test(*, endpoint: Endpoint) -> Delivery:
    """Send a `webhook.test` event to this endpoint only, whatever its event filter."""
    if not endpoint.is_active:
        raise Conflict(_("This endpoint is turned off; turn it on before sending it a test event."))
    data = {"endpoint": endpoint.pk, "message": "A test event sent from Polyglot Feedback."}
    with transaction.atomic():
        (delivery,) = event_record(event_type=TEST, data=data, endpoints=[endpoint])
        audit.record(action="webhook.test", target=endpoint, details={"event_id": delivery.event_id})
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a finished delivery again, with the same `webhook-id` and body and a fresh retry schedule; its
    earlier attempts stay in the log."""
    if not delivery.endpoint.is_active:
        raise Conflict(_("This endpoint is turned off; turn it on before redelivering to it."))
    rows = Delivery.objects.filter(pk=delivery.pk).exclude(status=DeliveryStatus.PENDING)
    now = timezone.now()
    if not rows.update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now):
        raise Conflict(_("This delivery is still being sent; wait for it to succeed or fail."))
    audit.record(action="webhook.redeliver", target=delivery, details={"event_id": delivery.event_id})
    _enqueue_after_commit(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _enqueue_after_commit(delivery_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(delivery_id))


def _enqueue(delivery_id: int, countdown: float | None = None) -> None:
    # When the broker is down the row stays pending and due: the sweep sends it.
    send_task(DELIVER_TASK, args=[delivery_id], queue=QUEUE, countdown=countdown)


# --- sending ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    response_body: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def delivery_attempt(delivery_id: int) -> str:
    """One attempt (the body of the Celery task). Returns what became of the delivery: succeeded, retry,
    failed, or skipped (not due: another copy of the message has it, or it is finished)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    if not delivery.endpoint.is_active:
        _finish(delivery, DeliveryStatus.FAILED, last_error=_("The endpoint was turned off."))
        return "failed"
    started = timezone.now()
    clock = time.monotonic()
    outcome = _post(delivery)
    duration_ms = int((time.monotonic() - clock) * 1000)
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery.pk).exists():  # its endpoint was deleted meanwhile
            return "skipped"
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            duration_ms=duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body=outcome.response_body,
        )
        return _settle(delivery, outcome)


def _claim(delivery_id: int) -> Delivery | None:
    """Take a due delivery for one attempt: its next attempt time moves past this attempt's timeout, so
    neither the sweep nor a second copy of the message sends it meanwhile. Zero rows updated: not ours."""
    row = Delivery.objects.filter(pk=delivery_id).values("attempts").first()
    if row is None:
        return None
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3 + LEASE_MARGIN_SECONDS)
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
        attempts=row["attempts"],
        next_attempt_at__lte=now + timedelta(seconds=CLOCK_TOLERANCE_SECONDS),
    ).update(next_attempt_at=lease)
    return Delivery.objects.select_related("endpoint").get(pk=delivery_id) if claimed else None


def _post(delivery: Delivery) -> Outcome:
    body = body_of(delivery.payload)
    headers = signing.headers(delivery.endpoint.secret, delivery.event_id, int(time.time()), body)
    # No redirects (the specification counts a 3xx as a failure: update the URL instead).
    try:
        with (
            httpx.Client(timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("POST", delivery.endpoint.url, content=body.encode(), headers=headers) as reply,
        ):
            head = _first_bytes(reply)
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:1000])
    ok = 200 <= reply.status_code < 300
    error = "" if ok else f"HTTP {reply.status_code}"
    return Outcome(reply.status_code, error, head, _retry_after(reply.headers.get("retry-after")))


def _first_bytes(reply: httpx.Response) -> str:
    head = b""
    for chunk in reply.iter_bytes():
        head += chunk
        if len(head) >= RESPONSE_BODY_BYTES:
            break
    return head[:RESPONSE_BODY_BYTES].decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    """A Retry-After given in seconds (an HTTP date is ignored: the schedule applies)."""
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), MAX_RETRY_AFTER_SECONDS)


def _settle(delivery: Delivery, outcome: Outcome) -> str:
    attempts = delivery.attempts + 1
    recorded = {"attempts": attempts, "last_status_code": outcome.status_code, "last_error": outcome.error}
    if outcome.ok:
        _finish(delivery, DeliveryStatus.SUCCEEDED, delivered_at=timezone.now(), **recorded)
        return "succeeded"
    if outcome.status_code == 410:  # Gone: the receiver wants no more (Standard Webhooks)
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(
            is_active=False, disabled_reason=_("The receiver answered 410 Gone.")
        )
        _finish(delivery, DeliveryStatus.FAILED, **recorded)
        return "failed"
    delays = settings.WEBHOOK_RETRY_DELAYS
    if attempts > len(delays):
        _finish(delivery, DeliveryStatus.FAILED, **recorded)
        return "failed"
    wait = max(delays[attempts - 1], outcome.retry_after or 0.0)
    wait += random.uniform(0, wait * 0.1)  # noqa: S311 - jitter, not a secret
    rows = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts)
    now = timezone.now()
    if rows.update(next_attempt_at=now + timedelta(seconds=wait), updated_at=now, **recorded):
        transaction.on_commit(lambda: _enqueue(delivery.pk, countdown=wait))
    return "retry"


def _finish(delivery: Delivery, status: str, **fields: Any) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts).update(
        status=status, next_attempt_at=None, updated_at=timezone.now(), **fields
    )


def deliveries_sweep() -> int:
    """Send again the pending deliveries overdue by WEBHOOK_SWEEP_SECONDS: their message was lost (the
    broker was down, or a worker holding a countdown died). Each one's time is moved to now, so a sweep
    sends one copy per period however long the workers are away. Finished deliveries older than
    WEBHOOK_KEEP_DAYS leave the log."""
    now = timezone.now()
    Delivery.objects.exclude(status=DeliveryStatus.PENDING).filter(
        updated_at__lt=now - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    ).delete()
    overdue = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lt=now - timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    )
    ids = list(overdue.values_list("pk", flat=True)[:1000])
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(next_attempt_at=now)
    for delivery_id in ids:
        _enqueue(delivery_id)
    return len(ids)
