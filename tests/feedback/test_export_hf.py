"""export_feedback --format hf: a Hugging Face dataset folder that `datasets.load_dataset` loads as is, offline,
per config and split, with a dataset card whose YAML names languages, sizes and configs; translation groups
never straddle the split; an empty test split is still written; a bad --out or a push without a token is
refused clearly; the export API's job writes the folder and the download is a .zip of it."""

import io
import json
import os
import zipfile
from collections import Counter
from dataclasses import replace

import pyarrow.parquet as pq
import pytest
import yaml
from django.core.management import CommandError, call_command

from webapp.feedback.formats.exporting import ExportSpec, export_rows
from webapp.feedback.formats.splits import in_eval_split
from webapp.feedback.models import TransferJob
from webapp.feedback.services.importing import feedback_import
from webapp.feedback.services.transfers import transfer_run

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "de", "sw", "zh-Hans")


def store_records(tmp_path) -> None:
    """Ranked tasks in four languages (each group translated into all four) and imported pairs."""
    lines = []
    for g in range(12):
        for lang in LANGUAGES:
            lines.append(
                {
                    "id": f"t-{g}-{lang}",
                    "prompt": f"Question {g} ({lang})" if g % 2 else [{"role": "user", "content": f"Q{g} {lang}"}],
                    "language": lang,
                    "group": f"g{g}",
                    "responses": [{"text": f"Answer {k} to {g} ({lang})", "model": f"m{k}"} for k in range(3)],
                    "ranking": [[g % 3], [(g + 1) % 3, (g + 2) % 3]],
                }
            )
    for i in range(20):
        lines.append(
            {
                "prompt": f"Pair prompt {i}",
                "chosen": f"good {i}",
                "rejected": f"bad {i}",
                "language": "de",
                "id": f"p{i}",
            }
        )
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    report = feedback_import(path=path)
    assert report.as_dict()["tasks_created"] == 48


def load(folder, config=None, cache=None):
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    import datasets  # noqa: PLC0415  (after the offline switches)

    return datasets.load_dataset(str(folder), config, cache_dir=str(cache or folder.parent / "hf-cache"))


def card(folder) -> tuple[dict, str]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, prose = text[4:].split("\n---\n", 1)
    return yaml.safe_load(front), prose


def expected_splits(format_name: str, fraction: float) -> dict[str, int]:
    counts = Counter(
        "test" if in_eval_split(row, fraction) else "train" for row in export_rows(ExportSpec(format_name))
    )
    return {"train": counts["train"], "test": counts["test"]}


def test_the_folder_loads_with_datasets_per_config_and_split(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0.3")
    for name in ("pairs", "dpo", "sft", "rankings"):
        loaded = load(out, None if name == "pairs" else name)
        counts = {split: loaded[split].num_rows for split in loaded}
        assert counts == expected_splits(name, 0.3), name
        assert counts["train"] and counts["test"], name  # the fraction gives both sides something
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "dpo", "pairs", "rankings", "sft"]

    pairs = load(out)["train"]
    assert set(pairs.column_names) >= {"prompt", "chosen", "rejected", "language", "id", "group", "metadata"}
    imported = next(row for row in pairs if row["id"].startswith("p"))
    assert imported["chosen"] == [{"role": "assistant", "content": imported["chosen"][0]["content"]}]
    assert imported["text_fields"] == ["prompt", "chosen", "rejected"]
    rankings = load(out, "rankings")
    task = next(row for split in rankings.values() for row in split if row["id"] == "t-1-sw")
    assert task["prompt"] == [{"role": "user", "content": "Question 1 (sw)"}] and task["text_fields"] == ["prompt"]
    assert task["rankings"][0]["ranking"] == [[1], [2, 0]]
    assert [r["model"] for r in task["responses"]] == ["m0", "m1", "m2"]


def test_the_split_never_separates_a_translation_group(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0.5")
    for name in ("pairs", "dpo", "sft", "rankings"):
        table = {split: pq.read_table(out / name / f"{split}.parquet").to_pylist() for split in ("train", "test")}
        groups = {split: {row["group"] for row in rows if row["group"]} for split, rows in table.items()}
        assert groups["train"] and groups["test"], name
        assert not groups["train"] & groups["test"], name
        # every language of a group sits with it: the four translations are on one side
        for split, rows in table.items():
            per_group = Counter(row["group"] for row in rows if row["group"])
            by_language = {(row["group"], row["language"]) for row in rows if row["group"]}
            assert all(len({lang for g, lang in by_language if g == group}) == 4 for group in per_group), (name, split)


def test_the_card_declares_languages_sizes_configs_and_names_every_column(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command(
        "export_feedback", "--format", "hf", "--out", str(out), "--license", "cc-by-4.0", "--test-fraction", "0.3"
    )
    meta, prose = card(out)
    assert meta["language"] == ["de", "en", "sw", "zh"]
    assert meta["language_details"] == ["de", "en", "sw", "zh-Hans"]
    assert meta["license"] == "cc-by-4.0"
    assert meta["size_categories"] == ["n<1K"]
    assert "text-generation" in meta["task_categories"]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert list(configs) == ["pairs", "dpo", "sft", "rankings"]
    assert configs["pairs"]["default"] is True and not any(c.get("default") for n, c in configs.items() if n != "pairs")
    for name, config in configs.items():
        files = {f["split"]: f["path"] for f in config["data_files"]}
        assert files == {"train": f"{name}/train.parquet", "test": f"{name}/test.parquet"}
        assert all((out / path).is_file() for path in files.values())
        columns = pq.read_schema(out / files["train"]).names
        section = prose.split(f"### Columns of `{name}`")[1].split("##")[0]
        assert all(f"- `{column}`:" in section for column in columns), name
    dpo = expected_splits("dpo", 0.3)
    assert f"| `dpo` | one preference pair, ready for TRL's DPOTrainer | {dpo['train']} | {dpo['test']} |" in prose
    assert "| import | pairs | 20 |" in prose and "| import | rankings |" in prose
    assert "| zh-Hans |" in prose and "best_vs_rest" in prose


def test_an_empty_test_split_is_still_written_and_the_rest_loads(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0")
    for name in ("pairs", "dpo", "sft", "rankings"):
        test = pq.read_table(out / name / "test.parquet")
        assert test.num_rows == 0 and test.schema == pq.read_schema(out / name / "train.parquet"), name
    meta, prose = card(out)
    assert all([f["split"] for f in c["data_files"]] == ["train"] for c in meta["configs"])
    assert "`sft/test.parquet`" in prose
    loaded = load(out, "sft")
    assert list(loaded) == ["train"] and loaded["train"].num_rows == expected_splits("sft", 0)["train"]


def test_only_the_formats_present_become_configs(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "language": "en"}) + "\n")
    feedback_import(path=path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0")
    meta, _prose = card(out)
    assert [c["config_name"] for c in meta["configs"]] == ["pairs", "dpo", "sft"]  # no rankings, no kto format
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "dpo", "pairs", "sft"]
    assert load(out)["train"].num_rows == 1


def test_an_export_with_no_rows_is_refused_and_writes_nothing(tmp_path):
    out = tmp_path / "empty"
    with pytest.raises(CommandError, match="holds no rows"):
        call_command("export_feedback", "--format", "hf", "--out", str(out))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder with a file", "file"])
def test_an_out_that_exists_and_is_not_an_empty_folder_is_refused(tmp_path, kind):
    out = tmp_path / "taken"
    if kind == "file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="exists and is not an empty folder"):
        call_command("export_feedback", "--format", "hf", "--out", str(out))
    assert (out.read_text() if kind == "file" else (out / "keep.txt").read_text()) == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".taken")] == []  # no temp folder left


def test_an_empty_out_folder_is_filled(tmp_path):
    store_records(tmp_path)
    out = tmp_path / "ready"
    out.mkdir()
    call_command("export_feedback", "--format", "hf", "--out", str(out))
    assert (out / "README.md").is_file() and (out / "pairs" / "train.parquet").is_file()


def test_push_to_hub_without_a_token_says_so_and_writes_nothing(tmp_path, monkeypatch):
    from huggingface_hub import constants  # noqa: PLC0415

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
    out = tmp_path / "ds"
    with pytest.raises(CommandError, match="needs a Hugging Face token.*Nothing was pushed"):
        call_command("export_feedback", "--format", "hf", "--out", str(out), "--push-to-hub", "me/feedback")
    assert not out.exists()
    with pytest.raises(CommandError, match="needs --format hf"):
        call_command("export_feedback", "--format", "dpo", "--out", str(tmp_path / "x"), "--push-to-hub", "me/x")


def test_a_bad_test_fraction_or_license_is_refused(tmp_path):
    with pytest.raises(CommandError, match="test_fraction must be a number from 0 to 0.5"):
        call_command("export_feedback", "--format", "hf", "--out", str(tmp_path / "a"), "--test-fraction", "0.9")
    with pytest.raises(CommandError, match="license must be a licence id"):
        call_command("export_feedback", "--format", "hf", "--out", str(tmp_path / "b"), "--license", "CC BY")


def test_the_parquet_files_are_written_in_row_groups(tmp_path, monkeypatch):
    from webapp.feedback.formats import hf_export  # noqa: PLC0415

    store_records(tmp_path)
    monkeypatch.setattr(hf_export, "ROW_GROUP", 5)
    out = tmp_path / "ds"
    hf_export.hf_export(spec=replace(ExportSpec("hf"), test_fraction=0.0), out=out)
    metadata = pq.ParquetFile(out / "pairs" / "train.parquet").metadata
    assert metadata.num_row_groups == -(-metadata.num_rows // 5) and metadata.num_rows > 5


def test_the_export_api_job_writes_the_folder_and_the_download_is_a_zip_of_it(api, staff, tmp_path):
    store_records(tmp_path)
    client = api(staff)
    reply = client.post("/api/v1/transfers/export/", {"format": "hf", "test_fraction": 0.3}, format="json")
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])
    job = TransferJob.objects.get(pk=reply.json()["id"])
    assert job.status == "succeeded", job.error
    assert job.result["rows"] == sum(sum(expected_splits(n, 0.3).values()) for n in ("pairs", "dpo", "sft", "rankings"))
    download = client.get(f"/api/v1/transfers/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "unzipped")
    folder = f"export-{job.pk}"
    assert f"{folder}/README.md" in names and f"{folder}/pairs/test.parquet" in names
    loaded = load(tmp_path / "unzipped" / folder, "dpo")
    assert {split: loaded[split].num_rows for split in loaded} == expected_splits("dpo", 0.3)


def test_the_export_api_refuses_a_bad_license(api, staff):
    reply = api(staff).post("/api/v1/transfers/export/", {"format": "hf", "license": "CC BY"}, format="json")
    assert reply.status_code == 400 and "license" in reply.json(), reply.content
    assert TransferJob.objects.count() == 0


def test_the_transfers_page_offers_hf_for_export_and_import(client, staff):
    client.force_login(staff)
    page = client.get("/transfers/").content.decode()
    export_form = page.split('id="export-form"')[1].split("</form>")[0]
    import_form = page.split('id="export-form"')[0]
    assert "<option>hf</option>" in export_form and "<option>hf</option>" in import_form


def test_the_test_split_is_what_a_training_job_evaluates_on(tmp_path):
    from webapp.training.data import DataSpec  # noqa: PLC0415  (the layer above: the rule they share)

    store_records(tmp_path)
    out = tmp_path / "ds"
    call_command("export_feedback", "--format", "hf", "--out", str(out), "--test-fraction", "0.3")
    training = DataSpec.from_params({"eval_fraction": 0.3})
    evaluated = {row["id"] for row in training.rows("dpo") if training.is_eval(row)}
    assert evaluated and set(pq.read_table(out / "dpo" / "test.parquet").column("id").to_pylist()) == evaluated


def test_push_to_hub_while_offline_says_so_and_writes_nothing(tmp_path, monkeypatch):
    from huggingface_hub import constants  # noqa: PLC0415

    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    out = tmp_path / "ds"
    with pytest.raises(CommandError, match="HF_HUB_OFFLINE is set. Nothing was pushed"):
        call_command("export_feedback", "--format", "hf", "--out", str(out), "--push-to-hub", "me/feedback")
    assert not out.exists()
