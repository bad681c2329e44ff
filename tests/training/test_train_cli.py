"""`manage.py train` flags built from the Hyperparameters dataclass: each field is a documented flag
with its default; values reach the job; flags beat --hp keys and unset flags leave them alone; bad
values fail naming the field. Jobs are launched with --background, so nothing trains."""

import argparse
import dataclasses
from typing import Literal

import pytest
from django.core.management import CommandError, call_command

from ml.training.cli import add_dataclass_arguments, flag_name, given_fields
from ml.training.config import Hyperparameters
from tests.training.synthetic import marker_pairs, write
from webapp.feedback.services.importing import feedback_import
from webapp.training.management.commands.train import Command
from webapp.training.models import TrainingJob

DEFAULTS = Hyperparameters().as_dict()


def help_entries(monkeypatch) -> dict[str, str]:
    """`--help` of the command as {first flag: its whole entry on one line}."""
    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping inside a help text
    entries: dict[str, str] = {}
    for line in Command().create_parser("manage.py", "train").format_help().splitlines():
        if line.startswith("  -"):
            flag = line.split()[0].rstrip(",")
            entries[flag] = line
        elif line.startswith("    ") and entries:
            entries[flag] += " " + line.strip()
    return entries


def test_every_field_is_a_flag_with_its_help_and_default(monkeypatch):
    entries = help_entries(monkeypatch)
    for item in dataclasses.fields(Hyperparameters):
        line = entries[flag_name(item.name)]
        default = DEFAULTS[item.name]
        shown = " ".join(default) if isinstance(default, list) else str(default)
        assert item.metadata["help"] in line and f"(default: {shown})" in line, line


@pytest.fixture
def launch(tiny_variants, tmp_path):
    """Run the command with --background and return the hyperparameters the queued job got."""
    feedback_import(path=write(tmp_path / "pairs.jsonl", marker_pairs(20, seed=5)))

    def run(*flags: str) -> dict:
        call_command("train", "--kind", "dpo", "--parent", "tiny-base", "--background", *flags)
        return TrainingJob.objects.latest("pk").hyperparameters

    return run


@pytest.mark.django_db
def test_flags_reach_the_job(launch):
    hp = launch("--learning-rate", "1e-4", "--max_steps", "7", "--lora-targets", "q_proj", "v_proj")
    assert hp == {**DEFAULTS, "learning_rate": 1e-4, "max_steps": 7, "lora_targets": ["q_proj", "v_proj"]}


@pytest.mark.django_db
def test_hp_json_still_works_and_unset_flags_leave_its_keys(launch):
    hp = launch("--hp", '{"beta": 0.3, "max_steps": 9}', "--seed", "1")
    assert hp == {**DEFAULTS, "beta": 0.3, "max_steps": 9, "seed": 1}


@pytest.mark.django_db
def test_a_flag_beats_the_same_key_in_hp(launch):
    hp = launch("--hp", '{"beta": 0.3, "max_steps": 9}', "--beta", "0.7")
    assert hp["beta"] == 0.7 and hp["max_steps"] == 9


@pytest.mark.parametrize(
    "flags,field",
    [
        (["--learning-rate", "abc"], "learning_rate"),
        (["--max-steps", "2.5"], "max_steps"),
        (["--learning-rate", "-1"], "learning_rate"),
        (["--batch-size", "0"], "batch_size"),
        (["--loss-type", "nope"], "loss_type"),
        (["--hp", '{"warp": 9}'], "warp"),
        (["--hp", '{"lora_r": "big"}'], "lora_r"),
        (["--hp", '{"beta": -1}', "--lora-r", "8"], "beta"),
    ],
)
def test_bad_values_fail_naming_the_field(flags, field):
    with pytest.raises(CommandError, match=field):
        call_command("train", "--kind", "dpo", "--parent", "tiny-base", *flags)
    # no database access happened: these fail before the parent is looked up


def test_hp_must_be_a_json_object():
    with pytest.raises(CommandError, match="JSON object"):
        call_command("train", "--kind", "dpo", "--parent", "tiny-base", "--hp", "[1]")


@dataclasses.dataclass
class Example:
    """Types Hyperparameters does not use yet, so the builder is ready when it does."""

    flag: bool = dataclasses.field(default=False, metadata={"help": "a switch"})
    cap: int | None = dataclasses.field(default=None, metadata={"help": "an optional limit"})
    mode: Literal["a", "b"] = dataclasses.field(default="a", metadata={"help": "which mode, 100% sure"})
    sizes: list[int] = dataclasses.field(default_factory=lambda: [1, 2], metadata={"help": "sizes"})


def parse(*argv: str) -> dict:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_dataclass_arguments(parser, Example)
    return given_fields(vars(parser.parse_args(argv)), Example)


def test_other_types_parse_and_unset_flags_are_absent():
    assert parse() == {}
    assert parse("--flag", "--cap", "3", "--mode", "b", "--sizes", "4", "5") == {
        "flag": True,
        "cap": 3,
        "mode": "b",
        "sizes": [4, 5],
    }
    assert parse("--no-flag", "--cap", "none") == {"flag": False, "cap": None}
    with pytest.raises(argparse.ArgumentError, match="sizes: expected int"):
        parse("--sizes", "x")


def test_help_for_other_types_shows_defaults():
    parser = argparse.ArgumentParser(formatter_class=lambda prog: argparse.HelpFormatter(prog, width=1000))
    add_dataclass_arguments(parser, Example)
    text = parser.format_help()
    assert "--flag, --no-flag" in text and "a switch (default: False)" in text
    assert "an optional limit (default: none)" in text and "100% sure (default: a)" in text
    assert "{a,b}" in text and "sizes (default: 1 2)" in text


@pytest.mark.django_db
def test_train_kind_kto_queues_a_kto_job_counting_labelled_answers(tiny_variants, arena_votes, capsys):
    call_command("train", "--kind", "kto", "--parent", "tiny-base", "--kto-sources", "arena", "--background")
    job = TrainingJob.objects.latest("pk")
    assert job.kind == "kto" and job.data_spec["kto_sources"] == ["arena"]
    out = capsys.readouterr().out
    assert "held-out labelled answers" in out
    counted = job.data_summary["preview"]
    assert counted["train_pairs"] + counted["eval_pairs"] == 2 * len(arena_votes)  # a winner and a loser per vote


@pytest.mark.django_db
@pytest.mark.parametrize(
    "flags,message",
    [
        (("--kind", "kto", "--batch-size", "1"), "hyperparameters.batch_size: must be at least 2"),
        (("--kind", "kto", "--kto-sources", "arena,nope"), "unknown KTO source(s) nope"),
        (("--kind", "dpo", "--kto-sources", "arena"), "--kto-sources needs --kind kto"),
    ],
)
def test_train_refuses_what_kto_cannot_use(tiny_variants, flags, message):
    with pytest.raises(CommandError) as info:
        call_command("train", "--parent", "tiny-base", "--background", *flags)
    assert message in str(info.value)
    assert not TrainingJob.objects.exists()
