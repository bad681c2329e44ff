"""The webhooks API through the Django test client: staff only; endpoints CRUD with validation; the test
event; each endpoint's delivery log and redelivery."""

import pytest

from webapp.audit.models import AuditEvent
from webapp.webhooks.models import Delivery, DeliveryAttempt
from webapp.webhooks.services import delivery_attempt, event_record

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/endpoints/"


def create(client, **body):
    return client.post(BASE, {"url": "http://127.0.0.1:9/hook", **body}, format="json")


def test_only_staff_manage_endpoints(api, staff, annotator, reviewer):
    created = create(api(staff))
    assert created.status_code == 201, created.json()
    for user in (annotator, reviewer):
        client = api(user)
        assert client.get(BASE).status_code == 403
        assert create(client).status_code == 403
        assert client.get(f"{BASE}{created.json()['id']}/deliveries/").status_code == 403
        assert client.post(f"{BASE}{created.json()['id']}/test/").status_code == 403
    assert api(None).get(BASE).status_code in (401, 403)


def test_staff_create_read_change_and_delete_an_endpoint(api, staff):
    client = api(staff)
    reply = create(client, description="CI", event_types=["job.failed", "job.succeeded"])
    body = reply.json()
    assert body["secret"].startswith("whsec_") and body["event_types"] == ["job.failed", "job.succeeded"]
    url = f"{BASE}{body['id']}/"
    assert client.get(url).json()["description"] == "CI"
    assert client.get(BASE).json()["results"][0]["id"] == body["id"]
    changed = client.patch(url, {"is_active": False, "event_types": []}, format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert changed.json()["event_types"] == [] and changed.json()["secret"] == body["secret"]
    rotated = client.post(f"{url}rotate-secret/").json()["secret"]
    assert rotated.startswith("whsec_") and rotated != body["secret"]
    assert client.put(url, {"url": "http://x.test/"}, format="json").status_code == 405
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "webhook.endpoint_create",
        "webhook.endpoint_update",
        "webhook.endpoint_rotate_secret",
        "webhook.endpoint_delete",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"event_types": ["job.exploded"]}, "event_types"),
        ({"event_types": ["webhook.test"]}, "event_types"),
        ({"event_types": "job.failed"}, "event_types"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_a_bad_endpoint_is_refused_with_the_field_named(api, staff, body, field):
    reply = api(staff).post(BASE, {"url": "http://127.0.0.1:9/hook", **body}, format="json")
    assert reply.status_code == 400 and field in reply.json(), reply.json()


def test_the_event_types_are_listed(api, staff):
    types = [row["type"] for row in api(staff).get("/api/v1/webhooks/events/").json()]
    assert "job.succeeded" in types and "campaign.completed" in types and "webhook.test" in types


def test_a_test_event_is_queued_and_logged_and_a_finished_delivery_can_be_redelivered(api, staff, receiver):
    client = api(staff)
    endpoint = create(client, url=receiver.url, event_types=["job.failed"]).json()
    reply = client.post(f"{BASE}{endpoint['id']}/test/")
    assert reply.status_code == 202 and reply.json()["event_type"] == "webhook.test"
    delivery_id = reply.json()["id"]
    assert delivery_attempt(delivery_id) == "succeeded"  # what the worker does with the queued task

    log = client.get(f"{BASE}{endpoint['id']}/deliveries/").json()
    assert [row["id"] for row in log["results"]] == [delivery_id]
    assert log["results"][0]["status"] == "succeeded" and log["results"][0]["last_status_code"] == 200
    assert client.get(f"{BASE}{endpoint['id']}/deliveries/?status=failed").json()["results"] == []
    detail = client.get(f"{BASE}{endpoint['id']}/deliveries/{delivery_id}/").json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [200]

    again = client.post(f"{BASE}{endpoint['id']}/deliveries/{delivery_id}/redeliver/")
    assert again.status_code == 202 and (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
    conflict = client.post(f"{BASE}{endpoint['id']}/deliveries/{delivery_id}/redeliver/")
    assert conflict.status_code == 409 and conflict.json()["detail"]
    assert delivery_attempt(delivery_id) == "succeeded"
    assert DeliveryAttempt.objects.filter(delivery_id=delivery_id).count() == 2  # the log keeps both
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 2 and ids == {again.json()["event_id"]}  # same id: receivers dedupe


def test_a_delivery_is_only_reached_through_its_own_endpoint(api, staff):
    client = api(staff)
    first, second = create(client).json(), create(client, url="http://127.0.0.1:9/other").json()
    (delivery,) = [d for d in event_record(event_type="job.failed", data={}) if d.endpoint_id == first["id"]]
    assert client.get(f"{BASE}{second['id']}/deliveries/{delivery.pk}/").status_code == 404
    assert client.post(f"{BASE}{second['id']}/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert client.get(f"{BASE}{first['id']}/deliveries/{delivery.pk}/").status_code == 200
    assert client.get(f"{BASE}abc/deliveries/").status_code == 404
    assert client.get(f"{BASE}{first['id']}/deliveries/?status=lost").status_code == 400


def test_a_turned_off_endpoint_gets_no_test_event(api, staff):
    client = api(staff)
    endpoint = create(client, is_active=False).json()
    reply = client.post(f"{BASE}{endpoint['id']}/test/")
    assert reply.status_code == 409 and "turned off" in reply.json()["detail"]
    assert Delivery.objects.count() == 0
