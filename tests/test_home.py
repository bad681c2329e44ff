"""The home page shows where the loop stands; a variant's page shows its lineage, evaluation and
arena standing."""

import pytest
from django.core.cache import cache
from django.test import Client

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.services import assignment
from webapp.modelstore.models import ModelVariant, VariantStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def variant(name, kind="base", parent=None, **fields) -> ModelVariant:
    return ModelVariant.objects.create(
        name=name, kind=kind, parent=parent, path=f"x/{name}", status=VariantStatus.READY, **fields
    )


def test_home_shows_tasks_open_and_done_agreement_and_models(annotator, annotator2):
    _, tasks = campaign_with_tasks(n_tasks=3, overlap=2)
    for user, ranking in ((annotator, [[0], [1], [2]]), (annotator2, [[0], [2], [1]])):
        assignment.tasks_next(user=user)
        assignment.annotation_submit(user=user, task_id=tasks[0].pk, ranking=ranking)
    variant("base-model")
    body = Client().get("/").content.decode()
    assert "base-model" in body and "/annotate/" in body and "/arena/" in body and "/search/" in body
    row = body[body.index('<table id="languages">') :]
    # en: 3 tasks, one done (overlap 2 reached), two open, two annotations.
    assert '<td class="num">2</td><td class="num">1</td><td class="num">2</td>' in row


def test_a_variant_page_shows_its_lineage_data_sources_evaluation_and_enrolment(staff):
    base = variant("base-model")
    evaluation = {
        "de": {
            "n": 4,
            "accuracy": 0.75,
            "accuracy_ci": [0.3, 0.95],
            "parent_accuracy": 0.5,
            "parent_accuracy_ci": [0.15, 0.85],
            "accuracy_per_token": 0.75,
            "parent_accuracy_per_token": 0.5,
            "reward_accuracy": 0.75,
        },
    }
    lineage = {
        "job": None,
        "kind": "dpo",
        "parent": "base-model",
        "steps": 40,
        "data": {"by_source": {"annotation": 30, "arena": 5}, "by_language": {"de": 35}, "train_rows": 35},
        "parameters": {"beta": 0.1, "lora": {"r": 8, "target_modules": ["q_proj", "v_proj"]}},
    }
    child = variant("base-model-dpo-1", kind="dpo", parent=base, lineage=lineage, metrics={"evaluation": evaluation})
    client = Client()
    client.force_login(staff)
    body = client.get(f"/models/{child.pk}/").content.decode()
    assert "base-model</a>" in body and 'arena</td><td class="num">5' in body and "0.75 [0.30, 0.95]" in body
    assert f'data-url="/api/v1/variants/{child.pk}/enrol/"' in body and "Enrol in the arena" in body
    assert "No arena votes yet." in body
    assert "r=8, target_modules=q_proj, v_proj" in body and "[&#x27;" not in body and "{&#x27;" not in body  # no repr
    assert client.get(f"/models/{base.pk}/").status_code == 200
    assert Client().get(f"/models/{child.pk}/").status_code == 302  # staff only


def test_home_says_when_its_figures_are_from_and_when_they_are_behind(annotator):
    from django.test import override_settings

    _, tasks = campaign_with_tasks(n_tasks=2, overlap=1)
    assignment.tasks_next(user=annotator)
    with override_settings(REVIEW_FOLD_ON_READ=0):  # nothing folded on read: the page is behind
        body = Client().get("/").content.decode()
    assert "Not folded yet." in body and "Behind: 2 new rows" in body  # the two tasks
    cache.clear()
    assignment.annotation_submit(user=annotator, task_id=tasks[0].pk, ranking=[[0], [1], [2]])
    body = Client().get("/").content.decode()  # folded on read: as of now
    assert "Figures as of" in body and "Behind" not in body
    row = body[body.index('<table id="languages">') :]
    assert '<td class="num">1</td><td class="num">1</td><td class="num">1</td>' in row
