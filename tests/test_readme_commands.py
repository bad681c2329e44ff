"""Every `manage.py` command the README shows works as written in a fresh shell: no venv activated, a
bare PATH with only the system's python3 (the README names `.venv/bin/python`, never a bare `python`)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(set(re.findall(r"\.venv/bin/python manage\.py ([a-z_]+)", README)))


def test_the_readme_never_asks_for_a_bare_python():
    bare = [line for line in README.splitlines() if re.search(r"(^|[`\s])python (manage\.py|-m )", line)]
    assert not bare, "README lines that need an activated venv:\n" + "\n".join(bare)


def test_the_readme_shows_commands():
    assert {"import_feedback", "export_feedback", "train", "generate_responses", "search"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_readme_command_answers_help_in_a_fresh_shell(command):
    python = ROOT / ".venv" / "bin" / "python"
    if Path(sys.executable).parent != python.parent:
        python = Path(sys.executable)  # the suite runs from another environment: use its interpreter
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    result = subprocess.run(
        [str(python), "manage.py", command, "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout
