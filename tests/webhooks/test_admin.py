"""The Django admin manages endpoints through the same services as the API (secret, validation, audit)."""

import pytest
from django.contrib.auth.models import User

from webapp.audit.models import AuditEvent
from webapp.webhooks.models import Delivery, Endpoint
from webapp.webhooks.services import delivery_attempt, endpoint_create, endpoint_send_test

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    return client


def add(client, **fields):
    form = {"url": "https://hooks.example.org/in", "description": "", "event_types": "[]", "is_active": "on"}
    return client.post("/admin/webhooks/endpoint/add/", {**form, **fields})


def test_an_endpoint_added_in_the_admin_gets_a_secret_and_an_audit_event(admin_client):
    reply = add(admin_client, event_types='["job.failed"]')
    assert reply.status_code == 302, reply.content.decode()[-2000:]
    endpoint = Endpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.event_types == ["job.failed"]
    assert AuditEvent.objects.filter(action="webhook.endpoint_create").count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"event_types": '["job.exploded"]'}, "Unknown event types: job.exploded"), ({"url": "ftp://x.org/"}, "URL")],
)
def test_the_admin_refuses_a_bad_endpoint_with_a_message(admin_client, fields, message):
    reply = add(admin_client, **fields)
    assert reply.status_code == 200 and message in reply.content.decode()
    assert not Endpoint.objects.exists()


def test_the_admin_redelivers_and_sends_test_events(admin_client, receiver):
    endpoint = endpoint_create(url=receiver.url)
    delivery = endpoint_send_test(endpoint=endpoint)
    delivery_attempt(delivery.pk)
    reply = admin_client.post("/admin/webhooks/delivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert reply.status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    admin_client.post("/admin/webhooks/endpoint/", {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    assert Delivery.objects.filter(event_type="webhook.test").count() == 2
    assert admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").status_code == 200
