"""The `llm` judge (webapp/judging/llm.py): registered as llm@1+<variant> on the gpu queue, it asks the
inference interface every pair in both orders, in the task's language, and ranks by pairwise wins.
A scripted backend gives figures by hand; the tiny model runs it for real."""

import pytest
from django.test import override_settings

from webapp.feedback.extensions import judges
from webapp.feedback.models import Annotation, Campaign
from webapp.feedback.services import catalog
from webapp.judging.llm import llm_judge
from webapp.judging.services import judge_job_run


class LongerIsBetter:
    """An OpenAI-like backend that prefers the longer answer and, on equal lengths, always says A."""

    def __init__(self):
        self.calls = []

    def generate_batch(self, ref, conversations, params):
        self.calls.append((ref.name, params.temperature, len(conversations)))
        replies = []
        for conversation in conversations:
            text = conversation[-1]["content"]
            a, b = (text.split(f"{tag}:\n")[1].split("\n\n")[0] for tag in self.labels(text))
            replies.append("A" if len(a) >= len(b) else "B")
        return replies

    @staticmethod
    def labels(text):
        return ("Antwort A", "Antwort B") if "Antwort A" in text else ("Answer A", "Answer B")


def a_task(language, answers, name="LLM judged"):
    campaign = Campaign.objects.filter(name=name).first() or catalog.campaign_create(name=name, languages=[language])
    prompt = catalog.prompt_create(content=f"Frage in {language}", language=language)
    responses = [catalog.response_create(prompt=prompt, content=text) for text in answers]
    return campaign, catalog.task_create(campaign=campaign, prompt=prompt, responses=responses)


def test_the_llm_judge_is_registered_on_the_gpu_queue_with_its_variant_in_its_version():
    judge = judges.get("llm")
    assert judge.origin == "llm@1+smollm2-135m-instruct" and judge.queue == "gpu"
    assert llm_judge("other").origin == "llm@1+other"


@pytest.mark.django_db
@override_settings(INFERENCE_URL="http://judge.invalid", JUDGE_LLM_BATCH_SIZE=4)
def test_a_judge_job_with_the_llm_judge_ranks_by_pairwise_wins(api, staff, monkeypatch):
    backend = LongerIsBetter()
    monkeypatch.setitem(judges._items, "llm", llm_judge("served-judge", backend=lambda: backend))
    campaign, task = a_task("de", ["kurz", "eine viel längere Antwort", "mittellang"])
    _, close = a_task("de", ["gleich", "gleich!"])
    reply = api(staff).post("/api/v1/judge-jobs/", {"judge": "llm", "campaign": campaign.pk}, format="json")
    assert reply.status_code == 202 and reply.json()["queue"] == "gpu", reply.json()
    judge_job_run(reply.json()["id"])
    job = api(staff).get(f"/api/v1/judge-jobs/{reply.json()['id']}/").json()
    assert job["status"] == "succeeded", job["error"]
    # Task 1: pairs (0,1) 1 wins, (0,2) 2 wins, (1,2) 1 wins -> scores 0:-2, 1:+2, 2:0.
    labels = {a.task_id: a for a in Annotation.objects.filter(source="judge")}
    assert labels[task.pk].ranking == [[1], [2], [0]] and labels[task.pk].origin == "llm@1+served-judge"
    # Task 2: "gleich" and "gleich!" differ by one character: the longer wins in both orders.
    assert labels[close.pk].ranking == [[1], [0]]
    # Three pairs, two orders each, in batches of at most 4; greedy; the served model by name.
    assert backend.calls == [("served-judge", 0.0, 4), ("served-judge", 0.0, 2), ("served-judge", 0.0, 2)]


@pytest.mark.django_db
@override_settings(INFERENCE_URL="http://judge.invalid")
def test_position_bias_gives_a_tie(monkeypatch):
    from webapp.feedback.services.judging import judge_label

    backend = LongerIsBetter()
    monkeypatch.setitem(judges._items, "llm", llm_judge("served-judge", backend=lambda: backend))
    _, task = a_task("en", ["same", "SAME"])
    annotation, _ = judge_label(task_id=task.pk, judge="llm")
    assert annotation.ranking == [[0, 1]]  # "A" both times: the orders disagree


@pytest.mark.django_db
def test_an_unknown_judge_variant_fails_the_job_with_the_setting_named(api, staff, monkeypatch):
    monkeypatch.setitem(judges._items, "llm", llm_judge("no-such-variant"))
    campaign, _ = a_task("en", ["one", "two"])
    job_id = (
        api(staff).post("/api/v1/judge-jobs/", {"judge": "llm", "campaign": campaign.pk}, format="json").json()["id"]
    )
    judge_job_run(job_id)
    job = api(staff).get(f"/api/v1/judge-jobs/{job_id}/").json()
    assert job["status"] == "failed" and job["progress_done"] == 0
    assert job["error"].startswith("JUDGE_LLM_VARIANT: no variant named 'no-such-variant'")


@pytest.mark.slow
@pytest.mark.django_db
def test_the_tiny_model_judges_for_real(api, staff, tiny_variants, monkeypatch):
    monkeypatch.setitem(judges._items, "llm", llm_judge("tiny-base"))
    campaign, task = a_task("ar", ["نعم", "لا أعرف", "ربما غدا"])
    job_id = (
        api(staff)
        .post("/api/v1/judge-jobs/", {"judge": "llm@1+tiny-base", "campaign": campaign.pk}, format="json")
        .json()["id"]
    )
    judge_job_run(job_id)
    job = api(staff).get(f"/api/v1/judge-jobs/{job_id}/").json()
    assert job["status"] == "succeeded" and job["result"]["ranked"] == 1, job
    ranking = Annotation.objects.get(source="judge").ranking
    assert sorted(i for rank in ranking for i in rank) == [0, 1, 2]
