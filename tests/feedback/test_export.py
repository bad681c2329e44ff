"""export_feedback: round trips, the four formats, filters, and TRL loading the dpo export as is."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.formats.exporting import ExportSpec, export_rows, feedback_export
from webapp.feedback.formats.pairs import PairPolicy, pair_id
from webapp.feedback.services.assignment import annotation_submit
from webapp.feedback.services.importing import feedback_import

pytestmark = pytest.mark.django_db

PAIRS = [
    {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "language": "en", "id": "p-1"},
    {
        "prompt": [{"role": "system", "content": "Sé breve."}, {"role": "user", "content": "¿Capital de Perú?"}],
        "chosen": [{"role": "assistant", "content": "Lima."}],
        "rejected": [{"role": "assistant", "content": "Cusco."}],
        "language": "es",
        "id": "p-2",
        "group": "capitals",
        "source": "vendor-x",
        "prompt_id": "q-9",
        "agreement": 0.8,
        "metadata": {"batch": 3},
    },
    {"prompt": "اكتب تحية", "chosen": "السلام عليكم 👋", "rejected": "hello", "language": "ar", "group": "greet"},
    {"prompt": "日本の首都は？", "chosen": "東京です。", "rejected": "大阪です。", "language": "ja"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pairs_round_trip_exactly(tmp_path):
    feedback_import(path=write_jsonl(tmp_path / "in.jsonl", PAIRS))
    out = tmp_path / "out.jsonl"
    call_command("export_feedback", "--format", "pairs", "--out", str(out))
    exported = read_jsonl(out)
    assert len(exported) == len(PAIRS)
    for original, back in zip(PAIRS, exported, strict=True):
        for key in ("prompt", "chosen", "rejected", "language", "group", "prompt_id", "agreement", "metadata"):
            assert back.get(key) == original.get(key), key
        assert back["source"] == original.get("source", "import")
        if "id" in original:
            assert back["id"] == original["id"]
    # ... and importing the export again changes nothing.
    again = feedback_import(path=out)
    assert again.pairs_created == 0 and again.pairs_unchanged == len(PAIRS)


def test_rankings_round_trip(tmp_path):
    line = {
        "id": "t-1",
        "prompt": "Bonjour ?",
        "language": "fr",
        "group": "hello",
        "campaign": "Imported",
        "responses": [{"text": "Salut !"}, {"text": "Hi", "model": "m-2", "id": "r-2"}],
        "rankings": [
            {"annotator": "ana", "ranking": [[0], [1]], "rationale": "français"},
            {"annotator": "bo", "ranking": [[0, 1]], "flags": ["all_bad"]},
        ],
    }
    feedback_import(path=write_jsonl(tmp_path / "in.jsonl", [line]))
    out = tmp_path / "out.jsonl"
    feedback_export(spec=ExportSpec(format="rankings"), out=out)
    assert read_jsonl(out) == [line]
    assert feedback_import(path=out).tasks_unchanged == 1


def annotate(task, users_rankings):
    for user, ranking in users_rankings:
        annotation_submit(user=user, task_id=task.pk, ranking=ranking)


def test_derived_pairs_use_stable_ids_and_the_dpo_and_sft_forms(annotator, annotator2):
    _, [task] = campaign_with_tasks(n_tasks=1, overlap=2)
    annotate(task, [(annotator, [[1], [0], [2]]), (annotator2, [[1], [0, 2]])])
    responses = [item.response for item in task.items.all()]
    rows = list(export_rows(ExportSpec(format="dpo", sources=("annotation",))))
    assert [r["id"] for r in rows] == [pair_id(task.pk, responses[1].pk, responses[k].pk) for k in (0, 2)]
    assert rows[0]["prompt"] == [{"role": "user", "content": "Question 0 in en"}]
    assert rows[0]["chosen"] == [{"role": "assistant", "content": responses[1].text}]
    assert rows[0]["agreement"] == 1.0
    sft = list(export_rows(ExportSpec(format="sft", sources=("annotation",))))
    assert [r["completion"][0]["content"] for r in sft] == [responses[1].text]
    all_pairs = list(export_rows(ExportSpec(format="pairs", policy=PairPolicy(expansion="all"))))
    assert {(r["chosen"], r["rejected"]) for r in all_pairs} >= {(responses[0].text, responses[2].text)}


def test_filters_by_language_and_source(tmp_path, annotator):
    feedback_import(path=write_jsonl(tmp_path / "in.jsonl", PAIRS))
    _, [task] = campaign_with_tasks(n_tasks=1)
    annotate(task, [(annotator, [[0], [1], [2]])])
    assert {r["language"] for r in export_rows(ExportSpec(languages=("es", "ja")))} == {"es", "ja"}
    assert {r["source"] for r in export_rows(ExportSpec(sources=("annotation",)))} == {"annotation"}
    assert len(list(export_rows(ExportSpec(sources=("import",))))) == len(PAIRS)


def test_export_refuses_bad_flags_with_a_message(tmp_path):
    with pytest.raises(CommandError, match="min_agreement"):
        call_command("export_feedback", "--out", str(tmp_path / "x.jsonl"), "--min-agreement", "0.2")
    with pytest.raises(CommandError, match="BCP-47"):
        call_command("export_feedback", "--out", str(tmp_path / "x.jsonl"), "--language", "??")


@pytest.mark.slow
def test_the_dpo_export_trains_in_trl_as_it_is(tmp_path, annotator, annotator2, tiny_model):
    """datasets.load_dataset("json") + DPOTrainer on the file, unchanged, for two steps."""
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    feedback_import(path=write_jsonl(tmp_path / "in.jsonl", PAIRS))
    _, tasks = campaign_with_tasks(n_tasks=2)
    for task in tasks:
        annotate(task, [(annotator, [[0], [1], [2]]), (annotator2, [[0], [2], [1]])])
    out = tmp_path / "dpo.jsonl"
    count = feedback_export(spec=ExportSpec(format="dpo"), out=out)
    dataset = load_dataset("json", data_files=str(out), split="train")
    assert len(dataset) == count >= 6
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    args = DPOConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        per_device_train_batch_size=2,
        report_to=[],
        bf16=False,
        gradient_checkpointing=False,
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
        max_length=128,
    )
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 2
    assert any("rewards/accuracies" in entry for entry in trainer.state.log_history)


def test_a_time_window_selects_annotations_and_records_made_inside_it(tmp_path, annotator):
    from datetime import timedelta

    from django.utils import timezone

    feedback_import(path=write_jsonl(tmp_path / "in.jsonl", PAIRS[:1]))
    _, [task] = campaign_with_tasks(n_tasks=1)
    annotate(task, [(annotator, [[0], [1], [2]])])
    today = timezone.now().date()
    inside = ExportSpec.from_params({"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))})
    after = ExportSpec.from_params({"since": str(today + timedelta(days=1))})
    assert {r["source"] for r in export_rows(inside)} == {"annotation", "import"}
    assert list(export_rows(after)) == []
    with pytest.raises(Exception, match="ISO 8601"):
        ExportSpec.from_params({"since": "last tuesday"})


TRICKY = 'q"uote b\\ack \\n \n t\t r\r b\b f\f \x01 \x1f \x7f \u2028 \u200f שלום 日本 👋🏽 C:\\'


def lines_of(path):
    """JSON Lines split on newlines only (str.splitlines also splits at U+2028 and other separators)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]


@pytest.mark.services
def test_the_record_lines_the_database_builds_are_the_python_lines_byte_for_byte(tmp_path, monkeypatch):
    """On PostgreSQL the pairs export's record lines come out of one COPY, built in SQL; on any database they must
    be exactly the lines Python builds (and read back as the rows `export_rows` gives): escapes of every kind,
    right-to-left, CJK and emoji text, chat prompts, every optional key present and absent, each source, and
    floats as Python writes them."""
    from django.db import connection

    from webapp.feedback.formats import exporting
    from webapp.feedback.models import Language, PreferenceRecord

    agreements = [None, 0, 1, 0.1, 1 / 3, 1e-05, 0.0001, 2.5e-07, -0.0, 0.5]
    lines = []
    for i, agreement in enumerate(agreements):
        line = {
            "prompt": f"{TRICKY} {i}" if i % 2 else [{"role": "user", "content": f"{TRICKY} {i}"}],
            "chosen": f"chosen {TRICKY} {i}",
            "rejected": [{"role": "assistant", "content": f"rejected \\ {i}"}] if i % 3 else f"rejected {i}",
            "language": ("he", "zh-Hans", "en")[i % 3],
        }
        if agreement is not None:
            line["agreement"] = agreement
        if i % 2:
            line |= {"id": f"id-{TRICKY}-{i}", "group": f'g"{i}\\', "prompt_id": f"p\t{i}"}
        if i % 4 == 1:
            line["source"] = f'vendor "{i}" \\'
        if i % 4 == 2:
            line["metadata"] = {"b": [1.0, 1e-05, 10**20, True, None], "a": {"ש": TRICKY}, "zz": 2.5, "": ""}
        lines.append(line)
    feedback_import(path=write_jsonl(tmp_path / "in.jsonl", lines))
    english = Language.objects.get(code="en")

    def record(external_id: str, outcome: str, source: str, b: str) -> None:
        PreferenceRecord.objects.create(
            **{"external_id": external_id, "content_hash": external_id, "outcome": outcome, "source": source},
            **{"prompt": TRICKY, "prompt_text": TRICKY, "response_a": "a", "response_b": b, "language": english},
            origin="local",
        )

    record("arena-0", "b", "arena", f"b {TRICKY}")
    record("edit-1", "b", "edit", f"b {TRICKY}")
    record("tie", "tie", "import", "b")  # a tie is no pair
    spec = ExportSpec(format="pairs")
    built, python = tmp_path / "built.jsonl", tmp_path / "python.jsonl"
    copied = []
    copy_lines = exporting._record_lines_copy
    monkeypatch.setattr(exporting, "_record_lines_copy", lambda records: copied.append(1) or copy_lines(records))
    assert feedback_export(spec=spec, out=built) == len(lines) + 2
    assert bool(copied) == (connection.vendor == "postgresql")  # the database built them where it can
    monkeypatch.setattr(exporting, "COPY_RECORD_LINES", False)
    assert feedback_export(spec=spec, out=python) == len(lines) + 2
    assert built.read_bytes() == python.read_bytes()
    assert lines_of(built) == [json.loads(json.dumps(row)) for row in export_rows(spec)]
    swapped = lines_of(built)[-1]
    assert (swapped["chosen"], swapped["rejected"], swapped["source"]) == (f"b {TRICKY}", "a", "edit")
    by_id = {row["id"]: row for row in lines_of(built)}
    assert by_id[f"id-{TRICKY}-1"]["source"] == 'vendor "1" \\'
    assert by_id[f"id-{TRICKY}-3"]["source"] == "import"
