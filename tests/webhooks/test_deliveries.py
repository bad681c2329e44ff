"""Deliveries to a local HTTP receiver: Standard Webhooks signatures checked by the `standardwebhooks`
package, retries after a 500 or a network error, failure after the last retry, 410 Gone, the event
filter, and nothing recorded when the transaction that caused an event rolls back."""

import base64
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.webhooks.receiver import Receiver, verified
from webapp.webhooks import signing
from webapp.webhooks.models import Delivery, DeliveryAttempt
from webapp.webhooks.services import (
    body_of,
    deliveries_sweep,
    delivery_attempt,
    endpoint_create,
    endpoint_send_test,
    event_record,
)

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def record(event_type: str = "campaign.completed", data: dict | None = None) -> list[Delivery]:
    return event_record(event_type=event_type, data=data or {"id": 7, "name": "Spring"})


def test_the_secret_is_whsec_and_base64_of_at_least_24_random_bytes(endpoint):
    assert endpoint.secret.startswith("whsec_")
    assert len(base64.b64decode(endpoint.secret.removeprefix("whsec_"))) >= 24
    assert endpoint_create(url="http://example.invalid/").secret != endpoint.secret


def test_an_event_arrives_signed_and_the_standard_verifier_accepts_it(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as sent:
        (delivery,) = record(data={"id": 7, "name": "Spring — ربيع"})
    assert len(sent) == 1  # the task is sent once the transaction commits
    assert delivery_attempt(delivery.pk) == "succeeded"
    (request,) = receiver.received
    assert request.headers["webhook-id"] == delivery.event_id and delivery.event_id.startswith("msg_")
    event = verified(request, endpoint.secret)
    assert event["type"] == "campaign.completed" and event["data"] == {"id": 7, "name": "Spring — ربيع"}
    assert event["timestamp"].endswith("Z")
    assert request.body.decode() == body_of(delivery.payload)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_signature_made_with_another_secret_is_refused_by_the_verifier(endpoint, receiver):
    from standardwebhooks import WebhookVerificationError

    (delivery,) = record()
    delivery_attempt(delivery.pk)
    with pytest.raises(WebhookVerificationError):
        verified(receiver.received[0], signing.new_secret())


def test_a_500_is_retried_and_the_second_attempt_succeeds_with_the_same_id(
    endpoint, receiver, quick_retries, django_capture_on_commit_callbacks
):
    receiver.answer(500)
    (delivery,) = record()
    with django_capture_on_commit_callbacks() as retry:
        assert delivery_attempt(delivery.pk) == "retry"
    assert len(retry) == 1  # the next attempt is sent with its countdown after commit
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery_attempt(delivery.pk) == "succeeded"
    attempts = DeliveryAttempt.objects.filter(delivery=delivery)
    assert [a.status_code for a in attempts] == [500, 200] and attempts[0].error == "HTTP 500"
    assert [r.answered for r in receiver.received] == [500, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert [e["type"] for e in receiver.events()] == ["campaign.completed"] * 2  # both attempts verify
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_the_retry_waits_the_configured_delay(endpoint, receiver, settings):
    settings.WEBHOOK_RETRY_DELAYS = [300.0]
    receiver.answer(503)
    (delivery,) = record()
    before = timezone.now()
    assert delivery_attempt(delivery.pk) == "retry"
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 300 <= wait <= 331  # the delay plus at most 10% jitter
    assert delivery_attempt(delivery.pk) == "skipped"  # not due yet: an early copy of the message does nothing


def test_a_delivery_fails_after_the_last_retry(endpoint, receiver, quick_retries):
    receiver.answer(500, 502, 500)
    (delivery,) = record()
    assert [delivery_attempt(delivery.pk) for _attempt in range(3)] == ["retry", "retry", "failed"]
    assert delivery_attempt(delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3 == len(receiver.received)


def test_a_network_error_is_an_attempt_that_failed_and_is_retried(db, quick_retries):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint_create(url=f"http://127.0.0.1:{port}/hook")
    (delivery,) = record()
    assert delivery_attempt(delivery.pk) == "retry"
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and "ConnectError" in attempt.error


def test_an_attempt_that_outlasts_its_timeout_is_a_failure_and_retried(endpoint, receiver, quick_retries, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    (delivery,) = record()
    assert delivery_attempt(delivery.pk) == "retry"
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and "Timeout" in attempt.error and attempt.duration_ms < 1000


def test_a_redirect_is_a_failure_not_followed(endpoint, receiver, quick_retries):
    receiver.answer(301)
    (delivery,) = record()
    assert delivery_attempt(delivery.pk) == "retry"
    assert len(receiver.received) == 1


def test_410_gone_turns_the_endpoint_off(endpoint, receiver, quick_retries):
    receiver.answer(410)
    (delivery,) = record()
    assert delivery_attempt(delivery.pk) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert record() == []  # a turned-off endpoint gets no new deliveries


def test_the_event_filter_decides_which_endpoints_get_an_event(db):
    everything = endpoint_create(url="http://127.0.0.1:9/all")
    variants_only = endpoint_create(url="http://127.0.0.1:9/variants", event_types=["variant.registered"])
    endpoint_create(url="http://127.0.0.1:9/off", is_active=False)
    completed = record("campaign.completed")
    registered = record("variant.registered", {"id": 1})
    assert [d.endpoint for d in completed] == [everything]
    assert {d.endpoint for d in registered} == {everything, variants_only}
    assert len({d.event_id for d in registered}) == 1  # one event, one webhook-id for every endpoint


def test_a_test_event_goes_to_its_endpoint_whatever_the_filter(db, receiver):
    endpoint = endpoint_create(url=receiver.url, event_types=["job.failed"])
    delivery = endpoint_send_test(endpoint=endpoint)
    delivery_attempt(delivery.pk)
    (event,) = [verified(r, endpoint.secret) for r in receiver.received]
    assert event["type"] == "webhook.test" and event["data"]["endpoint"] == endpoint.pk


def test_a_rolled_back_transaction_records_and_sends_nothing(endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        with pytest.raises(RuntimeError), transaction.atomic():
            record()
            raise RuntimeError("the cause of the event failed")
    assert not Delivery.objects.exists() and sent == []


def test_the_sweep_sends_again_a_delivery_whose_message_was_lost(endpoint, settings):
    settings.WEBHOOK_SWEEP_SECONDS = 60
    (late,) = record()
    (fresh,) = record()
    Delivery.objects.filter(pk=late.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert deliveries_sweep() == 1
    assert deliveries_sweep() == 0  # moved to now: one copy per sweep period
    assert Delivery.objects.get(pk=fresh.pk).status == "pending"


def test_a_second_receiver_shares_nothing_with_the_first(db):
    first, second = Receiver(), Receiver()
    try:
        a = endpoint_create(url=first.url)
        b = endpoint_create(url=second.url)
        for delivery in record():
            delivery_attempt(delivery.pk)
        assert verified(first.received[0], a.secret) == verified(second.received[0], b.secret)
        assert first.received[0].headers["webhook-signature"] != second.received[0].headers["webhook-signature"]
    finally:
        first.stop()
        second.stop()


def test_the_sweep_drops_finished_deliveries_older_than_the_keep_period(endpoint, receiver, settings):
    settings.WEBHOOK_KEEP_DAYS = 30
    old, recent, waiting = record(), record(), record()
    for delivery in (old[0], recent[0]):
        delivery_attempt(delivery.pk)
    Delivery.objects.filter(pk__in=[old[0].pk, waiting[0].pk]).update(updated_at=timezone.now() - timedelta(days=31))
    deliveries_sweep()
    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent[0].pk, waiting[0].pk}
    assert not DeliveryAttempt.objects.filter(delivery_id=old[0].pk).exists()


def test_a_bad_retry_delay_setting_names_the_value(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from webapp.env import env_seconds_list

    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "5, 30,soon")
    with pytest.raises(ImproperlyConfigured, match="'soon' is not a number of seconds"):
        env_seconds_list("WEBHOOK_RETRY_DELAYS", [])
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "5,-1")
    with pytest.raises(ImproperlyConfigured, match="'-1'"):
        env_seconds_list("WEBHOOK_RETRY_DELAYS", [])
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "0.5, 2")
    assert env_seconds_list("WEBHOOK_RETRY_DELAYS", []) == [0.5, 2.0]
