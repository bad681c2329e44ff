"""The judge gate (webapp/training/data.py): a training job names judges, and each judge's labels enter
its snapshot only in the languages where the judge agrees well enough with people on enough tasks;
the preview, summary.json and the variant's lineage list per language who was admitted or refused and
on what evidence. Judges' labels never train ungated."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.services.judging import judge_label
from webapp.training.data import DataSpec, snapshot_write
from webapp.training.models import TrainingJob


@pytest.fixture
def keen(monkeypatch):
    """`keen@1` always prefers the response stored first."""
    judge = Judge(name="keen", version="1", rank=lambda prompt, texts, language: [[i] for i in range(len(texts))])
    monkeypatch.setitem(judges._items, "keen", judge)


@pytest.fixture
def base_variant(db):
    """A servable base variant: a complete (empty) folder is all that launching a job checks."""
    from ml.llm.files import write_folder_atomically
    from webapp.modelstore.services import variant_register

    write_folder_atomically(Path(settings.MODELS_STORE) / "base/gate-base", lambda tmp: tmp.mkdir())
    return variant_register(name="gate-base", kind="base", path="base/gate-base")


@pytest.fixture
def labelled(api, keen):
    """en: people agree with the judge on 3 tasks; de: people disagree with it on 3 tasks. Two more
    tasks per language only the judge ranked. The judge ranked all ten."""
    person = api(make_annotator("gatekeeper", ["en", "de"]))
    for language, human in (("en", [[0], [1]]), ("de", [[1], [0]])):
        _, tasks = campaign_with_tasks(n_tasks=5, language=language, n_responses=2, name=f"gate-{language}")
        for task in tasks[:3]:
            reply = person.post(f"/api/v1/tasks/{task.pk}/annotations/", {"ranking": human}, format="json")
            assert reply.status_code in (200, 201), reply.content
        for task in tasks:
            judge_label(task_id=task.pk, judge="keen")


def preview(client, data: dict) -> dict:
    """The form's preview of this data (what a launch would select now)."""
    reply = client.post("/api/v1/training-jobs/preview/", {"data": data}, format="json")
    assert reply.status_code == 200, reply.json()
    return reply.json()


def launch(client, data: dict, **body):
    return client.post(
        "/api/v1/training-jobs/",
        {"kind": "dpo", "parent": body.pop("parent", "gate-base"), "data": data, **body},
        format="json",
    )


GATED = {"judges": ["keen@1"], "judge_min_agreement": 0.8, "judge_min_items": 3, "eval_fraction": 0}


@pytest.mark.django_db
def test_the_gate_admits_a_judge_in_one_language_and_refuses_it_in_another(api, staff, base_variant, labelled):
    client = api(staff)
    counted = preview(client, GATED)
    reply = launch(client, GATED, preview=counted["token"])
    assert reply.status_code == 202, reply.json()
    preview_ = reply.json()["data_summary"]["preview"]
    assert preview_ == {k: v for k, v in counted.items() if k != "token"}  # the job keeps what was previewed
    # en: 3 tasks ranked by the person and the judge (3 annotation pairs) + 2 judge-only (2 judge pairs);
    # de: the judge is refused, so its 3 people's pairs stay and its 2 judge-only tasks give nothing.
    assert preview_["by_source"] == {"annotation": 6, "judge": 2}
    assert preview_["train"] == {"en": 5, "de": 3}
    gate = preview_["judges"]
    assert (gate["judges"], gate["min_agreement"], gate["min_items"], gate["unlabelled"]) == (["keen@1"], 0.8, 3, [])
    [admitted] = gate["by_language"]["en"]["admitted"]
    assert gate["by_language"]["en"]["refused"] == []
    assert {k: admitted[k] for k in ("judge", "agreement", "n_tasks", "n_pairs", "abstentions")} == {
        "judge": "keen@1",
        "agreement": 1.0,
        "n_tasks": 3,
        "n_pairs": 3,
        "abstentions": 0,
    }
    assert admitted["ci"][1] == 1.0 and 0.4 < admitted["ci"][0] < 0.5  # Wilson 3/3: (0.4385, 1)
    [refused] = gate["by_language"]["de"]["refused"]
    assert gate["by_language"]["de"]["admitted"] == []
    assert (refused["agreement"], refused["n_tasks"]) == (0.0, 3)
    assert refused["reason"] == "agreement 0.000 is below 0.8"

    # The same gate, decided again at snapshot time, in summary.json.
    job = TrainingJob.objects.get(pk=reply.json()["id"])
    summary = snapshot_write(DataSpec.from_params(job.data_spec), "dpo", Path(settings.MODELS_STORE) / job.folder)
    assert summary["pairs_by_source"] == {"annotation": 6, "judge": 2}
    assert summary["judges"] == gate
    on_disk = json.loads((Path(settings.MODELS_STORE) / job.folder / "data/summary.json").read_text())
    assert on_disk["judges"]["by_language"]["de"]["refused"][0]["reason"] == refused["reason"]
    rows = [json.loads(line) for line in (Path(settings.MODELS_STORE) / job.folder / "data/train.jsonl").open()]
    assert {(r["language"], r["source"], r["origin"]) for r in rows if r["source"] == "judge"} == {
        ("en", "judge", "keen@1")
    }


@pytest.mark.django_db
def test_too_little_evidence_refuses_everywhere_and_jobs_without_judges_are_as_before(
    api, staff, base_variant, labelled
):
    client = api(staff)
    counted = preview(client, {**GATED, "judge_min_items": 4})
    assert counted["by_source"] == {"annotation": 6}
    reasons = {lang: side["refused"][0]["reason"] for lang, side in counted["judges"]["by_language"].items()}
    assert reasons == {lang: "3 task(s) compared with people, fewer than 4" for lang in ("en", "de")}
    # Languages filter the gate's report too; a job naming no judge trains on people only, as before.
    counted = preview(client, {**GATED, "languages": ["en"]})
    assert list(counted["judges"]["by_language"]) == ["en"] and counted["by_source"] == {"annotation": 3, "judge": 2}
    counted = preview(client, {"eval_fraction": 0})
    assert counted["by_source"] == {"annotation": 6} and "judges" not in counted
    # Naming judges beside explicit sources: the sources select among the others (no import here), and the
    # gate still weighs the judge against every person: all five en tasks give the judge's pairs alone.
    counted = preview(client, {**GATED, "sources": ["import"]})
    assert counted["by_source"] == {"judge": 5} and counted["train"] == {"en": 5}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"sources": ["judge"]}, "data.judges", "only through the gate"),
        ({"source": "judge", "origin": "keen@1"}, "data.judges", "name the judges"),
        ({"judges": "keen"}, "data.judges", "is not NAME@VERSION"),
        ({"judges": [1]}, "data.judges", "NAME@VERSION"),
        ({"judges": ["nobody@1"]}, "data.judges", "no judge 'nobody@1'"),
        ({"judges": ["keen@1"], "judge_min_agreement": 0}, "data.judge_min_agreement", "above 0 and at most 1"),
        ({"judges": ["keen@1"], "judge_min_agreement": 1.2}, "data.judge_min_agreement", "at most 1"),
        ({"judges": ["keen@1"], "judge_min_agreement": "high"}, "data.judge_min_agreement", "a number"),
        ({"judges": ["keen@1"], "judge_min_items": 0}, "data.judge_min_items", "at least 1"),
        ({"judges": ["keen@1"], "judge_min_items": True}, "data.judge_min_items", "whole number"),
        ({"judge_min_items": 5}, "data.judge_min_items", "names none"),
    ],
)
def test_bad_gate_settings_are_a_400_naming_the_field(api, staff, base_variant, keen, data, field, message):
    reply = launch(api(staff), data)
    assert reply.status_code == 400, reply.json()
    assert reply.json()["field"] == field and message in reply.json()["detail"], reply.json()
    assert not TrainingJob.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_variants_lineage_lists_the_judges_admitted_and_refused(api, staff, tiny_variants, labelled):
    from webapp.training.services import training_run

    hp = {"max_steps": 1, "batch_size": 2, "lora_r": 4, "lora_alpha": 8, "max_length": 48}
    reply = launch(api(staff), GATED, parent="tiny-base", hyperparameters=hp)
    assert reply.status_code == 202, reply.json()
    training_run(reply.json()["id"])
    job = TrainingJob.objects.select_related("variant").get(pk=reply.json()["id"])
    assert job.status == "succeeded", job.error
    lineage = job.variant.lineage["data"]
    assert lineage["by_source"] == {"annotation": 6, "judge": 2}
    judged = lineage["judges"]["by_language"]
    assert [row["judge"] for row in judged["en"]["admitted"]] == ["keen@1"]
    assert [(row["judge"], row["n_tasks"]) for row in judged["de"]["refused"]] == [("keen@1", 3)]
    page = api(staff).get(f"/api/v1/variants/{job.variant.pk}/").json()
    assert page["lineage"]["data"]["judges"] == lineage["judges"]


@pytest.mark.django_db
def test_manage_py_train_takes_the_gate_flags(base_variant, labelled):
    from django.core.management import call_command

    call_command(
        "train", "--kind", "dpo", "--parent", "gate-base", "--judge", "keen@1", "--judge-min-items", "3", "--background"
    )
    job = TrainingJob.objects.get()
    assert (job.data_spec["judges"], job.data_spec["judge_min_items"]) == (["keen@1"], 3)
    assert "judge_min_agreement" not in job.data_spec
    assert job.data_summary["preview"]["judges"]["by_language"]["en"]["admitted"][0]["judge"] == "keen@1"
