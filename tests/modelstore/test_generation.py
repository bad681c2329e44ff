"""Generation on tiny real models: responses carry their settings, tasks are built with 2-4 responses
from several variants, a rerun resumes, and bad requests are refused with a message."""

import pytest
from django.core.management import CommandError, call_command

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Campaign, Response, Task
from webapp.modelstore.generation import GenerationSpec, build_tasks, generation_job_create
from webapp.modelstore.jobs import model_job_run
from webapp.modelstore.models import ModelJob
from webapp.modelstore.services import variant_ref, variant_set_enrolled

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompts_campaign(db):
    campaign, _ = campaign_with_tasks(n_tasks=3, language="de", name="Prompts")
    target = Campaign.objects.create(name="Generated", overlap=2)
    return campaign, target


def test_generate_responses_builds_tasks_from_several_variants(tiny_variants, prompts_campaign, capsys):
    base, a, b = tiny_variants
    source, target = prompts_campaign
    call_command(
        "generate_responses",
        "--variant",
        "tiny-base",
        "--variant",
        "tiny-a",
        "--campaign",
        "Generated",
        "--language",
        "de",
        "--samples",
        "2",
        "--max-new-tokens",
        "8",
        "--responses-per-task",
        "3",
    )
    assert "6 tasks" not in capsys.readouterr().out  # one task per prompt: 3 tasks
    tasks = Task.objects.filter(campaign=target)
    assert tasks.count() == 3
    for task in tasks:
        items = list(task.items.select_related("response"))
        assert 2 <= len(items) <= 3
        assert {i.response.origin.variant_id for i in items} == {base.pk, a.pk}
    response = Response.objects.filter(origin__variant=a).first()
    generation = response.metadata["generation"]
    assert generation["params"]["max_new_tokens"] == 8 and generation["params"]["temperature"] == 0.8
    assert generation["sample"] in (0, 1) and len(generation["chat_template"]) == 16
    assert response.model_name == "tiny-a"
    assert Response.objects.filter(metadata__generation__job=generation["job"]).count() == 3 * 2 * 2


def test_a_rerun_of_the_same_job_generates_nothing_twice(tiny_variants, prompts_campaign):
    base, a, _ = tiny_variants
    _, target = prompts_campaign
    job = generation_job_create(
        params={
            "variants": [base.pk, a.pk],
            "campaign": target.pk,
            "languages": ["de"],
            "samples": 1,
            "max_new_tokens": 6,
        },
        user=None,
        enqueue=False,
    )
    model_job_run(job.pk)
    before = (Response.objects.count(), Task.objects.filter(campaign=target).count())
    ModelJob.objects.filter(pk=job.pk).update(status="queued")  # as the sweep does after a crash
    model_job_run(job.pk)
    assert (Response.objects.count(), Task.objects.filter(campaign=target).count()) == before
    spec = GenerationSpec.from_params(job.params)
    assert build_tasks(job, spec, []) == {"tasks_created": 0, "prompts_skipped": 0}


@pytest.mark.parametrize(
    "params,message",
    [
        ({"variants": [], "campaign": 1}, "at least one model variant"),
        ({"variants": [1], "campaign": 1, "samples": 1}, "two responses"),
        ({"variants": [1], "campaign": 1, "samples": 9}, "between 1 and 8"),
        ({"variants": [1], "campaign": 1, "temperature": 7}, "temperature"),
        ({"variants": [1], "campaign": 1, "responses_per_task": 5}, "between 2 and 4"),
        ({"variants": [1], "campaign": 1, "languages": ["??"]}, "BCP-47"),
    ],
)
def test_bad_generation_settings_are_refused(params, message):
    with pytest.raises(Exception) as info:
        GenerationSpec.from_params(params)
    assert message in str(info.value)


def test_a_generation_without_prompts_is_refused_before_it_is_queued(tiny_variants, prompts_campaign):
    _, target = prompts_campaign
    with pytest.raises(CommandError, match="No prompt matches"):
        call_command("generate_responses", "--variant", "tiny-base", "--campaign", "Generated", "--language", "ja")
    assert not ModelJob.objects.exists()


def test_an_incomplete_variant_is_never_served_or_enrolled(tiny_variants, settings):
    from pathlib import Path

    _, a, _ = tiny_variants
    (Path(settings.MODELS_STORE) / a.path / ".complete").unlink()
    with pytest.raises(Exception, match="not ready"):
        variant_ref(a)
    with pytest.raises(Exception, match="not ready"):
        variant_set_enrolled(variant=a, enrolled=True)


def test_the_api_launches_generation_and_enrols_variants(api, staff, annotator, tiny_variants, prompts_campaign):
    base, a, _ = tiny_variants
    _, target = prompts_campaign
    body = {"variants": [base.pk, a.pk], "campaign": target.pk, "languages": ["de"], "samples": 1}
    assert api(annotator).post("/api/v1/model-jobs/generate/", body, format="json").status_code == 403
    reply = api(staff).post("/api/v1/model-jobs/generate/", body, format="json")
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    bad = api(staff).post("/api/v1/model-jobs/generate/", {**body, "variants": [999, a.pk]}, format="json")
    assert bad.status_code == 400 and "does not exist" in bad.json()["detail"]
    enrolled = api(staff).post(f"/api/v1/variants/{a.pk}/enrol/", {"enrolled": True}, format="json")
    assert enrolled.status_code == 200 and enrolled.json()["enrolled_in_arena"] is True
    assert api(annotator).get("/api/v1/variants/").json()["count"] == 3


def test_an_adapter_gets_a_merged_copy_that_serves_the_same_answers(tiny_variants):
    from ml.llm.inference import LocalBackend
    from ml.llm.params import GenerationParams
    from webapp.modelstore.services import variant_full_model

    base, a, _ = tiny_variants
    assert variant_full_model(base) == base
    merged = variant_full_model(a)
    assert merged.kind == "merged" and merged.parent == a and variant_full_model(a) == merged
    backend, params = LocalBackend(), GenerationParams(max_new_tokens=10)
    ask = [{"role": "user", "content": "Bonjour, ça va ?"}]
    assert backend.generate(variant_ref(merged), ask, params) == backend.generate(variant_ref(a), ask, params)
