"""Webhook endpoints (staff-managed receivers of our events) and the delivery log: one `Delivery` per event
and endpoint, and one `DeliveryAttempt` per HTTP request it took (docs/webhooks.md)."""

from django.core.validators import URLValidator
from django.db import models


class Endpoint(models.Model):
    url = models.URLField(max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    description = models.CharField(max_length=500, blank=True)
    # "whsec_" + base64 of random bytes (Standard Webhooks); the receiver verifies signatures with it.
    secret = models.CharField(max_length=200)
    event_types = models.JSONField(default=list, blank=True, help_text="Event types it receives; empty: every one")
    is_active = models.BooleanField(default=True)
    # Why it was turned off by us rather than by staff (the receiver answered 410 Gone), else empty.
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(models.Model):
    """One event for one endpoint. `event_id` (the `webhook-id` header) is the same for every endpoint the
    event goes to and for every attempt and redelivery, so a receiver can drop duplicates with it."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=50)
    payload = models.JSONField(help_text="{type, timestamp, data}: the body, serialised compactly with sorted keys")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Attempts since the event was recorded or last redelivered: the index into WEBHOOK_RETRY_DELAYS.
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # When a worker may send it next; while an attempt is in flight, the end of that attempt's lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to endpoint {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_body = models.TextField(blank=True, help_text="The first KB of the answer")

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"attempt on delivery {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
