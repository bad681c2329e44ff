"""PreparedQuery (webapp/prepared.py): a queryset compiled once answers as the ORM does for every call's values, and
a build whose stored SQL would be wrong for other values is refused."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Lease, Task, TaskResponse
from webapp.prepared import PreparedQuery

pytestmark = [pytest.mark.services, pytest.mark.django_db]
compiles = pytest.mark.skipif(settings.IS_SQLITE, reason="queries are compiled once on PostgreSQL only")


def _leased_tasks(shape: tuple, *, campaign_id: int, user: User, after) -> object:
    return (
        Task.objects.filter(campaign_id=campaign_id)
        .select_related("campaign", "prompt")
        .annotate(n=Count("items"))
        .exclude(leases__annotator=user, leases__expires_at__gt=after)
        .order_by("id")
    )


def test_a_prepared_query_answers_as_the_orm_for_each_calls_values():
    first, first_tasks = campaign_with_tasks(n_tasks=3, name="one")
    second, _second_tasks = campaign_with_tasks(n_tasks=2, name="two")
    user = User.objects.create_user(username="leaser")
    now = timezone.now()
    Lease.objects.create(task=first_tasks[0], annotator=user, expires_at=now + timedelta(minutes=5))
    prepared = PreparedQuery(_leased_tasks)
    for campaign, after in [(first, now), (second, now), (first, now + timedelta(hours=1))]:
        expected = list(_leased_tasks((), campaign_id=campaign.pk, user=user, after=after))
        got = prepared.rows(campaign_id=campaign.pk, user=user, after=after)
        assert [(t.pk, t.n, t.campaign.name, t.prompt.text) for t in got] == [
            (t.pk, t.n, t.campaign.name, t.prompt.text) for t in expected
        ]
    assert prepared.first(campaign_id=first.pk, user=user, after=now).pk == first_tasks[1].pk
    assert prepared.exists(campaign_id=second.pk, user=user, after=now)
    assert not prepared.exists(campaign_id=second.pk + 100, user=user, after=now)


@compiles
def test_a_parameter_computed_from_a_value_is_refused():
    def later(shape: tuple, *, now) -> object:
        return Lease.objects.filter(expires_at__gt=now + timedelta(seconds=30))

    with pytest.raises(ValueError, match="computed from a value"):
        PreparedQuery(later).rows(now=timezone.now())


@compiles
def test_a_value_the_query_does_not_use_is_refused():
    def unused(shape: tuple, *, task_id: int, user: User) -> object:
        return TaskResponse.objects.filter(task_id=task_id)

    with pytest.raises(ValueError, match="does not use"):
        PreparedQuery(unused).rows(task_id=1, user=User.objects.create_user(username="someone"))


@compiles
def test_a_build_that_reads_the_database_is_refused():
    def reads(shape: tuple, *, task_id: int) -> object:
        return TaskResponse.objects.filter(task_id=task_id, position__lt=Task.objects.count())

    with pytest.raises(ValueError, match="ran a query"):
        PreparedQuery(reads).rows(task_id=1)
