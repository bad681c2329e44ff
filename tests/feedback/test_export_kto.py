"""export_feedback --format kto: each unpaired source's rule on hand-made rows, source selection, one row per
answer, the CLI's refusals, and the file loading with datasets and training through the runner unchanged."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.services.assignment import annotation_submit
from webapp.feedback.services.catalog import preference_create

pytestmark = pytest.mark.django_db


def vote(prompt, a, b, outcome, n=0, language="en"):
    return preference_create(
        prompt=prompt,
        response_a=a,
        response_b=b,
        outcome=outcome,
        language=language,
        source="arena",
        origin="local",
        external_id=f"vote-{prompt}-{n}",
    )


def export(tmp_path, *args) -> list[dict]:
    out = tmp_path / "kto.jsonl"
    call_command("export_feedback", "--format", "kto", "--out", str(out), *args)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def labels(rows) -> set[tuple[str, bool, str]]:
    """(completion text, label, source) of each row."""
    return {(r["completion"][0]["content"], r["label"], r["source"]) for r in rows}


def texts(task) -> list[str]:
    return [item.response.content for item in task.items.all()]


@pytest.fixture
def store(annotator, annotator2):
    """Arena votes (a win, both bad, a tie), ranking tasks (strict best and worst; a strict best only), and
    flagged tasks (unsafe by one annotator; all_bad by one of two, which is no majority)."""
    vote("Capital of France?", "Paris.", "Lyon.", "a")
    vote("Capital of Peru?", "Cusco.", "Quito.", "both_bad")
    vote("Capital of Chile?", "Santiago.", "Santiago de Chile.", "tie")
    _, tasks = campaign_with_tasks(n_tasks=4, overlap=2)
    strict, best_only, unsafe, minority = tasks
    for user in (annotator, annotator2):
        annotation_submit(user=user, task_id=strict.pk, ranking=[[1], [0], [2]])
    annotation_submit(user=annotator, task_id=best_only.pk, ranking=[[0], [1, 2]])
    annotation_submit(user=annotator, task_id=unsafe.pk, ranking=[[0], [1], [2]], flags=["unsafe"])
    annotation_submit(user=annotator2, task_id=unsafe.pk, ranking=[[0], [1], [2]])
    annotation_submit(user=annotator, task_id=minority.pk, ranking=[[2], [1], [0]], flags=["all_bad"])
    annotation_submit(user=annotator2, task_id=minority.pk, ranking=[[2], [1], [0]])
    return {
        "strict": texts(strict),
        "best_only": texts(best_only),
        "unsafe": texts(unsafe),
        "minority": texts(minority),
    }


def test_each_source_labels_by_its_rule_and_all_are_on_by_default(tmp_path, store):
    rows = export(tmp_path)
    s = store
    assert labels(rows) == {
        # arena: the winner desirable, the loser undesirable; both bad: both undesirable; the tie: nothing
        ("Paris.", True, "arena"),
        ("Lyon.", False, "arena"),
        ("Cusco.", False, "arena"),
        ("Quito.", False, "arena"),
        # ranking: strict best and strict worst; a task whose two worst tie gives its best only; the
        # all_bad flag of one annotator in two is no majority, so that task still ranks
        (s["strict"][1], True, "ranking"),
        (s["strict"][2], False, "ranking"),
        (s["best_only"][0], True, "ranking"),
        (s["minority"][2], True, "ranking"),
        (s["minority"][0], False, "ranking"),
        # flags: one unsafe flag leaves the task out of the rankings and makes each of its responses undesirable
        *((text, False, "flags") for text in s["unsafe"]),
    }
    first = next(r for r in rows if r["source"] == "arena")
    assert first["prompt"] == [{"role": "user", "content": "Capital of France?"}]
    assert first["completion"] == [{"role": "assistant", "content": "Paris."}]
    assert first["language"] == "en" and first["label"] is True
    assert {type(r["label"]) for r in rows} == {bool}
    # Every answer to one prompt shares a group, so a split keeps them together.
    by_prompt = {}
    for r in rows:
        by_prompt.setdefault(json.dumps(r["prompt"]), set()).add(r["group"])
    assert all(len(groups) == 1 for groups in by_prompt.values())


@pytest.mark.parametrize(
    "chosen,expected",
    [("arena", {"arena"}), ("ranking,flags", {"ranking", "flags"}), ("flags", {"flags"})],
)
def test_kto_sources_select_the_sources(tmp_path, store, chosen, expected):
    assert {r["source"] for r in export(tmp_path, "--kto-sources", chosen)} == expected


def test_the_export_selection_applies_to_the_sources(tmp_path, store):
    assert {r["source"] for r in export(tmp_path, "--source", "annotation")} == {"ranking", "flags"}
    assert {r["source"] for r in export(tmp_path, "--campaign", "Campaign")} == {"ranking", "flags"}
    assert export(tmp_path, "--language", "de") == []


def test_one_row_per_answer_by_majority_a_tie_leaves_it_out_and_unsafe_wins(tmp_path, annotator, annotator2):
    vote("Q?", "good", "bad", "a", n=1)
    vote("Q?", "good", "bad", "a", n=2)
    vote("Q?", "bad", "good", "a", n=3)  # "good" loses once: 2 up, 1 down
    vote("Even?", "left", "right", "a", n=1)
    vote("Even?", "left", "right", "b", n=2)  # 1 up, 1 down each: neither is labelled
    _, [task] = campaign_with_tasks(n_tasks=1, overlap=2)
    unsafe_answer = texts(task)[0]
    annotation_submit(user=annotator, task_id=task.pk, ranking=[[0], [1], [2]], flags=["unsafe"])
    # The same answer to the same prompt wins an arena vote (a string there, messages in the export): the
    # unsafe flag wins, and the row is the flags source's.
    vote(task.prompt.content, unsafe_answer, "something else", "a", n=1)
    rows = export(tmp_path)
    assert [(r["completion"][0]["content"], r["label"]) for r in rows if r["prompt"][0]["content"] == "Q?"] == [
        ("good", True),
        ("bad", False),
    ]
    assert not [r for r in rows if r["prompt"][0]["content"] == "Even?"]
    flagged = [r for r in rows if r["completion"][0]["content"] == unsafe_answer]
    assert [(r["label"], r["source"]) for r in flagged] == [(False, "flags")]
    assert len({r["id"] for r in rows}) == len(rows)


def test_bad_kto_options_are_refused_with_a_clear_message(tmp_path):
    with pytest.raises(CommandError, match=r"unknown KTO source\(s\) bogus; use arena, ranking, flags"):
        call_command("export_feedback", "--format", "kto", "--out", str(tmp_path / "x"), "--kto-sources", "arena,bogus")
    with pytest.raises(CommandError, match="--kto-sources needs --format kto"):
        call_command("export_feedback", "--format", "dpo", "--out", str(tmp_path / "x"), "--kto-sources", "arena")
    assert not (tmp_path / "x").exists()


def test_the_export_api_refuses_an_unknown_kto_source(api, staff):
    bad = api(staff).post("/api/v1/transfers/export/", {"format": "kto", "kto_sources": ["bogus"]}, format="json")
    assert bad.status_code == 400 and "kto_sources" in json.dumps(bad.json())


@pytest.mark.slow
def test_the_kto_export_loads_with_datasets_and_trains_through_the_runner(tmp_path, store, tiny_model):
    from datasets import load_dataset

    from ml.training.config import Hyperparameters, TrainingConfig
    from ml.training.runner import main

    rows = export(tmp_path)
    dataset = load_dataset("json", data_files=str(tmp_path / "kto.jsonl"), split="train")
    assert len(dataset) == len(rows) and set(dataset.column_names) >= {"prompt", "completion", "label"}
    config = TrainingConfig(
        kind="kto",
        model_path=str(tiny_model),
        train_file=str(tmp_path / "kto.jsonl"),
        eval_file=str(tmp_path / "kto.jsonl"),
        output_dir=str(tmp_path / "run"),
        hp=Hyperparameters.from_dict({"max_steps": 2, "batch_size": 4, "max_length": 64, "save_steps": 10}),
    )
    outcome = main(config, lambda event: True)
    assert outcome.step == 2 and not outcome.cancelled
    assert outcome.evaluation["all"]["n"] == len(rows) and outcome.evaluation["all"]["parent_accuracy"] == 0.5
