"""Staff actions leave an audit event (who, what, which row, from where), written in the action's own
transaction, and the log is readable, never editable, in the admin."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from tests.feedback.factories import campaign_with_tasks
from webapp.accounts.services import token_issue
from webapp.arena.models import ExcludedClient
from webapp.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ADDRESS = "10.1.2.3"


@pytest.fixture
def staff_api(staff):
    """Staff over the API with a real token, from a known address."""
    return APIClient(REMOTE_ADDR=ADDRESS, HTTP_AUTHORIZATION=f"Token {token_issue(user=staff).key}")


def events() -> list[tuple[str, str, str, str, str]]:
    return [(e.actor_name, e.action, e.target_type, e.target_id, e.ip) for e in AuditEvent.objects.order_by("id")]


def test_deletions_gold_marks_exports_and_exclusions_are_logged_with_actor_and_address(staff_api):
    campaign, tasks = campaign_with_tasks(n_tasks=3)
    task, other, last = tasks
    assert staff_api.post(f"/api/v1/tasks/{task.pk}/gold/", {"position": 1}, format="json").status_code == 200
    assert staff_api.delete(f"/api/v1/tasks/{other.pk}/").status_code == 204
    assert staff_api.delete(f"/api/v1/prompts/{last.prompt_id}/").status_code == 204
    assert staff_api.delete(f"/api/v1/campaigns/{campaign.pk}/").status_code == 202  # a delete job
    export = staff_api.post("/api/v1/transfers/export/", {"format": "pairs"}, format="json")
    assert export.status_code == 202
    exclusion = {"client_hash": "d" * 64, "reason": "bot"}
    assert staff_api.post("/api/v1/arena/exclusions/", exclusion, format="json").status_code == 201
    excluded = ExcludedClient.objects.get().pk
    assert staff_api.delete(f"/api/v1/arena/exclusions/{'d' * 64}/").status_code == 204
    assert events() == [
        ("staff", "task.gold", "feedback.task", str(task.pk), ADDRESS),
        ("staff", "task.delete", "feedback.task", str(other.pk), ADDRESS),
        ("staff", "prompt.delete", "feedback.prompt", str(last.prompt_id), ADDRESS),
        ("staff", "campaign.delete", "feedback.campaign", str(campaign.pk), ADDRESS),
        ("staff", "export.create", "feedback.transferjob", str(export.json()["id"]), ADDRESS),
        ("staff", "arena.client_exclude", "arena.excludedclient", str(excluded), ADDRESS),
        ("staff", "arena.client_include", "", "", ADDRESS),
    ]
    assert AuditEvent.objects.get(action="task.gold").details == {"position": 1}
    assert AuditEvent.objects.get(action="arena.client_include").details == {"client_hash": "d" * 64, "votes": 0}


def test_a_refused_action_leaves_no_event(staff_api, annotator):
    _, (task, *_) = campaign_with_tasks(n_tasks=1)
    assert staff_api.post(f"/api/v1/tasks/{task.pk}/gold/", {"position": 9}, format="json").status_code == 400
    annotator_api = APIClient(HTTP_AUTHORIZATION=f"Token {token_issue(user=annotator).key}")
    assert annotator_api.delete(f"/api/v1/tasks/{task.pk}/").status_code == 403
    assert staff_api.post(f"/api/v1/tasks/{task.pk}/gold/", {"position": 0}, format="json").status_code == 200
    assert [event[1] for event in events()] == ["task.gold"]


def test_deactivating_an_annotator_on_the_team_page_is_logged(staff, annotator):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(staff)
    reply = client.post(f"/team/{annotator.pk}/", {"languages": ["en"], "is_active": ""})
    assert reply.status_code == 302
    assert events() == [("staff", "user.deactivate", "auth.user", str(annotator.pk), ADDRESS)]
    client.post(f"/team/{annotator.pk}/", {"languages": ["en"], "is_active": ""})  # no change, no event
    assert len(events()) == 1


def test_the_admin_shows_the_log_and_refuses_to_change_it(staff_api):
    _, (task, *_) = campaign_with_tasks(n_tasks=1)
    staff_api.delete(f"/api/v1/tasks/{task.pk}/")
    event = AuditEvent.objects.get()
    admin = Client()
    admin.force_login(User.objects.create_superuser(username="root", password="pw-root"))
    listing = admin.get("/admin/audit/auditevent/")
    assert listing.status_code == 200 and "task.delete" in listing.content.decode()
    assert admin.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert admin.get("/admin/audit/auditevent/add/").status_code == 403
    assert admin.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
