"""Where labels come from (webapp/feedback/sources.py): an imported file's rankings and pairs are source
`import` with their origin, never `annotation`; training jobs, exports and the review page select by
source and origin; a judge's ranking never counts as human; the migration moves existing rows both ways."""

import json
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.services.judging import judge_label
from webapp.feedback.services.transfers import transfer_run

RANKED = {
    "id": "t-1",
    "prompt": "Wie spät ist es?",
    "language": "de",
    "responses": [{"text": "Es ist drei Uhr."}, {"text": "Keine Ahnung."}],
    "rankings": [{"annotator": "ana", "ranking": [[0], [1]]}],
}
PAIR = {"prompt": "Hallo?", "chosen": "Hallo!", "rejected": "Nein.", "language": "de", "id": "p-1"}
NAMED = {"prompt": "Danke?", "chosen": "Bitte!", "rejected": "Nö.", "language": "de", "id": "p-2", "source": "oasst"}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def base_variant(db):
    """A servable base variant: a complete (empty) folder is all that launching a job checks."""
    from ml.llm.files import write_folder_atomically
    from webapp.modelstore.services import variant_register

    write_folder_atomically(Path(settings.MODELS_STORE) / "base/src-base", lambda tmp: tmp.mkdir())
    return variant_register(name="src-base", kind="base", path="base/src-base")


def preview(client, data: dict):
    """What a launch with this data would select now (the form's preview)."""
    return client.post("/api/v1/training-jobs/preview/", {"data": data}, format="json")


def annotate(client, task_id: int, ranking: list) -> None:
    reply = client.post(f"/api/v1/tasks/{task_id}/annotations/", {"ranking": ranking}, format="json")
    assert reply.status_code in (200, 201), reply.content


@pytest.mark.django_db(transaction=True)
def test_an_imported_file_is_source_import_and_jobs_and_exports_select_it_apart(api, staff, annotator, base_variant):
    client = api(staff)
    path = write_jsonl(Path(settings.VAR_DIR) / "sources-in.jsonl", [RANKED, PAIR, NAMED])
    with path.open("rb") as handle:
        reply = client.post("/api/v1/transfers/import/", {"file": handle}, format="multipart")
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])
    assert client.get(f"/api/v1/transfers/{reply.json()['id']}/").json()["status"] == "succeeded"
    _, [task] = campaign_with_tasks(n_tasks=1, language="en")
    annotate(api(annotator), task.pk, [[2], [0], [1]])

    imported = client.get("/api/v1/annotations/", {"source": "import"}).json()["results"]
    assert [(a["annotator"], a["origin"]) for a in imported] == [("import:ana", "rankings")]
    live = client.get("/api/v1/annotations/", {"source": "annotation"}).json()["results"]
    assert [a["annotator"] for a in live] == ["ann1"]
    records = client.get("/api/v1/preferences/").json()["results"]
    records = {r["external_id"]: (r["source"], r["origin"]) for r in records}
    assert records == {"p-1": ("import", "pairs"), "p-2": ("import", "oasst")}

    def selected(data: dict) -> dict:
        reply = preview(client, {**data, "eval_fraction": 0})
        assert reply.status_code == 200, reply.json()
        counts = reply.json()
        assert counts["approximate"] is False
        return {"by_source": counts["by_source"], "pairs": counts["train_pairs"]}

    # Human annotations only: the live ranking's 2 pairs (best vs rest), none of the imported file.
    assert selected({"sources": ["annotation"]}) == {"by_source": {"annotation": 2}, "pairs": 2}
    assert selected({"source": "import", "origin": "pairs"}) == {"by_source": {"import": 1}, "pairs": 1}
    both = {"sources": ["import"], "origins": ["rankings", "oasst"]}
    assert selected(both) == {"by_source": {"import": 2}, "pairs": 2}
    assert selected({}) == {"by_source": {"annotation": 2, "import": 3}, "pairs": 5}

    reply = client.post("/api/v1/transfers/export/", {"format": "dpo", "origins": ["rankings"]}, format="json")
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])
    body = b"".join(client.get(f"/api/v1/transfers/{reply.json()['id']}/download/").streaming_content)
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert [(r["source"], r["origin"], r["chosen"][0]["content"]) for r in rows] == [
        ("import", "rankings", "Es ist drei Uhr.")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,message",
    [
        ({"sources": ["nope", 3]}, "sources must be"),  # was a 500: sorting a str with an int
        ({"source": "import", "sources": ["import"]}, "not both"),
        ({"origins": [""]}, "origins must be"),
    ],
)
def test_a_bad_source_selection_is_a_400_with_a_message(api, staff, base_variant, data, message):
    reply = preview(api(staff), data)
    assert reply.status_code == 400 and message in json.dumps(reply.json()), reply.json()
    body = {"kind": "dpo", "parent": "src-base", "data": data}
    reply = api(staff).post("/api/v1/training-jobs/", body, format="json")
    assert reply.status_code == 400 and message in json.dumps(reply.json()), reply.json()
    reply = api(staff).post("/api/v1/transfers/export/", {"sources": ["bogus"]}, format="json")
    assert reply.status_code == 400 and "sources" in reply.json()


def longest_first(prompt: str, texts: list[str], language: str) -> list[list[int]]:
    return [[i] for i in sorted(range(len(texts)), key=lambda i: -len(texts[i]))]


@pytest.mark.django_db
def test_a_judge_never_counts_as_human(api, annotator, annotator2, reviewer, monkeypatch, tmp_path):
    monkeypatch.setitem(judges._items, "longest", Judge(name="longest", version="1", rank=longest_first))
    _, [task] = campaign_with_tasks(n_tasks=1, language="en", overlap=3, n_responses=2)
    for person in (annotator, annotator2):
        annotate(api(person), task.pk, [[1], [0]])  # the humans agree on the shorter-or-equal answer 1
    judge_label(task_id=task.pk, judge="longest")
    judged = judge_label(task_id=task.pk, judge="longest")
    assert judged[1] is False and (judged[0].source, judged[0].origin) == ("judge", "longest@1")

    # Overlap: the judge took no slot, so a third person still gets the task.
    third = make_annotator("ann3", ["en"])
    assert api(third).post("/api/v1/tasks/next/").json()["task"]["id"] == task.pk
    # Agreement and trust: over the two humans only.
    report = api(reviewer).get("/api/v1/review/").json()
    assert (report["agreement"][0]["annotations"], report["agreement"][0]["pairwise"]) == (2, 1.0)
    assert {row["annotator"] for row in report["annotators"]} == {"ann1", "ann2"}
    assert api(reviewer).get("/api/v1/review/", {"source": "judge"}).status_code == 400
    # Selections: a judge's labels only when asked for.
    out = tmp_path / "out.jsonl"
    call_command("export_feedback", "--format", "dpo", "--out", str(out))
    assert [(r["source"], r["chosen"][0]["content"]) for r in map(json.loads, out.read_text().splitlines())] == [
        ("annotation", "Answer 1 to 0 (en)")
    ]
    call_command("export_feedback", "--format", "dpo", "--source", "judge", "--origin", "longest@1", "--out", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["source"], r["origin"], r["agreement"]) for r in rows] == [("judge", "longest@1", 1.0)]


@pytest.mark.django_db
def test_the_review_page_filters_by_source(api, client, reviewer, annotator, tmp_path):
    call_command("import_feedback", str(write_jsonl(tmp_path / "in.jsonl", [{**RANKED, "language": "en"}])))
    _, [task] = campaign_with_tasks(n_tasks=1, language="en")
    annotate(api(annotator), task.pk, [[0], [1], [2]])
    client.force_login(reviewer)

    def annotators(**params) -> str:
        reply = client.get("/review/", params)
        assert reply.status_code == 200
        return reply.content.decode().split('id="annotators"')[1].split("</table>")[0]

    both = annotators()
    assert "import:ana" in both and "ann1" in both
    imported = annotators(source="import")
    assert "import:ana" in imported and "ann1" not in imported
    assert 'value="import" selected' in client.get("/review/", {"source": "import"}).content.decode()
    assert "import:ana" not in annotators(source="annotation")
    assert client.get("/review/", {"source": "judge"}).status_code == 404


# --- The migration ---------------------------------------------------------------------------------
BEFORE = [("feedback", "0007_task_kind")]
AFTER = [("feedback", "0008_sources")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _seed(apps) -> None:
    User = apps.get_model("auth", "User")
    Profile = apps.get_model("feedback", "AnnotatorProfile")
    Language = apps.get_model("feedback", "Language")
    Campaign = apps.get_model("feedback", "Campaign")
    Prompt = apps.get_model("feedback", "Prompt")
    Task = apps.get_model("feedback", "Task")
    Annotation = apps.get_model("feedback", "Annotation")
    Record = apps.get_model("feedback", "PreferenceRecord")
    language = Language.objects.create(code="de", name="German")
    campaign = Campaign.objects.create(name="c")
    imported = [User.objects.create(username=f"import:a{i}") for i in range(3)]
    Profile.objects.create(user=imported[0], is_external=True)
    person = User.objects.create(username="bob")
    Profile.objects.create(user=person)
    for i in range(5):
        prompt = Prompt.objects.create(content=f"p{i}", text=f"p{i}", content_hash=f"h{i}", language=language)
        task = Task.objects.create(campaign=campaign, prompt=prompt, language=language)
        for user in [*imported, person]:
            Annotation.objects.create(task=task, annotator=user, ranking=[[0], [1]])

    def record(i: int, **fields) -> None:
        Record.objects.create(
            external_id=f"r{i}", content_hash="x", prompt="p", response_a="a", response_b="b", prompt_text="p", **fields
        )

    for i in range(3):
        record(i, outcome="a", source="import", language=language)
    record(3, outcome="a", source="import", origin="oasst", language=language)
    record(4, outcome="a", source="import", annotator=person, language=language)
    record(5, outcome="b", source="arena", language=language)
    record(6, outcome="tie", source="arena", language=language)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_row_in_batches_and_back(monkeypatch):
    monkeypatch.setattr(import_module("webapp.feedback.migrations.0008_sources"), "BATCH", 2)
    try:
        _seed(_migrate(BEFORE))
        apps = _migrate(AFTER)
        Annotation = apps.get_model("feedback", "Annotation")
        rankings = {
            (name.startswith("import:"), source, origin)
            for name, source, origin in Annotation.objects.values_list("annotator__username", "source", "origin")
        }
        assert rankings == {(True, "import", "rankings"), (False, "annotation", "")}
        assert Annotation.objects.filter(source="import").count() == 15
        Record = apps.get_model("feedback", "PreferenceRecord")
        moved = dict(Record.objects.values_list("external_id", "origin"))
        assert moved == {"r0": "pairs", "r1": "pairs", "r2": "pairs", "r3": "oasst", "r4": "api", "r5": "local"} | {
            "r6": "local"
        }
        apps = _migrate(BEFORE)
        assert "source" not in {f.name for f in apps.get_model("feedback", "Annotation")._meta.get_fields()}
        back = dict(apps.get_model("feedback", "PreferenceRecord").objects.values_list("external_id", "origin"))
        assert back == {f"r{i}": "" for i in range(7)} | {"r3": "oasst"}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
